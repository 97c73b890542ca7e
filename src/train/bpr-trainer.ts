/**
 * BPR training, RecBole-equivalent:
 * - an epoch covers every train interaction once as (user, pos, neg), in an order reshuffled
 *   each epoch with the seeded Rng; one uniform negative per positive from items 1..nItems−1,
 *   re-drawn while it is one of the user's train items;
 * - per batch (default 4096): fused forward/backward on the batch rows only (sparse grads
 *   accumulated into the dense grad buffers), then a dense Adam step over both tables —
 *   PyTorch's behaviour for nn.Embedding without sparse=True;
 * - validation, early stopping and the best weights as every trainer has them (EpochLoop):
 *   NDCG@10 after every epoch (train items and item 0 masked; users without valid items
 *   skipped, as RecBole does); score ≥ best is an improvement; stop after `patience` + 1
 *   evaluations without one; the best weights are copied and restored at the end.
 * Deterministic: the same data, config and seed give bit-identical weights.
 */
import { availableParallelism } from 'node:os';
import { isMainThread, Worker, workerData } from 'node:worker_threads';
import { Rng } from '../math/rng.js';
import { BprModel, bprKernel, sharedF32 } from '../models/bpr.js';
import { Adam, adamUpdateRange, nativeAdamKernel, type AdamCoeffs } from '../nn/adam.js';
import { UserError } from '../util/errors.js';
import { parseBprConfig, type BprConfig, type BprConfigInput } from './configs/bpr.js';
import { EpochLoop, type EpochInfo, type TrainOptions, type TrainResult } from './epoch-loop.js';
import { checkTrainData, positivePairs, sampleNegatives, type TrainData } from './train-data.js';
import { nativeBprKernel, type BprKernelFn } from './bpr-native-kernel.js';

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

