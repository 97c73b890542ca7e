/**
 * bench:scaling — how the cost of each stage grows with the catalogue: seconds per BPR epoch
 * (train step, and the per-epoch validation), per CaliTune epoch with the item tower frozen and
 * trained, and per full-sort test evaluation, at three sizes of synthetic data
 * (src/data/synthetic.ts, seed 42, split 80/10/10 with the default seed):
 *   ml-100k   943 users ×  1,682 items,   100,000 interactions (MovieLens-100K's shape)
 *   10k-item  610 users ×  9,724 items,   100,836 interactions (MovieLens-latest-small's shape)
 *   ml-1m   6,040 users ×  3,706 items, 1,000,209 interactions (MovieLens-1M's shape)
 * BPR with the reference settings (dim 256, batch 4096, lr 1e-4); CaliTune with the reference's
 * ML-100K configuration (α 0.5, K 50, batch 16) on that BPR after its few epochs here (a barely
 * trained backbone: candidates spread over many items, the optimizer's costly case). Each figure
 * is the median over the timed epochs after warm-up (evaluation: the minimum of 3 runs), wall
 * clock with the process's CPU seconds (all threads) in brackets: on a machine shared with other
 * processes the wall clock is inflated and the CPU time is the steadier figure.
 *
 *   node dist/bench/scale-epochs.js [--sizes ml-100k,10k-item,ml-1m] [--epochs N] [--warmup N]
 *                                   [--optimizer auto|dense|sparse] [--bpr-only]
 * Prints a Markdown table and one `RESULT <size>_<stage> <s> s` line per figure. `--optimizer`
 * sets BPR's embedding optimizer (default auto: dense at these sizes); when given, the BPR
 * RESULT names end in _<optimizer>. `--bpr-only` leaves out CaliTune and the evaluation.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_FINETUNE_CONFIG, type FinetuneConfig } from '../src/calibration/finetune-config.js';
import { finetune } from '../src/calibration/finetuner.js';
import { popularityGroupsFromSplit } from '../src/calibration/popularity.js';
import { userTargets } from '../src/calibration/user-targets.js';
import { Validator } from '../src/calibration/validation.js';
import { randomSplit } from '../src/data/split.js';
import { generateSynthetic, type SyntheticOptions } from '../src/data/synthetic.js';
import type { SplitDataset } from '../src/data/types.js';
import { gemmBackend } from '../src/math/gemm.js';
import { BprModel } from '../src/models/bpr.js';
import { experimentJournal } from '../src/store/finetune-journal.js';
import { trainBpr } from '../src/train/bpr-trainer.js';
import { BPR_OPTIMIZERS, type BprOptimizer } from '../src/train/configs/bpr.js';
import { fullSortEval } from '../src/train/full-sort-eval.js';
import { DEFAULT_SEED } from '../src/util/seed.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : def;
}

const SIZES: Record<string, SyntheticOptions> = {
  'ml-100k': { users: 943, items: 1682, interactions: 100_000 },
  '10k-item': { users: 610, items: 9724, interactions: 100_836 },
  'ml-1m': { users: 6040, items: 3706, interactions: 1_000_209 },
};
const sizes = arg('sizes', Object.keys(SIZES).join(',')).split(',');
const timed = Math.max(1, Number(arg('epochs', '3')));
const warmup = Math.max(0, Number(arg('warmup', '1')));
const optimizer = arg('optimizer', 'auto') as BprOptimizer;
if (!BPR_OPTIMIZERS.includes(optimizer)) throw new Error(`--optimizer must be one of ${BPR_OPTIMIZERS.join(', ')}`);
const bprOnly = process.argv.includes('--bpr-only');
const none: Cost = { wall: NaN, cpu: NaN };

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m]! : 0.5 * (s[m - 1]! + s[m]!);
};

/** Wall clock and process CPU seconds (all threads) of one stage. */
interface Cost {
  wall: number;
  cpu: number;
}

/** One size's figures. */
interface Row {
  size: string;
  shape: string;
  bprEpoch: Cost;
  bprTrain: number;
  bprValid: number;
  finetuneFrozen: Cost;
  finetuneTrained: Cost;
  evaluation: Cost;
}

/** Process CPU seconds since `from`. */
function cpuSince(from: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(from);
  return (u.user + u.system) / 1e6;
}

/** Per-epoch wall and CPU, filled by an epoch callback; epochs ≤ warm-up are left out. */
class EpochClock {
  readonly walls: number[] = [];
  readonly cpus: number[] = [];
  private last = performance.now();
  private lastCpu = process.cpuUsage();

  tick(epoch: number): void {
    const now = performance.now();
    if (epoch > warmup) {
      this.walls.push((now - this.last) / 1000);
      this.cpus.push(cpuSince(this.lastCpu));
    }
    this.last = now;
    this.lastCpu = process.cpuUsage();
  }

  cost(): Cost {
    return { wall: median(this.walls), cpu: median(this.cpus) };
  }
}

/** BPR epochs: whole epoch, train step and per-epoch validation (medians after warm-up); the model. */
function bprEpochs(ds: SplitDataset) {
  const clock = new EpochClock();
  const cfg = { epochs: warmup + timed, patience: 1000, optimizer };
  const r = trainBpr(ds, cfg, { restoreBest: false, onEpoch: (e) => clock.tick(e.epoch + 1) });
  const h = r.history.slice(warmup);
  const train = median(h.map((e) => e.trainSeconds)),
    valid = median(h.map((e) => e.evalSeconds));
  return { model: r.model, epoch: clock.cost(), train, valid, optimizer: String(r.config.optimizer) };
}

