/**
 * BPR training, RecBole-equivalent:
 * - an epoch covers every train interaction once as (user, pos, neg), in an order reshuffled
 *   each epoch with the seeded Rng; one uniform negative per positive from items 1..nItems−1,
 *   re-drawn while it is one of the user's train items;
 * - per batch (default 4096): fused forward/backward on the batch rows only (sparse grads
 *   accumulated into the dense grad buffers), then an Adam step: dense over both tables —
 *   PyTorch's behaviour for nn.Embedding without sparse=True — or, with `optimizer: sparse`
 *   (`auto` on large catalogues, see resolveBprOptimizer), lazy Adam over the rows the batch
 *   touched (src/nn/sparse-adam.ts: torch.optim.SparseAdam's semantics);
 * - validation, early stopping and the best weights as every trainer has them (EpochLoop):
 *   NDCG@10 after every epoch (train items and item 0 masked; users without valid items
 *   skipped, as RecBole does); score ≥ best is an improvement; stop after `patience` + 1
 *   evaluations without one; the best weights are copied and restored at the end.
 * Deterministic: the same data, config and seed give bit-identical weights.
 */
import { availableParallelism } from 'node:os';
import { Rng } from '../math/rng.js';
import { BprModel, sharedI32 } from '../models/bpr.js';
import { Adam } from '../nn/adam.js';
import { SparseAdam } from '../nn/sparse-adam.js';
import { UserError } from '../util/errors.js';
import { nativeEpochDraw, type EpochDrawFn } from './bpr-native-kernel.js';
import { SplitStepper } from './bpr-split-stepper.js';
import { parseBprConfig, type BprConfig, type BprConfigInput, type BprOptimizer } from './configs/bpr.js';
import { EpochLoop, type EpochInfo, type TrainOptions, type TrainResult } from './epoch-loop.js';
import { checkTrainData, positivePairs, sampleNegatives, type TrainData } from './train-data.js';

/** What BPR trains on: the split's train and valid matrices and sizes. */
export type BprTrainData = TrainData;

/** What BPR adds to the shared epoch record. */
export interface BprEpochExtra {
  /** Sum over batches of the batch-mean loss (RecBole's printed "train loss"); `loss` is its mean. */
  lossSum: number;
  /** Breakdown of trainSeconds: shuffle + negative sampling, fused forward/backward, Adam (incl. zeroing grads). */
  phases: { sample: number; forwardBackward: number; optimizer: number };
}

/** One epoch's record; `epoch` is 0-based, as RecBole prints it. */
export type BprEpochInfo = EpochInfo & BprEpochExtra;

/** BPR's training outcome: model, history with the loss per epoch, best epoch and configuration. */
export type BprTrainResult = TrainResult<BprModel, BprConfig, BprEpochExtra>;

/** BPR's training options: those of every trainer plus its thread count. */
export interface BprTrainOptions extends TrainOptions<BprModel, BprEpochExtra> {
  /**
   * 1 or 2 threads (default 2 when the machine has ≥ 2 cores). Each batch is always split in
   * the same two halves with separate gradient buffers, so the result is bit-identical
   * whatever the thread count.
   */
  threads?: 1 | 2;
  /**
   * Run the fused forward/backward and the Adam step in the native binding when it has them
   * (default true); false forces the TypeScript loops. Both give the same bits (docs/numeric-contract.md).
   */
  native?: boolean;
}

/**
 * Tables of at least this many rows (users + items) train with lazy Adam under `optimizer:
 * auto`. ML-100K (2.6k rows), a 10k-item catalogue (10.3k) and ML-1M (9.7k) stay on dense Adam
 * and bit-identical to earlier releases; ML-20M (165k rows, a batch of 4096 touching at most
 * 12k of them) trains lazily, its Adam step following the touched rows instead of all of them.
 */
export const AUTO_SPARSE_MIN_ROWS = 50_000;

/** The optimizer BPR trains with: `auto` is sparse from AUTO_SPARSE_MIN_ROWS table rows on, else dense. */
export function resolveBprOptimizer(setting: BprOptimizer, nUsers: number, nItems: number): 'dense' | 'sparse' {
  if (setting !== 'auto') return setting;
  return nUsers + nItems >= AUTO_SPARSE_MIN_ROWS ? 'sparse' : 'dense';
}

/**
 * Trains BPR with sampled negatives and early stopping on valid NDCG, restoring the best
 * weights. The result's configuration names the optimizer used (`dense` or `sparse`, `auto`
 * resolved), so model.json records it.
 */
