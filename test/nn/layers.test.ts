import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/math/rng.js';
import { formatGradCheck, gradCheck, type GradCheckParam } from '../../src/nn/gradcheck.js';
import {
  checkSizes,
  dropoutBackward,
  dropoutForward,
  gatherCsrRows,
  l2NormalizeRowsBackward,
  l2NormalizeRowsForward,
  linearBackward,
  linearForward,
  Mlp,
  reluBackward,
  reluForward,
  sigmoidBackward,
  sigmoidForward,
  sparseLinearBackward,
  sparseLinearForward,
  tanhBackward,
  tanhForward,
  transposeSparse,
  type SparseRows,
} from '../../src/nn/layers.js';
import { UserError } from '../../src/util/errors.js';

function randArray(n: number, rng: Rng, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = scale * rng.normal();
  return a;
}

function param(name: string, value: Float32Array): GradCheckParam & { value: Float32Array; grad: Float32Array } {
  return { name, value, grad: new Float32Array(value.length) };
}

/** Σ c·y in float64: a generic scalar loss whose d/dy is c. */
function weighted(y: Float32Array, c: Float32Array): number {
  let s = 0;
  for (let i = 0; i < c.length; i++) s += c[i]! * y[i]!;
  return s;
}

test('linear forward: x·Wᵀ + b against a hand computation', () => {
  const x = new Float32Array([1, 2, 3, -1, 0, 2]); // 2×3
  const W = new Float32Array([1, 0, -1, 2, 1, 0.5]); // 2×3 (out×in)
  const b = new Float32Array([0.5, -1]);
  const y = linearForward(x, 2, 3, W, b, 2, new Float32Array(4));
  assert.deepEqual([...y], [1 - 3 + 0.5, 2 + 2 + 1.5 - 1, -1 - 2 + 0.5, -2 + 0 + 1 - 1]);
});

test('linear backward passes the finite-difference check (weights, bias, input)', () => {
  const rng = new Rng(1);
  const n = 5,
    inF = 4,
    outF = 3;
  const x = param('x', randArray(n * inF, rng)),
    W = param('W', randArray(outF * inF, rng)),
    b = param('b', randArray(outF, rng));
  const c = randArray(n * outF, rng);
  const y = new Float32Array(n * outF);
  const r = gradCheck(
    [x, W, b],
    () => weighted(linearForward(x.value, n, inF, W.value, b.value, outF, y), c),
    () => {
      linearForward(x.value, n, inF, W.value, b.value, outF, y);
      const dx = new Float32Array(n * inF);
      linearBackward(x.value, c, n, inF, outF, W.value, W.grad, b.grad, dx);
      x.grad.set(dx);
    },
    { h: 1e-2, rtol: 1e-3, atol: 1e-4 },
  );
  assert.ok(r.ok, formatGradCheck(r));
  assert.equal(r.checked, n * inF + outF * inF + outF);
});

test('sparse linear = dense linear on the same rows; backward passes the gradient check', () => {
  const rng = new Rng(2);
  const nFeat = 7,
    outF = 11; // 11 = one 8-block + 3 tail columns
  const rows: SparseRows = {
    n: 4,
    indptr: new Int32Array([0, 3, 3, 5, 8]),
    indices: new Int32Array([0, 2, 6, 1, 2, 2, 3, 4]),
    values: new Float32Array([1, 0.5, 2, -1, 1, 0.25, 1, 3]),
  };
  const Wt = param('Wt', randArray(nFeat * outF, rng)),
    b = param('b', randArray(outF, rng));
  const y = sparseLinearForward(rows, Wt.value, outF, b.value, new Float32Array(4 * outF));
  // dense reference: X [4×7], W = Wtᵀ
  const X = new Float32Array(4 * nFeat);
  for (let r = 0; r < 4; r++)
    for (let q = rows.indptr[r]!; q < rows.indptr[r + 1]!; q++) X[r * nFeat + rows.indices[q]!] = rows.values![q]!;
  const W = new Float32Array(outF * nFeat);
  for (let j = 0; j < nFeat; j++) for (let o = 0; o < outF; o++) W[o * nFeat + j] = Wt.value[j * outF + o]!;
  const yd = linearForward(X, 4, nFeat, W, b.value, outF, new Float32Array(4 * outF));
  for (let i = 0; i < y.length; i++) assert.ok(Math.abs(y[i]! - yd[i]!) < 1e-5, `${i}: ${y[i]} vs ${yd[i]}`);
  // the empty row gives exactly the bias
  assert.deepEqual(Array.from(y.subarray(outF, 2 * outF)), Array.from(b.value));
  const c = randArray(4 * outF, rng);
  const buf = new Float32Array(4 * outF);
  const r = gradCheck(
    [Wt, b],
    () => weighted(sparseLinearForward(rows, Wt.value, outF, b.value, buf), c),
    () => {
      sparseLinearBackward(rows, c, outF, Wt.grad, b.grad);
    },
    { h: 1e-2, rtol: 1e-3, atol: 1e-4 },
  );
  assert.ok(r.ok, formatGradCheck(r));
  // features 5 (never used) get no gradient
  for (let o = 0; o < outF; o++) assert.equal(Wt.grad[5 * outF + o], 0);
});

