/**
 * bench:kernels — the binding's training and ranking kernels one at a time, on one thread, at
 * the shapes of one BPR epoch on ML-100K (943 × 1,682, dim 256, 82k triples in batches of
 * 4,096) or of the 10k-item catalogue (`--size 10k`: 610 × 9,724): BPR's dot products
 * (bprScores), its gradient pass (bprGrads), a dense Adam step with both halves' gradients
 * (adamStep; and adamStampedRows, which reads the rows each half of the batch touched and zeros
 * for the others, as BPR's trainer does), the fine-tuner's RAdam row step at the 10-epoch
 * backbone's shape (radamRows: 651 of 1,683 item rows a step, 59 steps, on one thread and with
 * the binding's helper thread) and row-wise top-k of the epoch's validation scores (topkRows,
 * k = 10; native on one and two threads, and the TypeScript loop). Random tables and triples
 * from a fixed seed;
 * each figure is the minimum over 5 repetitions, in milliseconds per epoch, and a
 * `RESULT kernel_<name>_ms <x> ms` line.
 *
 *   node dist/bench/kernels.js [--size ml-100k|10k] [--reps N]
 */
import { loadNativeBlas, type NativeBlas } from '../src/math/native.js';
import { Rng } from '../src/math/rng.js';
import { topkRows, useNativeTopk } from '../src/math/topk.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : def;
}

const size = arg('size', 'ml-100k');
if (size !== 'ml-100k' && size !== '10k') throw new Error('--size must be ml-100k or 10k');
const [nU, nI] = size === '10k' ? [610, 9724] : [943, 1682];
const reps = Number(arg('reps', '5'));
const d = 256,
  batch = 4096,
  batches = 20;

const nb = loadNativeBlas();
if (!nb.ok) {
  console.log(`bench:kernels: SKIPPED — the native binding is not available (${nb.detail})`);
  process.exit(0);
}
const blas: NativeBlas = nb.blas;
const rng = new Rng(42);
const table = (rows: number) => Float32Array.from({ length: rows * d }, () => rng.normal() * 0.1);
const U = table(nU),
  I = table(nI);
const n = batch * batches;
const users = Int32Array.from({ length: n }, () => rng.nextInt(nU));
const pos = Int32Array.from({ length: n }, () => rng.nextInt(nI));
const neg = Int32Array.from(pos, (p) => (p + 1 + rng.nextInt(nI - 1)) % nI);

/** Minimum over the repetitions of one epoch's worth of `step(batchIndex)`, in ms. */
function time(step: (b: number) => void, perEpoch = batches): number {
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    for (let b = 0; b < perEpoch; b++) step(b);
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

function report(name: string, ms: number): void {
  console.log(`  ${name.padEnd(34)}: ${ms.toFixed(2)} ms`);
  console.log(`RESULT kernel_${name.replace(/[^a-z0-9]+/g, '_')}_ms ${ms.toFixed(3)} ms`);
}

console.log(`bench:kernels — ${size}: ${nU} users × ${nI} items, dim ${d}, ${n} triples; ${nb.detail}`);
const xs = new Float64Array(batch);
report(
  'bpr scores',
  time((b) => blas.bprScores!(U, I, d, users, pos, neg, b * batch, (b + 1) * batch, xs)),
);
const gU = new Float32Array(U.length),
  gI = new Float32Array(I.length);
xs.fill(1e-6);
report(
  'bpr grads',
  time((b) => blas.bprGrads!(U, I, gU, gI, d, users, pos, neg, b * batch, (b + 1) * batch, xs)),
);

const p = table(nU + nI),
  m = new Float32Array(p.length),
  v = new Float32Array(p.length);
const g = table(nU + nI),
  g2 = table(nU + nI);
report(
  'adam dense, two gradient halves',
  time(() => blas.adamStep!(p, g, g2, m, v, 0.9, 0.999, 1e-4, 1.05, 1e-8, 0, 1, false)),
);

report(
  'adam dense, clearing both halves',
  time(() => blas.adamStep!(p, g, g2, m, v, 0.9, 0.999, 1e-4, 1.05, 1e-8, 0, 1, true)),
);

// the rows each half of each batch touches (users, then items after the nU user rows)
const halfStamps = (half: 0 | 1) =>
  Array.from({ length: batches }, (_, b) => {
    const st = new Int32Array(nU + nI);
    const [s, e] = [b * batch + (half * batch) / 2, b * batch + ((half + 1) * batch) / 2];
    for (let t = s; t < e; t++) st[users[t]!] = st[nU + pos[t]!] = st[nU + neg[t]!] = 1;
    return st;
  });
const [st1, st2] = [halfStamps(0), halfStamps(1)];
report(
  'adam stamped rows, batch touches',
  time((b) =>
    blas.adamStampedRows!(p, g, g2, m, v, d, 0, nU + nI, st1[b]!, st2[b]!, 1, 0.9, 0.999, 1e-4, 1.05, 1e-8, 0),
  ),
);

// RAdam rows: 651 distinct rows of a 1,683-row item table, every one catching up on skipped steps
const rp = table(1683),
  rg = table(1683),
  rm = Float32Array.from(rp, (x) => 1e-3 * Math.abs(x) + 1e-6),
  rv = Float32Array.from(rp, (x) => 1e-6 * x * x + 1e-9);
const rRows = Int32Array.from(rng.permutation(1683).subarray(0, 651));
const factors = Float64Array.from({ length: 3 * 651 }, (_, i) => [1e-4, 0.99, 0.998][i % 3]!);
for (const th of [1, 2]) {
  report(
    `radam rows, ${th === 1 ? '1 thread' : 'helper thread'}`,
    time(() => blas.radamRows!(rp, rg, rm, rv, d, rRows, 651, factors, 0.9, 0.999, 1e-5, 1e-8, false, th), 59),
  );
}

const scores = Float32Array.from({ length: nU * nI }, () => rng.normal());
const out = new Int32Array(nU * 10);
report(
  'topk native, 1 thread',
  time(() => blas.topkRows!(scores, 0, nU, nI, 10, out, 0, 1), 1),
);
report(
  'topk native, 2 threads',
  time(() => blas.topkRows!(scores, 0, nU, nI, 10, out, 0, 2), 1),
);
useNativeTopk(false);
report(
  'topk typescript',
  time(() => topkRows(scores, nU, nI, 10, out), 1),
);
useNativeTopk(true);