/** Trains BPR with sampled negatives and early stopping on valid NDCG, restoring the best weights. */
export function trainBpr(data: BprTrainData, config: BprConfigInput = {}, opts: BprTrainOptions = {}): BprTrainResult {
  const cfg = parseBprConfig(config);
  const { nUsers, nItems, train, valid } = data;
  checkTrainData(data, 'BPR');
  const pairs = positivePairs(data);
  const model = opts.model ?? new BprModel({ nUsers, nItems, dim: cfg.dim }, cfg.seed);
  if (model.nUsers !== nUsers || model.nItems !== nItems) throw new UserError('model sizes do not match the dataset');
  const rng = new Rng((cfg.seed ^ 0x5bd1e995) | 0);
  const adam = new Adam(model.parameters(), { lr: cfg.lr, weightDecay: cfg.weightDecay, native: opts.native ?? true });
  const epochs = new EpochTriples(data, pairs, rng);
  const threads = opts.threads ?? (availableParallelism() >= 2 ? 2 : 1);
  const exec = new SplitStepper(model, adam, epochs, threads, opts.native ?? true);
  const loop = new EpochLoop<BprModel, BprConfig, BprEpochExtra>(model, { train, valid }, cfg, opts);
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
 * an order reshuffled by each draw, with a fresh uniform negative each.
 */
class EpochTriples {
  readonly users: Int32Array;
  readonly pos: Int32Array;
  readonly neg: Int32Array;
  private readonly order: Int32Array;

  constructor(
    private readonly data: TrainData,
    private readonly pairs: { users: Int32Array; items: Int32Array },
    private readonly rng: Rng,
  ) {
    const n = pairs.users.length;
    this.order = new Int32Array(n);
    for (let i = 0; i < n; i++) this.order[i] = i;
    this.users = sharedI32(n);
    this.pos = sharedI32(n);
    this.neg = sharedI32(n);
  }

  draw(): void {
    const { order, users, pos, pairs } = this;
    this.rng.shuffle(order);
    for (let i = 0; i < order.length; i++) {
      const o = order[i]!;
      users[i] = pairs.users[o]!;
      pos[i] = pairs.items[o]!;
    }
    sampleNegatives(this.data.train, users, this.neg, this.data.nItems, this.rng);
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

function sharedI32(n: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(n * 4));
}

// ---- the split batch step: two halves, two gradient buffers, optionally two threads ----

const CMD_FB = 1,
  CMD_ADAM = 2,
  CMD_EXIT = 3;
// ctrl: [0] command sequence, [1] command, [2] last finished sequence, [3] worker error flag
// f64:  [0] start, [1] end, [2] 1/batch, [3] worker loss out, [4..9] Adam coefficients

interface StepBuffers {
  d: number;
  U: Float32Array;
  I: Float32Array;
  /** The second half's gradients (the first half uses the model's grad buffers). */
  gU2: Float32Array;
  gI2: Float32Array;
  gU: Float32Array;
  gI: Float32Array;
  mU: Float32Array;
  vU: Float32Array;
  mI: Float32Array;
  vI: Float32Array;
  users: Int32Array;
  pos: Int32Array;
  neg: Int32Array;
  ctrl: Int32Array;
  f64: Float64Array;
}

/** One half's forward/backward into its gradient buffers (zero: the Adam step clears them). */
function halfFb(b: StepBuffers, fb: BprKernelFn, s: number, e: number, invB: number, second: boolean): number {
  const gU = second ? b.gU2 : b.gU,
    gI = second ? b.gI2 : b.gI;
  return fb(b.U, b.I, gU, gI, b.d, b.users, b.pos, b.neg, s, e, invB);
}

type Kernel = ReturnType<typeof nativeAdamKernel>;

function halfAdam(b: StepBuffers, kernel: Kernel, c: AdamCoeffs, second: boolean): void {
  const hu = b.U.length >> 1,
    hi = b.I.length >> 1;
  if (second) {
    adamUpdateRange(kernel, b.U, b.gU, b.gU2, b.mU, b.vU, hu, b.U.length, c);
    adamUpdateRange(kernel, b.I, b.gI, b.gI2, b.mI, b.vI, hi, b.I.length, c);
  } else {
    adamUpdateRange(kernel, b.U, b.gU, b.gU2, b.mU, b.vU, 0, hu, c);
    adamUpdateRange(kernel, b.I, b.gI, b.gI2, b.mI, b.vI, 0, hi, c);
  }
}

function writeCoeffs(f: Float64Array, c: AdamCoeffs): void {
  f[4] = c.beta1;
  f[5] = c.beta2;
  f[6] = c.stepSize;
  f[7] = c.invBc2Sqrt;
  f[8] = c.eps;
  f[9] = c.weightDecay;
}

function readCoeffs(f: Float64Array): AdamCoeffs {
  return { beta1: f[4]!, beta2: f[5]!, stepSize: f[6]!, invBc2Sqrt: f[7]!, eps: f[8]!, weightDecay: f[9]! };
}

/**
 * Runs each batch as two halves [s, mid) and [mid, e) with separate gradient buffers, then a
 * dense Adam step on their sum, the element range split in two. With 2 threads the second
 * halves run in a worker on shared memory (Atomics for the hand-offs); with 1 thread the
 * main thread runs both halves itself: identical arithmetic either way.
 */
class SplitStepper {
  private readonly b: StepBuffers;
  private readonly worker: Worker | undefined;
  /** This thread's fused forward/backward: native when asked for and built, else bprKernel. */
  private readonly fb: BprKernelFn;
  private seq = 0;

  constructor(
    model: BprModel,
    private readonly adam: Adam,
    triples: { users: Int32Array; pos: Int32Array; neg: Int32Array },
    threads: number,
    native: boolean,
  ) {
    const { users, pos, neg } = triples;
    this.fb = (native ? nativeBprKernel() : null) ?? bprKernel;
    const [pu, pi] = model.parameters() as [typeof model.userEmb, typeof model.itemEmb];
    if (pu !== model.userEmb || pi !== model.itemEmb) throw new Error('unexpected parameter order');
    const mu = adam.moments(0),
      mi = adam.moments(1);
    this.b = {
      d: model.dim,
      U: pu.value,
      I: pi.value,
      gU: pu.grad,
      gI: pi.grad,
      gU2: sharedF32(pu.value.length),
      gI2: sharedF32(pi.value.length),
      mU: mu.m,
      vU: mu.v,
      mI: mi.m,
      vI: mi.v,
      users,
      pos,
      neg,
      ctrl: new Int32Array(new SharedArrayBuffer(4 * 4)),
      f64: new Float64Array(new SharedArrayBuffer(10 * 8)),
    };
    // from here on each Adam step leaves the gradient buffers zeroed for the next batch
    this.b.gU.fill(0);
    this.b.gI.fill(0);
    for (const a of [
      this.b.U,
      this.b.I,
      this.b.gU,
      this.b.gI,
      this.b.mU,
      this.b.vU,
      this.b.mI,
      this.b.vI,
      users,
      pos,
      neg,
    ]) {
      if (!(a.buffer instanceof SharedArrayBuffer)) threads = 1; // e.g. weights loaded into plain arrays
    }
    if (threads >= 2) {
      this.worker = new Worker(new URL(import.meta.url), {
        workerData: { calituneBprWorker: true, buffers: this.b, native },
      });
      this.worker.unref();
    }
  }

  forwardBackward(s: number, e: number): number {
    const invB = 1 / (e - s);
    const mid = s + ((e - s) >> 1);
    const fb = this.fb;
    if (!this.worker) return halfFb(this.b, fb, s, mid, invB, false) + halfFb(this.b, fb, mid, e, invB, true);
    const f = this.b.f64;
    f[0] = mid;
    f[1] = e;
    f[2] = invB;
    const seq = this.post(CMD_FB);
    const mine = halfFb(this.b, fb, s, mid, invB, false);
    this.waitFor(seq);
    return mine + f[3]!;
  }

  adamStep(): void {
    const c = this.adam.beginStep();
    if (!this.worker) {
      halfAdam(this.b, this.adam.nativeKernel, c, false);
      halfAdam(this.b, this.adam.nativeKernel, c, true);
      return;
    }
    writeCoeffs(this.b.f64, c);
    const seq = this.post(CMD_ADAM);
    halfAdam(this.b, this.adam.nativeKernel, c, false);
    this.waitFor(seq);
  }

  close(): void {
    if (!this.worker) return;
    this.post(CMD_EXIT);
    void this.worker.terminate();
  }

  private post(cmd: number): number {
    const ctrl = this.b.ctrl;
    Atomics.store(ctrl, 1, cmd);
    this.seq = Atomics.add(ctrl, 0, 1) + 1;
    Atomics.notify(ctrl, 0);
    return this.seq;
  }

  private waitFor(seq: number): void {
    const ctrl = this.b.ctrl;
    const t0 = Date.now();
    for (;;) {
      const done = Atomics.load(ctrl, 2);
      if (done === seq) break;
      if (Atomics.load(ctrl, 3) !== 0) throw new Error('BPR training worker failed');
      if (Date.now() - t0 > 120_000) throw new Error('BPR training worker did not respond');
      Atomics.wait(ctrl, 2, done, 1000);
    }
    if (Atomics.load(ctrl, 3) !== 0) throw new Error('BPR training worker failed');
  }
}

/** The worker's loop; `native`: use the native kernels like the main thread (the same bits either way). */
function runWorker(b: StepBuffers, native: boolean): void {
  const ctrl = b.ctrl,
    f = b.f64;
  const kernel = native ? nativeAdamKernel() : null;
  const fb = (native ? nativeBprKernel() : null) ?? bprKernel;
  let seen = 0;
  for (;;) {
    Atomics.wait(ctrl, 0, seen);
    const seq = Atomics.load(ctrl, 0);
    if (seq === seen) continue;
    seen = seq;
    const cmd = Atomics.load(ctrl, 1);
    try {
      if (cmd === CMD_FB) f[3] = halfFb(b, fb, f[0]!, f[1]!, f[2]!, true);
      else if (cmd === CMD_ADAM) halfAdam(b, kernel, readCoeffs(f), true);
    } catch {
      Atomics.store(ctrl, 3, 1);
    }
    Atomics.store(ctrl, 2, seq);
    Atomics.notify(ctrl, 2);
    if (cmd === CMD_EXIT) return;
  }
}

if (!isMainThread && (workerData as { calituneBprWorker?: boolean } | null)?.calituneBprWorker) {
  const data = workerData as { buffers: StepBuffers; native: boolean };
  runWorker(data.buffers, data.native);
}