test('0/1 rows (no values) gather-sum; transpose and CSR row gathering', () => {
  const csr = { nRows: 3, nCols: 4, indptr: new Int32Array([0, 2, 2, 4]), indices: new Int32Array([1, 3, 0, 3]) };
  const x = gatherCsrRows(csr, new Int32Array([2, 0, 1, 2]));
  assert.deepEqual([...x.indptr], [0, 2, 4, 4, 6]);
  assert.deepEqual([...x.indices], [0, 3, 1, 3, 0, 3]);
  const Wt = new Float32Array([1, 10, 2, 20, 3, 30, 4, 40]); // 4 features × 2
  const y = sparseLinearForward(x, Wt, 2, undefined, new Float32Array(8));
  assert.deepEqual([...y], [5, 50, 6, 60, 0, 0, 5, 50]);
  const t = transposeSparse(x, 4);
  assert.deepEqual([...t.features], [0, 1, 3]);
  assert.deepEqual([...t.indptr], [0, 2, 3, 6]);
  assert.deepEqual([...t.indices], [0, 3, 1, 0, 1, 3]);
  const dWt = new Float32Array(8);
  sparseLinearBackward(x, new Float32Array([1, 0, 0, 1, 5, 5, 2, 2]), 2, dWt, undefined);
  assert.deepEqual([...dWt], [3, 2, 0, 1, 0, 0, 3, 3]);
  assert.throws(() => gatherCsrRows(csr, new Int32Array([3])), RangeError);
});

test('ReLU, tanh, sigmoid: values and finite-difference gradients', () => {
  const rng = new Rng(3);
  const n = 40;
  const x = param('x', randArray(n, rng, 2));
  // keep ReLU inputs away from the kink
  for (let i = 0; i < n; i++) if (Math.abs(x.value[i]!) < 0.05) x.value[i] = 0.3;
  const c = randArray(n, rng);
  assert.deepEqual([...reluForward(new Float32Array([-1, 0, 2]), new Float32Array(3))], [0, 0, 2]);
  assert.ok(Math.abs(sigmoidForward(new Float32Array([0]), new Float32Array(1))[0]! - 0.5) < 1e-7);
  assert.equal(sigmoidForward(new Float32Array([-1000]), new Float32Array(1))[0], 0);
  assert.ok(Math.abs(tanhForward(new Float32Array([1]), new Float32Array(1))[0]! - Math.tanh(1)) < 1e-7);
  const cases: [
    string,
    (a: Float32Array, b: Float32Array) => Float32Array,
    (y: Float32Array, dy: Float32Array, dx: Float32Array) => Float32Array,
  ][] = [
    ['relu', reluForward, reluBackward],
    ['tanh', tanhForward, tanhBackward],
    ['sigmoid', sigmoidForward, sigmoidBackward],
  ];
  for (const [name, fwd, bwd] of cases) {
    const y = new Float32Array(n);
    const r = gradCheck(
      [x],
      () => weighted(fwd(x.value, y), c),
      () => {
        fwd(x.value, y);
        bwd(y, c, x.grad);
      },
      { h: 1e-3, rtol: 2e-3, atol: 1e-4 },
    );
    assert.ok(r.ok, `${name}: ${formatGradCheck(r)}`);
  }
});

