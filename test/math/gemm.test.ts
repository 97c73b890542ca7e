/**
 * The GEMM seam: both backends against a naive float64 reference, for every transpose
 * combination, odd shapes, padded leading dimensions and the alpha/beta rules of BLAS.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { tsSgemm } from '../../src/math/gemm-ts.js';
import { loadNativeBlas } from '../../src/math/native.js';
import { sgemm, setGemmBackend, gemmBackend } from '../../src/math/gemm.js';
import { Rng } from '../../src/math/rng.js';

type Sgemm = typeof tsSgemm;

const native = loadNativeBlas();
const backends: Array<[string, Sgemm | undefined]> = [
  ['typescript', tsSgemm],
  ['openblas', native.ok ? native.blas.sgemm : undefined],
];

/** Naive float64 reference of row-major C = alpha·op(A)·op(B) + beta·C (beta 0 ignores C). */
function refGemm(
  tA: boolean,
  tB: boolean,
  M: number,
  N: number,
  K: number,
  alpha: number,
  A: Float32Array,
  lda: number,
  B: Float32Array,
  ldb: number,
  beta: number,
  C: Float32Array,
  ldc: number,
): { out: Float64Array; scale: Float64Array } {
  const out = new Float64Array(M * N);
  // scale = what the rounding error of each entry is proportional to.
  const scale = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0,
        a = 0;
      for (let k = 0; k < K; k++) {
        const x = tA ? A[k * lda + i]! : A[i * lda + k]!;
        const y = tB ? B[j * ldb + k]! : B[k * ldb + j]!;
        s += x * y;
        a += Math.abs(x * y);
      }
      const c = beta === 0 ? 0 : beta * C[i * ldc + j]!;
      out[i * N + j] = alpha * s + c;
      scale[i * N + j] = Math.abs(alpha) * a + Math.abs(c);
    }
  }
  return { out, scale };
}

function randomArray(rng: Rng, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.nextFloat() * 2 - 1;
  return a;
}

interface Case {
  tA: boolean;
  tB: boolean;
  M: number;
  N: number;
  K: number;
  alpha: number;
  beta: number;
  padA: number;
  padB: number;
  padC: number;
  seed: number;
}

/** Runs one case on `f` and checks every entry of C, and that padding columns are untouched. */
function check(f: Sgemm, c: Case): void {
  const rng = new Rng(c.seed);
  const aRows = c.tA ? c.K : c.M,
    aCols = c.tA ? c.M : c.K;
  const bRows = c.tB ? c.N : c.K,
    bCols = c.tB ? c.K : c.N;
  const lda = aCols + c.padA,
    ldb = bCols + c.padB,
    ldc = c.N + c.padC;
  const A = randomArray(rng, Math.max(1, aRows * lda));
  const B = randomArray(rng, Math.max(1, bRows * ldb));
  const C = randomArray(rng, Math.max(1, c.M * ldc));
  if (c.beta === 0) C.fill(NaN); // beta = 0 must overwrite, not multiply, garbage
  const before = C.slice();
  const { out, scale } = refGemm(c.tA, c.tB, c.M, c.N, c.K, c.alpha, A, lda, B, ldb, c.beta, C, ldc);
  f(c.tA, c.tB, c.M, c.N, c.K, c.alpha, A, lda, B, ldb, c.beta, C, ldc);
  for (let i = 0; i < c.M; i++) {
    for (let j = 0; j < ldc; j++) {
      const got = C[i * ldc + j]!;
      if (j >= c.N) {
        assert.ok(Object.is(got, before[i * ldc + j]!), `padding C[${i},${j}] was written`);
        continue;
      }
      const want = out[i * c.N + j]!;
      const tol = 1e-5 * scale[i * c.N + j]! + 1e-6;
      assert.ok(Math.abs(got - want) <= tol, `C[${i},${j}] = ${got}, want ${want} (${JSON.stringify(c)})`);
    }
  }
}

