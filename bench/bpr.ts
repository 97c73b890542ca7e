/**
 * bench:bpr — seconds per BPR epoch on ML-100K with the reference settings (dim 256, lr 1e-4,
 * batch 4096), validation NDCG@10 included. Prints a phase breakdown and ends with
 * `RESULT bpr_epoch_seconds <x> s` (mean over the timed epochs, after warm-up epochs), the CPU
 * seconds per epoch (all threads), and one more validation pass timed alone: its wall and CPU
 * seconds and the epoch's CPU seconds without it (`bpr_train_cpu_seconds`).
 *
 *   node dist/bench/bpr.js [--epochs N] [--warmup N] [--data PATH] [--threads 1|2] [--optimizer auto|dense|sparse]
 *   node dist/bench/bpr.js --full      also: a full default training (300 epochs or early
 *                                      stop, the default seed) and test NDCG@10 (train + valid masked)
 */
import { join } from 'node:path';
import { readInteractions } from '../src/data/readers.js';
import { randomSplit } from '../src/data/split.js';
import { gemmBackend } from '../src/math/gemm.js';
import { resolveBprOptimizer, trainBpr, type BprEpochInfo } from '../src/train/bpr-trainer.js';
import { BPR_OPTIMIZERS, type BprOptimizer, DEFAULT_BPR_CONFIG } from '../src/train/configs/bpr.js';
import { fullSortEval } from '../src/train/full-sort-eval.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : def;
}

const shared = process.env.CALITUNE_SHARED ?? join(process.cwd(), '..', 'shared');
const dataPath = arg('data', join(shared, 'data', 'ml-100k', 'ml-100k.inter'));
const timedEpochs = Number(arg('epochs', '20'));
const warmup = Number(arg('warmup', '3'));
const full = process.argv.includes('--full');
const threadsArg = arg('threads', '');
const threads = threadsArg === '1' ? 1 : threadsArg === '2' ? 2 : undefined;
const optimizer = arg('optimizer', 'auto') as BprOptimizer;
if (!BPR_OPTIMIZERS.includes(optimizer)) throw new Error(`--optimizer must be one of ${BPR_OPTIMIZERS.join(', ')}`);

const t0 = performance.now();
const log = readInteractions(dataPath);
const ds = randomSplit(log, DEFAULT_BPR_CONFIG.seed);
const tLoad = (performance.now() - t0) / 1000;
const nnz = (m: { indptr: Int32Array; nRows: number }) => m.indptr[m.nRows]!;
console.log(`data: ${dataPath}`);
console.log(
  `  ${ds.nUsers - 1} users, ${ds.nItems - 1} items; ` +
    `train ${nnz(ds.train)} / valid ${nnz(ds.valid)} / test ${nnz(ds.test)} (load + split ${tLoad.toFixed(3)} s)`,
);
const be = gemmBackend();
console.log(`gemm: ${be.name} — ${be.detail}`);
const used = resolveBprOptimizer(optimizer, ds.nUsers, ds.nItems);
console.log(`optimizer: ${optimizer}${optimizer === 'auto' ? ` (${used})` : ''}`);

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const fmt = (x: number) => `${(x * 1000).toFixed(1)} ms`;

function breakdown(h: BprEpochInfo[]): void {
  console.log(`  shuffle + negatives : ${fmt(mean(h.map((e) => e.phases.sample)))}`);
  console.log(`  forward + backward  : ${fmt(mean(h.map((e) => e.phases.forwardBackward)))}`);
  console.log(`  Adam (${used})${' '.repeat(13 - used.length)}: ${fmt(mean(h.map((e) => e.phases.optimizer)))}`);
  console.log(`  validation NDCG@10  : ${fmt(mean(h.map((e) => e.evalSeconds)))}`);
  console.log(`  epoch total         : ${fmt(mean(h.map((e) => e.seconds)))}`);
}

if (full) {
  console.log(`\nfull training, reference defaults ${JSON.stringify(DEFAULT_BPR_CONFIG)}`);
  const r = trainBpr(
    ds,
    { optimizer },
    {
      ...(threads ? { threads } : {}),
      onEpoch: (e, total) => {
        if (e.epoch % 10 === 0) {
          console.log(
            `  epoch ${e.epoch + 1}/${total}: loss ${e.loss.toFixed(5)} ` +
              `valid NDCG@10 ${e.validNdcg.toFixed(5)} (${e.seconds.toFixed(3)} s)`,
          );
        }
      },
    },
  );
  const test = fullSortEval(r.model, { mask: [ds.train, ds.valid], target: ds.test, k: 10, skipEmpty: false });
  const valid = fullSortEval(r.model, { mask: [ds.train], target: ds.valid, k: 10 });
  console.log(`epochs run ${r.epochsRun}, stopped early: ${r.stoppedEarly}, best epoch ${r.bestEpoch} (0-based)`);
  console.log(`best valid NDCG@10 ${r.bestValidNdcg.toFixed(5)} (re-evaluated ${valid.ndcg.toFixed(5)})`);
  console.log(`test NDCG@10 ${test.ndcg.toFixed(5)} over ${test.nEvaluated} users (train + valid masked)`);
  console.log(`total ${r.seconds.toFixed(1)} s, mean epoch ${mean(r.history.map((e) => e.seconds)).toFixed(4)} s`);
  breakdown(r.history);
  console.log(`RESULT bpr_test_ndcg10 ${test.ndcg.toFixed(5)} ndcg`);
}

console.log(
  `\ntiming: ${warmup} warm-up + ${timedEpochs} timed epochs ` +
    `(dim ${DEFAULT_BPR_CONFIG.dim}, batch ${DEFAULT_BPR_CONFIG.batchSize})`,
);
const cpu0 = process.cpuUsage();
const r = trainBpr(ds, { epochs: warmup + timedEpochs, patience: 1e6, optimizer }, threads ? { threads } : {});
const cpu = process.cpuUsage(cpu0);
const timed = r.history.slice(warmup);
breakdown(timed);
console.log(`RESULT bpr_epoch_seconds ${mean(timed.map((e) => e.seconds)).toFixed(4)} s`);
// all threads' CPU seconds per epoch, warm-up included: steadier than the wall clock on a shared machine
const cpuPerEpoch = (cpu.user + cpu.system) / 1e6 / Math.max(1, r.history.length);
console.log(`RESULT bpr_epoch_cpu_seconds ${cpuPerEpoch.toFixed(4)} s`);
// the validation alone, once more on the final weights (the epochs' CPU seconds include it),
// so the training step's CPU seconds can be told apart from it
const v0 = process.cpuUsage(),
  w0 = performance.now();
fullSortEval(r.model, { mask: [ds.train], target: ds.valid, k: 10 });
const vWall = (performance.now() - w0) / 1000;
const vCpu = (() => {
  const c = process.cpuUsage(v0);
  return (c.user + c.system) / 1e6;
})();
console.log(`RESULT bpr_validation_seconds ${vWall.toFixed(4)} s`);
console.log(`RESULT bpr_validation_cpu_seconds ${vCpu.toFixed(4)} s`);
console.log(`RESULT bpr_train_cpu_seconds ${Math.max(0, cpuPerEpoch - vCpu).toFixed(4)} s`);