test('dropout: seeded, inverted scaling, gradient through the mask', () => {
  const n = 20000;
  const x = new Float32Array(n).fill(2);
  const mask = new Float32Array(n),
    y = new Float32Array(n);
  dropoutForward(x, 0.5, new Rng(7), mask, y);
  let kept = 0;
  for (let i = 0; i < n; i++) {
    assert.ok(y[i] === 0 || y[i] === 4);
    if (y[i] === 4) kept++;
  }
  assert.ok(Math.abs(kept / n - 0.5) < 0.02, `kept ${kept / n}`);
  // seeded: same seed, same mask
  const y2 = dropoutForward(x, 0.5, new Rng(7), new Float32Array(n), new Float32Array(n));
  assert.deepEqual(y2, y);
  // p = 0 is the identity
  assert.deepEqual(dropoutForward(x, 0, new Rng(1), new Float32Array(n), new Float32Array(n)), x);
  // gradient: with the mask fixed, dropout is linear
  const rng = new Rng(8);
  const xs = { name: 'x', value: randArray(30, rng), grad: new Float32Array(30) };
  const m = new Float32Array(30),
    ys = new Float32Array(30);
  dropoutForward(xs.value, 0.3, new Rng(9), m, ys);
  const c = randArray(30, rng);
  const r = gradCheck(
    [xs],
    () => {
      let s = 0;
      for (let i = 0; i < 30; i++) s += c[i]! * xs.value[i]! * m[i]!;
      return s;
    },
    () => {
      dropoutBackward(m, c, xs.grad);
    },
    { h: 1e-2, rtol: 1e-3, atol: 1e-5 },
  );
  assert.ok(r.ok, formatGradCheck(r));
  assert.throws(() => dropoutForward(x, 1.5, new Rng(1), mask, y), RangeError);
});

test('L2 row normalisation: unit rows, zero row stays zero, gradient check', () => {
  const x = new Float32Array([3, 4, 0, 0, 0, 0, 1, 1, 1]);
  const norms = new Float64Array(3);
  const y = l2NormalizeRowsForward(x, 3, 3, new Float32Array(9), norms);
  assert.deepEqual(
    [...y.subarray(0, 3)].map((v) => +v.toFixed(6)),
    [0.6, 0.8, 0],
  );
  assert.deepEqual([...y.subarray(3, 6)], [0, 0, 0]);
  assert.ok(Math.abs(y[6]! - 1 / Math.sqrt(3)) < 1e-7);
  const rng = new Rng(4);
  const n = 4,
    m = 5;
  const xp = param('x', randArray(n * m, rng));
  const c = randArray(n * m, rng);
  const buf = new Float32Array(n * m),
    nb = new Float64Array(n);
  const r = gradCheck(
    [xp],
    () => weighted(l2NormalizeRowsForward(xp.value, n, m, buf, nb), c),
    () => {
      l2NormalizeRowsForward(xp.value, n, m, buf, nb);
      l2NormalizeRowsBackward(buf, c, n, m, nb, xp.grad);
    },
    { h: 1e-3, rtol: 2e-3, atol: 1e-4 },
  );
  assert.ok(r.ok, formatGradCheck(r));
});

test('Mlp (linear → ReLU per layer) forward/backward gradient check; names; predict = forward', () => {
  const rng = new Rng(5);
  const mlp = new Mlp([4, 6, 3], ['tanh', 'relu'], (i) => `fc.mlp_layers.${3 * i + 1}`, false);
  assert.deepEqual(
    mlp.parameters().map((p) => [p.name, p.shape]),
    [
      ['fc.mlp_layers.1.weight', [6, 4]],
      ['fc.mlp_layers.1.bias', [6]],
      ['fc.mlp_layers.4.weight', [3, 6]],
      ['fc.mlp_layers.4.bias', [3]],
    ],
  );
  for (const p of mlp.parameters()) p.value.set(randArray(p.value.length, rng, 0.8));
  const n = 5;
  const x = param('x', randArray(n * 4, rng));
  const c = randArray(n * 3, rng);
  const pred = mlp.predict(x.value, n).slice();
  assert.deepEqual(mlp.forward(x.value, n), pred);
  const r = gradCheck(
    [...mlp.parameters(), x],
    () => weighted(mlp.predict(x.value, n), c),
    () => {
      mlp.forward(x.value, n);
      const dx = mlp.backward(c.slice(), true)!;
      x.grad.set(dx);
    },
    { h: 1e-3, rtol: 5e-3, atol: 2e-4 },
  );
  assert.ok(r.ok, formatGradCheck(r));
});

test('layer sizes must be positive integers (UserError)', () => {
  assert.deepEqual(checkSizes('hidden', [256, 128]), [256, 128]);
  assert.throws(() => checkSizes('hidden', []), UserError);
  assert.throws(() => checkSizes('hidden', [256, 0]), UserError);
  assert.throws(() => checkSizes('hidden', [1.5]), UserError);
  assert.throws(() => checkSizes('hidden', 'abc'), UserError);
});
