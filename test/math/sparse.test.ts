import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/math/rng.js';
import { loadNativeBlas } from '../../src/math/native.js';
import { setSpmmBackend, setSpmmThreads, spmmBackend, spmmRows, spmmRowsTs } from '../../src/math/sparse.js';
import { sparseLinearBackward, sparseLinearForward, type SparseRows } from '../../src/nn/layers.js';
import { skipOrFailOnCi } from '../helpers/ci.js';

function randomRows(rng: Rng, n: number, nFeat: number, density: number, withValues: boolean): SparseRows {
  const indptr = new Int32Array(n + 1);
  const idx: number[] = [];
  const vals: number[] = [];
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < nFeat; j++)
      if (rng.nextFloat() < density) {
        idx.push(j);
        vals.push(rng.normal());
      }
    indptr[r + 1] = idx.length;
  }
  return { n, indptr, indices: Int32Array.from(idx), ...(withValues ? { values: Float32Array.from(vals) } : {}) };
}

/** Dense reference in float64. */
function dense(x: SparseRows, W: Float32Array, outF: number): Float64Array {
  const y = new Float64Array(x.n * outF);
  for (let r = 0; r < x.n; r++) {
    for (let q = x.indptr[r]!; q < x.indptr[r + 1]!; q++) {
      const v = x.values ? x.values[q]! : 1,
        j = x.indices[q]!;
      for (let c = 0; c < outF; c++) y[r * outF + c]! += v * W[j * outF + c]!;
    }
  }
  return y;
}

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < a.length; i++) {
    if (Math.abs(a[i]! - b[i]!) > tol * (1 + Math.abs(b[i]!))) assert.fail(`${what}: index ${i}: ${a[i]} vs ${b[i]}`);
  }
}

const hasNative = (() => {
  const l = loadNativeBlas();
  return l.ok && typeof l.blas.spmmRows === 'function';
})();

test('spmmRows TypeScript = dense reference (forward, mapped accumulate), odd widths', () => {
  const rng = new Rng(3);
  for (const outF of [1, 7, 8, 33, 70]) {
    for (const wv of [false, true]) {
      const x = randomRows(rng, 9, 13, 0.3, wv);
      const W = new Float32Array(13 * outF).map(() => rng.normal());
      const y = spmmRowsTs(x, W, 13, outF, new Float32Array(9 * outF), undefined, false);
      close(y, dense(x, W, outF), 1e-5, `ts outF ${outF}`);
      // mapped + accumulate: rows written to map[k], added to what is there
      const map = Int32Array.from([10, 0, 5, 3, 7, 1, 2, 8, 4]);
      const dst = new Float32Array(11 * outF).fill(1);
      spmmRowsTs(x, W, 13, outF, dst, map, true);
      for (let k = 0; k < 9; k++)
        close(
          dst.subarray(map[k]! * outF, (map[k]! + 1) * outF),
          Array.from(y.subarray(k * outF, (k + 1) * outF), (v) => v + 1),
          1e-5,
          'mapped',
        );
      close(dst.subarray(6 * outF, 7 * outF), new Float32Array(outF).fill(1), 0, 'untouched row 6');
    }
  }
});

test('native spmmRows (2 threads) agrees with the TypeScript kernel', (t) => {
  if (!hasNative) {
    skipOrFailOnCi(t, 'native binding without spmmRows (npm run build:native)');
    return;
  }
  const rng = new Rng(11);
  try {
    for (const [n, nFeat, density, outF] of [
      [300, 500, 0.05, 256],
      [64, 40, 0.5, 37],
      [1, 10, 0.5, 64],
      [5, 3000, 0.02, 96],
    ] as const) {
      for (const wv of [false, true]) {
        const x = randomRows(rng, n, nFeat, density, wv);
        const W = new Float32Array(nFeat * outF).map(() => rng.normal());
        setSpmmBackend('typescript');
        const a = spmmRows(x, W, nFeat, outF, new Float32Array(n * outF));
        setSpmmBackend('native');
        setSpmmThreads(2);
        assert.equal(spmmBackend().name, 'native');
        const b = spmmRows(x, W, nFeat, outF, new Float32Array(n * outF));
        close(b, a, 1e-5, `forward n ${n} outF ${outF}`);
        // backward through the layer: native and TypeScript scatter-add agree
        const dy = new Float32Array(n * outF).map(() => rng.normal());
        const g1 = new Float32Array(nFeat * outF).fill(0.5),
          g2 = g1.slice();
        sparseLinearBackward(x, dy, outF, g1, undefined);
        setSpmmBackend('typescript');
        sparseLinearBackward(x, dy, outF, g2, undefined);
        close(g1, g2, 1e-5, `backward n ${n} outF ${outF}`);
        // forward through the layer with bias
        const bias = new Float32Array(outF).map(() => rng.normal());
        const y2 = sparseLinearForward(x, W, outF, bias, new Float32Array(n * outF));
        setSpmmBackend('native');
        const y1 = sparseLinearForward(x, W, outF, bias, new Float32Array(n * outF));
        close(y1, y2, 1e-5, 'layer forward');
      }
    }
  } finally {
    setSpmmBackend('native');
  }
});