const transposes: Array<[boolean, boolean]> = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
];

for (const [name, f] of backends) {
  describe(`sgemm backend ${name}`, () => {
    const skip =
      f === undefined && process.env.CI !== 'true' ? `binding not built: ${native.ok ? '' : native.detail}` : false;
    const run = (c: Case) => {
      if (!f) throw new Error(`openblas binding unavailable: ${native.ok ? '' : native.detail}`);
      check(f, c);
    };

    // Shapes cross the TS kernel's 4×4 register blocks, its 128-row and 64-column cache blocks
    // and its small-M (< 4) path.
    it('matches the float64 reference for all four transpose combinations on odd shapes', { skip }, () => {
      let seed = 1;
      for (const [tA, tB] of transposes) {
        for (const [M, N, K] of [
          [1, 1, 1],
          [7, 5, 3],
          [13, 11, 17],
          [5, 9, 1],
          [33, 2, 65],
          [3, 37, 8],
          [9, 67, 130],
          [131, 70, 9],
        ] as const) {
          run({ tA, tB, M, N, K, alpha: 1, beta: 0, padA: 0, padB: 0, padC: 0, seed: seed++ });
        }
      }
    });

    it('honours leading dimensions larger than the width (padding left untouched)', { skip }, () => {
      let seed = 100;
      for (const [tA, tB] of transposes) {
        run({ tA, tB, M: 6, N: 10, K: 7, alpha: 1, beta: 0, padA: 3, padB: 5, padC: 2, seed: seed++ });
        run({ tA, tB, M: 9, N: 5, K: 12, alpha: 0.5, beta: 1, padA: 1, padB: 0, padC: 4, seed: seed++ });
      }
    });

    it('beta = 0 overwrites NaN, beta = 1 accumulates, other beta scales; alpha scales the product', { skip }, () => {
      let seed = 200;
      for (const [tA, tB] of transposes) {
        for (const [alpha, beta] of [
          [1, 0],
          [1, 1],
          [1, -0.75],
          [2.5, 0],
          [-3, 0.5],
          [0, 2],
        ] as const) {
          run({ tA, tB, M: 10, N: 6, K: 9, alpha, beta, padA: 0, padB: 0, padC: 1, seed: seed++ });
        }
      }
    });

    it('gives a known 2×3 · 3×2 product exactly', { skip }, () => {
      if (!f) throw new Error('unavailable');
      // [1 2 3; 4 5 6] · [7 8; 9 10; 11 12] = [58 64; 139 154]; with alpha 2, beta 1, C0 = 1s.
      const A = Float32Array.of(1, 2, 3, 4, 5, 6);
      const B = Float32Array.of(7, 8, 9, 10, 11, 12);
      const C = Float32Array.of(1, 1, 1, 1);
      f(false, false, 2, 2, 3, 2, A, 3, B, 2, 1, C, 2);
      assert.deepEqual([...C], [117, 129, 279, 309]);
      // Same product with both operands stored transposed.
      const At = Float32Array.of(1, 4, 2, 5, 3, 6);
      const Bt = Float32Array.of(7, 9, 11, 8, 10, 12);
      const D = new Float32Array(4).fill(NaN);
      f(true, true, 2, 2, 3, 1, At, 2, Bt, 3, 0, D, 2);
      assert.deepEqual([...D], [58, 64, 139, 154]);
    });

    it('K = 0 leaves beta·C', { skip }, () => {
      if (!f) throw new Error('unavailable');
      const C = Float32Array.of(1, 2, 3, 4);
      f(false, true, 2, 2, 0, 1, new Float32Array(1), 1, new Float32Array(1), 1, 3, C, 2);
      assert.deepEqual([...C], [3, 6, 9, 12]);
    });

    it('property: random shapes, transposes, strides and alpha/beta match the reference', { skip }, () => {
      fc.assert(
        fc.property(
          fc.record({
            tA: fc.boolean(),
            tB: fc.boolean(),
            M: fc.integer({ min: 1, max: 23 }),
            N: fc.integer({ min: 1, max: 23 }),
            K: fc.integer({ min: 1, max: 40 }),
            alpha: fc.constantFrom(1, -1, 0.5, 3),
            beta: fc.constantFrom(0, 1, -2, 0.25),
            padA: fc.integer({ min: 0, max: 3 }),
            padB: fc.integer({ min: 0, max: 3 }),
            padC: fc.integer({ min: 0, max: 3 }),
            seed: fc.integer({ min: 1, max: 1 << 30 }),
          }),
          (c) => {
            run(c);
          },
        ),
        { numRuns: 150, seed: 42 },
      );
    });
  });
}

