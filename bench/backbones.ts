/**
 * bench:backbones — seconds per training epoch and per full-sort evaluation (validation
 * NDCG@10 over all users, train masked) for BPR, DMF and MultiVAE with their default
 * (reference) settings, on ML-100K (../shared) and on the synthetic ML-1M-sized dataset
 * (6,040 users × 3,706 items, 1M interactions). One `RESULT` line per figure:
 *   RESULT <model>_epoch_<data> <s> s     RESULT <model>_eval_<data> <s> s
 *
 *   node dist/bench/backbones.js [--epochs N] [--models bpr,dmf,multivae] [--data ml100k,ml1m]
 * Epoch figures are the mean over N timed epochs (default 1) after the first epoch
 * (warm-up) when N > 1; evaluation figures are the mean over the same epochs. Each epoch line
 * also shows the process CPU time (all threads): on a shared, oversubscribed machine wall
 * time can be several times the unloaded figure, CPU time much less so.
 */
import { join } from 'node:path';
import { readInteractions } from '../src/data/readers.js';
import { randomSplit } from '../src/data/split.js';
import { generateSynthetic, SYNTHETIC_PRESETS } from '../src/data/synthetic.js';
import type { SplitDataset } from '../src/data/types.js';
import { gemmBackend } from '../src/math/gemm.js';
import { DmfModel } from '../src/models/dmf.js';
import { trainBpr } from '../src/train/bpr-trainer.js';
import type { Recommender } from '../src/models/recommender.js';
import { trainDmf, type EpochInfo } from '../src/train/dmf-trainer.js';
import { FullSortEvaluator } from '../src/train/full-sort-eval.js';
import { trainMultiVae } from '../src/train/multivae-trainer.js';
import { DEFAULT_SEED } from '../src/util/seed.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : def;
}

const epochs = Math.max(1, Number(arg('epochs', '1')));
const models = arg('models', 'bpr,dmf,multivae').split(',');
const datasets = arg('data', 'ml100k,ml1m').split(',');
const shared = process.env.CALITUNE_SHARED ?? join(process.cwd(), '..', 'shared');
console.log(`gemm: ${gemmBackend().name} — ${gemmBackend().detail}`);

function load(name: string): SplitDataset {
  const t0 = performance.now();
  const log =
    name === 'ml100k'
      ? readInteractions(join(shared, 'data', 'ml-100k', 'ml-100k.inter'))
      : generateSynthetic(SYNTHETIC_PRESETS['ml-1m-like']);
  const ds = randomSplit(log, DEFAULT_SEED);
  console.log(
    `\n${name}: ${ds.nUsers - 1} users × ${ds.nItems - 1} items, ` +
      `${ds.train.indptr[ds.nUsers]} train interactions (${((performance.now() - t0) / 1000).toFixed(1)} s to build)`,
  );
  return ds;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

for (const dname of datasets) {
  const ds = load(dname);
  const data = { nUsers: ds.nUsers, nItems: ds.nItems, train: ds.train, valid: ds.valid };
  const n = epochs > 1 ? epochs + 1 : 1;
  for (const m of models) {
    const hist: EpochInfo[] = [];
    const cpu: number[] = [];
    let c0 = process.cpuUsage();
    const onEpoch = (e: EpochInfo) => {
      hist.push(e);
      const c = process.cpuUsage(c0);
      c0 = process.cpuUsage();
      cpu.push((c.user + c.system) / 1e6);
      console.log(
        `  ${m} epoch ${e.epoch + 1}/${n}: train ${e.trainSeconds.toFixed(2)} s ` +
          `(process CPU ${cpu[cpu.length - 1]!.toFixed(2)} s incl. validation), loss ${e.loss.toFixed(5)}`,
      );
    };
    let model: Recommender;
    if (m === 'bpr') model = trainBpr(data, { epochs: n, patience: n }, { onEpoch }).model;
    else if (m === 'dmf') model = trainDmf(data, { epochs: n }, { onEpoch, skipValidation: true }).model;
    else if (m === 'multivae') model = trainMultiVae(data, { epochs: n }, { onEpoch, skipValidation: true }).model;
    else throw new Error(`unknown model ${m}`);
    const timed = hist.length > 1 ? hist.slice(1) : hist;
    // full-sort evaluation timed separately (all users with valid items, train masked)
    const ev = new FullSortEvaluator();
    const evals: number[] = [];
    for (let r = 0; r < Math.max(1, timed.length); r++) {
      // time a cold item tower, as after a training epoch
      if (model instanceof DmfModel) model.invalidateItemCache();
      const t0 = performance.now();
      const res = ev.evaluate(model, { mask: [ds.train], target: ds.valid, k: 10 });
      evals.push((performance.now() - t0) / 1000);
      if (r === 0) console.log(`  ${m} valid NDCG@10 after ${hist.length} epoch(s): ${res.ndcg.toFixed(4)}`);
    }
    const tag = dname === 'ml100k' ? 'ml100k' : 'ml1m';
    console.log(`RESULT ${m}_epoch_${tag} ${mean(timed.map((e) => e.trainSeconds)).toFixed(3)} s`);
    console.log(`RESULT ${m}_eval_${tag} ${mean(evals).toFixed(3)} s`);
  }
}