test('native spmmRows rejects out-of-range input instead of reading past buffers', (t) => {
  if (!hasNative) {
    skipOrFailOnCi(t, 'native binding without spmmRows (npm run build:native)');
    return;
  }
  setSpmmBackend('native');
  const x = { n: 1, indptr: Int32Array.from([0, 1]), indices: Int32Array.from([5]) };
  assert.throws(() => spmmRows(x, new Float32Array(4 * 2), 4, 2, new Float32Array(2)), /out of range/);
  const y = { n: 2, indptr: Int32Array.from([0, 1, 2]), indices: Int32Array.from([0, 1]) };
  assert.throws(() => spmmRows(y, new Float32Array(4 * 2), 4, 2, new Float32Array(2)), /more rows|too small/);
  assert.throws(
    () => spmmRows(x, new Float32Array(4 * 2), 4, 2, new Float32Array(4), { map: Int32Array.from([2]) }),
    /RangeError|out of range/,
  );
  assert.throws(
    () => spmmRowsTs(x, new Float32Array(4 * 2), 4, 2, new Float32Array(2), undefined, false),
    /out of range/,
  );
});

test('row-selected views and the transposed product: native = TypeScript = dense', (t) => {
  const rng = new Rng(5);
  const full = randomRows(rng, 40, 70, 0.2, false);
  const rows = Int32Array.from([3, 0, 39, 3, 17, 22, 8]);
  const view = { n: rows.length, indptr: full.indptr, indices: full.indices, rows };
  const outF = 72;
  const W = new Float32Array(70 * outF).map(() => rng.normal());
  // reference: gather the rows, then dense
  const gathered: SparseRows = (() => {
    const ip = new Int32Array(rows.length + 1);
    const ix: number[] = [];
    rows.forEach((r, k) => {
      for (let q = full.indptr[r]!; q < full.indptr[r + 1]!; q++) ix.push(full.indices[q]!);
      ip[k + 1] = ix.length;
    });
    return { n: rows.length, indptr: ip, indices: Int32Array.from(ix) };
  })();
  const ref = dense(gathered, W, outF);
  const dy = new Float32Array(rows.length * outF).map(() => rng.normal());
  const refT = new Float64Array(70 * outF);
  for (let k = 0; k < gathered.n; k++)
    for (let q = gathered.indptr[k]!; q < gathered.indptr[k + 1]!; q++) {
      for (let c = 0; c < outF; c++) refT[gathered.indices[q]! * outF + c]! += dy[k * outF + c]!;
    }
  const backends: ('typescript' | 'native')[] = hasNative ? ['typescript', 'native'] : ['typescript'];
  if (!hasNative) t.diagnostic('native spmmRows unavailable: TypeScript only');
  try {
    for (const b of backends) {
      setSpmmBackend(b);
      close(spmmRows(view, W, 70, outF, new Float32Array(rows.length * outF)), ref, 1e-5, `${b} view forward`);
      const dW = new Float32Array(70 * outF);
      sparseLinearBackward(view, dy, outF, dW, undefined);
      close(dW, refT, 1e-5, `${b} view backward`);
      const dW2 = new Float32Array(70 * outF);
      sparseLinearBackward(gathered, dy, outF, dW2, undefined);
      close(dW2, refT, 1e-5, `${b} gathered backward`);
    }
  } finally {
    if (hasNative) setSpmmBackend('native');
  }
});