describe('sgemm seam (src/math/gemm.ts)', () => {
  const initial = gemmBackend().name;
  after(() => {
    setGemmBackend(initial);
  });

  it('rejects leading dimensions smaller than the width', () => {
    setGemmBackend('typescript');
    const A = new Float32Array(12),
      B = new Float32Array(12),
      C = new Float32Array(9);
    assert.throws(() => sgemm(false, false, 3, 3, 4, 1, A, 3, B, 3, 0, C, 3), RangeError); // lda 3 < K 4
    assert.throws(() => sgemm(false, true, 3, 3, 4, 1, A, 4, B, 3, 0, C, 3), RangeError); // ldb 3 < K 4
    assert.throws(() => sgemm(false, true, 3, 3, 4, 1, A, 4, B, 4, 0, C, 2), RangeError); // ldc 2 < N 3
  });

  it('rejects buffers too small for the shape', () => {
    setGemmBackend('typescript');
    const A = new Float32Array(12),
      B = new Float32Array(12),
      C = new Float32Array(9);
    assert.throws(() => sgemm(false, true, 4, 3, 4, 1, A, 4, B, 4, 0, C, 3), RangeError); // A needs 16, C 12
    // B needs 16
    assert.throws(() => sgemm(false, true, 3, 4, 4, 1, A, 4, B, 4, 0, new Float32Array(12), 4), RangeError);
    assert.throws(() => sgemm(false, true, 3, 3, 4, 1, A, 4, B, 4, 0, new Float32Array(8), 3), RangeError); // C needs 9
  });

  it('the native binding itself refuses out-of-bounds shapes instead of reading past a buffer', (t) => {
    if (!native.ok) {
      if (process.env.CI === 'true') throw new Error(native.detail);
      t.skip(native.detail);
      return;
    }
    const A = new Float32Array(12),
      B = new Float32Array(12),
      C = new Float32Array(9);
    assert.throws(() => native.blas.sgemm(false, true, 4, 3, 4, 1, A, 4, B, 4, 0, C, 3), RangeError);
    assert.throws(() => native.blas.sgemm(false, true, -1, 3, 4, 1, A, 4, B, 4, 0, C, 3), RangeError);
  });

  it('routes through the selected backend with the same results', (t) => {
    if (!native.ok) {
      if (process.env.CI === 'true') throw new Error(native.detail);
      t.skip(native.detail);
      return;
    }
    const rng = new Rng(7);
    const A = randomArray(rng, 37 * 19),
      B = randomArray(rng, 41 * 19);
    const C1 = new Float32Array(37 * 41),
      C2 = new Float32Array(37 * 41);
    setGemmBackend('openblas');
    sgemm(false, true, 37, 41, 19, 1, A, 19, B, 19, 0, C1, 41);
    setGemmBackend('typescript');
    sgemm(false, true, 37, 41, 19, 1, A, 19, B, 19, 0, C2, 41);
    for (let i = 0; i < C1.length; i++) assert.ok(Math.abs(C1[i]! - C2[i]!) <= 1e-5, `entry ${i}`);
  });
});