/** Median cost of a CaliTune epoch (train, candidate regeneration, validation, log) after warm-up. */
function finetuneEpoch(ds: SplitDataset, backbone: BprModel, frozen: boolean): Cost {
  const model = new BprModel({ nUsers: ds.nUsers, nItems: ds.nItems, dim: backbone.dim });
  model.userEmb.value.set(backbone.userEmb.value);
  model.itemEmb.value.set(backbone.itemEmb.value);
  const pg = popularityGroupsFromSplit(ds, 'all', [0.2, 0.6, 0.2]);
  const tg = userTargets(ds.train, pg.itemGroup, pg.nGroups);
  const validator = new Validator({ ds, itemGroups: pg.itemGroup, nGroups: pg.nGroups, targets: tg.targets, k: 10 });
  const config: FinetuneConfig = {
    ...DEFAULT_FINETUNE_CONFIG,
    freeze_item_emb: frozen,
    combined_mode_alpha: 0.5,
    k_candidates: 50,
    train_batch_size: 16,
    num_epochs: warmup + timed,
    early_stopping_patience: 1000,
  };
  const dir = mkdtempSync(join(tmpdir(), 'calitune-bench-scale-'));
  const clock = new EpochClock();
  try {
    finetune({
      model,
      config,
      journal: experimentJournal(dir),
      data: { train: ds.train, itemGroups: pg.itemGroup, nGroups: pg.nGroups, userTargets: tg.targets },
      validate: validator.validate,
      fusedValidate: validator.fused,
      onEpoch: (r) => clock.tick(r.epoch),
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return clock.cost();
}

/** Minimum of 3 full-sort test evaluations (NDCG@10, train and valid masked). */
function evaluation(ds: SplitDataset, model: BprModel): Cost {
  let best: Cost = { wall: Infinity, cpu: Infinity };
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now(),
      c0 = process.cpuUsage();
    fullSortEval(model, { mask: [ds.train, ds.valid], target: ds.test, k: 10, skipEmpty: false });
    const wall = (performance.now() - t0) / 1000;
    if (wall < best.wall) best = { wall, cpu: cpuSince(c0) };
  }
  return best;
}

function measure(size: string): Row {
  const opts = SIZES[size];
  if (!opts) throw new Error(`unknown size ${size} (known: ${Object.keys(SIZES).join(', ')})`);
  const t0 = performance.now();
  const ds = randomSplit(generateSynthetic({ ...opts, seed: 42 }), DEFAULT_SEED);
  const nnz = ds.train.indptr[ds.train.nRows]!;
  const shape = `${ds.nUsers - 1} × ${ds.nItems - 1}, ${nnz} train rows`;
  console.log(`${size}: ${shape} (generated and split in ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  const bpr = bprEpochs(ds);
  console.log(`  BPR optimizer: ${bpr.optimizer}`);
  const row: Row = {
    size,
    shape,
    bprEpoch: bpr.epoch,
    bprTrain: bpr.train,
    bprValid: bpr.valid,
    finetuneFrozen: bprOnly ? none : finetuneEpoch(ds, bpr.model, true),
    finetuneTrained: bprOnly ? none : finetuneEpoch(ds, bpr.model, false),
    evaluation: bprOnly ? none : evaluation(ds, bpr.model),
  };
  console.log(
    `  done; load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  return row;
}

console.log(`gemm: ${gemmBackend().name}; ${cpus().length} cores; load average ${loadavg()[0]!.toFixed(2)}`);
console.log(`${timed} timed epochs after ${warmup} warm-up per stage\n`);
const rows = sizes.map(measure);
const s = (x: number) => x.toFixed(3);
const c = (x: Cost) => (Number.isNaN(x.wall) ? '—' : `${s(x.wall)} (${s(x.cpu)})`);
console.log(
  '\n| size | users × items, train rows | BPR epoch | BPR train step / validation | ' +
    'CaliTune epoch, items frozen | CaliTune epoch, items trained | test evaluation |',
);
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) {
  const cells = [c(r.bprEpoch), `${s(r.bprTrain)} / ${s(r.bprValid)}`, c(r.finetuneFrozen), c(r.finetuneTrained)];
  console.log(`| ${r.size} | ${r.shape} | ${cells.join(' | ')} | ${c(r.evaluation)} |`);
}
console.log('');
const result = (name: string, x: Cost) => console.log(`RESULT ${name} ${s(x.wall)} s (cpu ${s(x.cpu)} s)`);
const tag = process.argv.includes('--optimizer') ? `_${optimizer}` : '';
for (const r of rows) {
  result(`${r.size}_bpr_epoch${tag}`, r.bprEpoch);
  console.log(`RESULT ${r.size}_bpr_train_step${tag} ${s(r.bprTrain)} s`);
  console.log(`RESULT ${r.size}_bpr_validation${tag} ${s(r.bprValid)} s`);
  if (bprOnly) continue;
  result(`${r.size}_finetune_epoch_frozen`, r.finetuneFrozen);
  result(`${r.size}_finetune_epoch_trained`, r.finetuneTrained);
  result(`${r.size}_evaluation`, r.evaluation);
}