export function trainBpr(data: BprTrainData, config: BprConfigInput = {}, opts: BprTrainOptions = {}): BprTrainResult {
  const cfg = parseBprConfig(config);
  const { nUsers, nItems, train, valid } = data;
  checkTrainData(data, 'BPR');
  const pairs = positivePairs(data);
  const model = opts.model ?? new BprModel({ nUsers, nItems, dim: cfg.dim }, cfg.seed);
  if (model.nUsers !== nUsers || model.nItems !== nItems) throw new UserError('model sizes do not match the dataset');
  const rng = new Rng((cfg.seed ^ 0x5bd1e995) | 0);
  const optimizer = resolveBprOptimizer(cfg.optimizer, nUsers, nItems);
  const adamOptions = { lr: cfg.lr, weightDecay: cfg.weightDecay, native: opts.native ?? true };
  const adam =
    optimizer === 'sparse'
      ? new SparseAdam(model.parameters(), adamOptions)
      : new Adam(model.parameters(), adamOptions);
  const epochs = new EpochTriples(data, pairs, rng, (opts.native ?? true) ? nativeEpochDraw() : null);
  const threads = opts.threads ?? (availableParallelism() >= 2 ? 2 : 1);
  const stepperInputs = { model, adam, triples: epochs, batchSize: cfg.batchSize };
  const exec = new SplitStepper(stepperInputs, threads, opts.native ?? true);
  const used = { ...cfg, optimizer };
  const loop = new EpochLoop<BprModel, BprConfig, BprEpochExtra>(model, { train, valid }, used, opts);
  try {
    for (let epoch = 0; epoch < cfg.epochs; epoch++) {
      const e0 = performance.now();
      epochs.draw();
      const eS = performance.now();
      const b = runBatches(exec, epochs.users.length, cfg.batchSize);
      const phases = { sample: (eS - e0) / 1000, forwardBackward: b.fbMs / 1000, optimizer: b.adamMs / 1000 };
      if (loop.endEpoch(epoch, e0, b.lossSum / b.nBatches, { lossSum: b.lossSum, phases })) break;
    }
  } finally {
    exec.close();
  }
  return loop.finish();
}

/**
 * An epoch's (user, positive, negative) triples in shared memory: every train pair once, in
 * an order reshuffled by each draw, with a fresh uniform negative each. `nativeDraw`: the
 * binding's bprDrawEpoch does the same draws on the same random stream (the same bits).
 */
class EpochTriples {
  readonly users: Int32Array;
  readonly pos: Int32Array;
  readonly neg: Int32Array;
  private readonly order: Int32Array;

  constructor(
    private readonly data: TrainData,
    private readonly pairs: { users: Int32Array; items: Int32Array },
    private rng: Rng,
    private readonly nativeDraw: EpochDrawFn | null,
  ) {
    const n = pairs.users.length;
    this.order = new Int32Array(n);
    for (let i = 0; i < n; i++) this.order[i] = i;
    this.users = sharedI32(n);
    this.pos = sharedI32(n);
    this.neg = sharedI32(n);
  }

  draw(): void {
    if (this.nativeDraw !== null) {
      this.drawNative(this.nativeDraw);
      return;
    }
    const { order, users, pos, pairs } = this;
    this.rng.shuffle(order);
    for (let i = 0; i < order.length; i++) {
      const o = order[i]!;
      users[i] = pairs.users[o]!;
      pos[i] = pairs.items[o]!;
    }
    sampleNegatives(this.data.train, users, this.neg, this.data.nItems, this.rng);
  }

  /** draw() in the binding: the generator's state goes in and comes back advanced. */
  private drawNative(fn: EpochDrawFn): void {
    const st = this.rng.state();
    const words = Int32Array.from(st.slice(0, 4));
    const { train, nItems } = this.data;
    fn(
      words,
      this.order,
      this.pairs.users,
      this.pairs.items,
      this.users,
      this.pos,
      this.neg,
      train.indptr,
      train.indices,
      nItems,
    );
    // the spare normal (state()[4], when there is one) is not drawn from here: it is kept
    this.rng = Rng.fromState([...words, ...st.slice(4)]);
  }
}

/** One pass over the triples in batches of `batchSize`: fused forward/backward, then Adam. */
function runBatches(exec: SplitStepper, n: number, batchSize: number) {
  let lossSum = 0,
    nBatches = 0,
    fbMs = 0,
    adamMs = 0;
  for (let s = 0; s < n; s += batchSize) {
    const e = Math.min(n, s + batchSize);
    const b0 = performance.now();
    lossSum += exec.forwardBackward(s, e);
    const b1 = performance.now();
    exec.adamStep();
    adamMs += performance.now() - b1;
    fbMs += b1 - b0;
    nBatches++;
  }
  return { lossSum, nBatches, fbMs, adamMs };
}
