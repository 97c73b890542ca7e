/**
 * bench:gemm — the scoring kernel (docs/numeric-contract.md §5) at ML-1M size: 6,040 users × 3,706 items ×
 * dim 256 (seeded random embeddings), as one GEMM and as the full blocked
 * score → mask (≈165 random train items per user) → top-10 pass, on OpenBLAS and on the
 * TypeScript fallback. Run: npx tsc -p . && node dist/bench/gemm.js
 */
import { setGemmBackend, type GemmBackend } from '../src/math/gemm.js';
import { tsSgemm } from '../src/math/gemm-ts.js';
import { matrix, type Matrix } from '../src/math/matrix.js';
import { Rng } from '../src/math/rng.js';
import { scoreTopK } from '../src/math/scoring.js';
import { topkRows } from '../src/math/topk.js';
import type { Csr } from '../src/math/csr.js';
import { DEFAULT_SEED } from '../src/util/seed.js';

const USERS = 6040,
  ITEMS = 3706,
  DIM = 256,
  K = 10;
const FLOPS = 2 * USERS * ITEMS * DIM;

function randomMatrix(rng: Rng, rows: number, cols: number): Matrix {
  const m = matrix(rows, cols);
  for (let i = 0; i < m.data.length; i++) m.data[i] = rng.normal() * 0.1;
  return m;
}

/** ~avg random distinct items per user (1..ITEMS-1), sorted: a train-mask stand-in. */
function randomCsr(rng: Rng, avg: number): Csr {
  const indptr = new Int32Array(USERS + 1);
  const chunks: Int32Array[] = [];
  const seen = new Uint8Array(ITEMS);
  for (let u = 0; u < USERS; u++) {
    const n = 1 + rng.nextInt(2 * avg - 1);
    const row: number[] = [];
    while (row.length < n) {
      const i = 1 + rng.nextInt(ITEMS - 1);
      if (!seen[i]) {
        seen[i] = 1;
        row.push(i);
      }
    }
    for (const i of row) seen[i] = 0;
    row.sort((a, b) => a - b);
    chunks.push(Int32Array.from(row));
    indptr[u + 1] = indptr[u]! + n;
  }
  const indices = new Int32Array(indptr[USERS]!);
  for (const [u, c] of chunks.entries()) indices.set(c, indptr[u]!);
  return { nRows: USERS, nCols: ITEMS, indptr, indices };
}

/** Runs f `reps` times (after one warm-up unless reps is 1) and returns the median seconds. */
function time(reps: number, f: () => void): number {
  if (reps > 1) f();
  const t: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    f();
    t.push((performance.now() - t0) / 1000);
  }
  t.sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)]!;
}

function main(): void {
  const rng = new Rng(DEFAULT_SEED);
  const U = randomMatrix(rng, USERS, DIM),
    V = randomMatrix(rng, ITEMS, DIM);
  const train = randomCsr(rng, 165);
  const users = Int32Array.from({ length: USERS }, (_, i) => i);
  const C = new Float32Array(USERS * ITEMS);

  let blas: GemmBackend | undefined;
  try {
    blas = setGemmBackend('openblas');
  } catch (e) {
    console.log(`OpenBLAS unavailable: ${(e as Error).message}`);
  }

  const rows: Array<[string, string, string]> = [];
  let blasGemm = NaN,
    blasScore = NaN;
  if (blas) {
    console.log(`OpenBLAS: ${blas.detail}`);
    blasGemm = time(7, () => blas!.sgemm(false, true, USERS, ITEMS, DIM, 1, U.data, DIM, V.data, DIM, 0, C, ITEMS));
    rows.push([
      'sgemm NT 6040×3706×256 (one call)',
      'openblas',
      `${(blasGemm * 1e3).toFixed(1)} ms  ${(FLOPS / blasGemm / 1e9).toFixed(1)} GFLOP/s`,
    ]);
    blasScore = time(5, () => scoreTopK(U, V, users, K, [train]));
    rows.push(['score+mask+top-10, blocks of 256', 'openblas', `${(blasScore * 1e3).toFixed(1)} ms`]);
  }
  const topk = time(5, () => topkRows(C, USERS, ITEMS, K));
  rows.push(['top-10 alone on 6040×3706 scores', '-', `${(topk * 1e3).toFixed(1)} ms`]);

  const tsGemm = time(1, () => tsSgemm(false, true, USERS, ITEMS, DIM, 1, U.data, DIM, V.data, DIM, 0, C, ITEMS));
  rows.push([
    'sgemm NT 6040×3706×256 (one call)',
    'typescript',
    `${(tsGemm * 1e3).toFixed(0)} ms  ${(FLOPS / tsGemm / 1e9).toFixed(2)} GFLOP/s`,
  ]);
  setGemmBackend('typescript');
  const tsScore = time(1, () => scoreTopK(U, V, users, K, [train]));
  rows.push(['score+mask+top-10, blocks of 256', 'typescript', `${(tsScore * 1e3).toFixed(0)} ms`]);

  const w0 = Math.max(...rows.map((r) => r[0].length)),
    w1 = Math.max(...rows.map((r) => r[1].length));
  console.log(`\n${'what'.padEnd(w0)}  ${'backend'.padEnd(w1)}  time`);
  for (const [a, b, c] of rows) console.log(`${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`);
  console.log('');
  console.log(`RESULT score_top10_ts_seconds ${tsScore.toFixed(3)} s`);
  console.log(`RESULT topk10_seconds ${topk.toFixed(4)} s`);
  if (blas) console.log(`RESULT gemm_blas_gflops ${(FLOPS / blasGemm / 1e9).toFixed(1)} GFLOP/s`);
  console.log(`RESULT gemm_ts_gflops ${(FLOPS / tsGemm / 1e9).toFixed(2)} GFLOP/s`);
  if (blas) console.log(`RESULT score_top10_blas_seconds ${blasScore.toFixed(3)} s`);
}

main();
