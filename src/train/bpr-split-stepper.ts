/**
 * BPR's batch step, split in two halves with separate gradient buffers (optionally on two
 * threads, the second in a worker on shared memory), then an Adam step on their sum: dense
 * Adam over both tables (row ranges split between the threads) or lazy Adam over the rows
 * the batch touched (the row lists split between the threads). Dense Adam's gradient tables are
 * stamped rather than cleared: each half clears a row before its first addition of the batch
 * and stamps it, and Adam reads an unstamped row as zeros, so no step writes or reads the rows a
 * batch did not touch (clearing whole tables after each step took a quarter of Adam's time).
 * Lazy Adam's gradients are compact: the batch's rows are gathered first and each half
 * accumulates into [rows × d] buffers in that order, so the Adam step reads them contiguously
 * and nothing of table size is cleared. The same bits whatever the thread count, the gradient
 * layout and whether the native kernels run (docs/numeric-contract.md).
 */
import { isMainThread, Worker, workerData } from 'node:worker_threads';
import { type BprModel, sharedF32, sharedI32 } from '../models/bpr.js';
import { bprKernel, type GradStamps } from '../models/bpr-kernel.js';
import {
  type Adam,
  type AdamCoeffs,
  type AdamStampedFn,
  adamStampedRowsUpdate,
  nativeAdamStampedKernel,
} from '../nn/adam.js';
import { type AdamRowsFn, adamRowsUpdate, nativeAdamRowsKernel, SparseAdam, TouchedRows } from '../nn/sparse-adam.js';
import { nativeBprKernel, type BprKernelFn } from './bpr-native-kernel.js';

/** Polls before sleeping (see spinWhile). */
const SPIN_POLLS = 20_000;
const CMD_FB = 1,
  CMD_ADAM = 2,
  CMD_EXIT = 3;
// ctrl: [0] command sequence, [1] command, [2] last finished sequence, [3] worker error flag
// f64:  [0] start, [1] end, [2] 1/batch, [3] worker loss out, [4..9] Adam coefficients,
//       [10] touched user rows, [11] touched item rows (lazy Adam), [12] the batch's stamp (dense Adam)

interface StepBuffers {
  d: number;
  U: Float32Array;
  I: Float32Array;
  /**
   * The halves' gradients: dense Adam, two tables per half, stamped (see `stamps`); lazy Adam,
   * compact [rows × d] buffers indexed by the slot maps.
   */
  gU2: Float32Array;
  gI2: Float32Array;
  gU: Float32Array;
  gI: Float32Array;
  /** Lazy Adam: row → slot (position in userRows / itemRows) of the batch's rows; null: dense Adam. */
  uSlot: Int32Array | null;
  iSlot: Int32Array | null;
  /** Dense Adam: the row stamps of each half's gradient tables (the batch's stamp in f64[12]); null: lazy Adam. */
  stamps: { u1: Int32Array; i1: Int32Array; u2: Int32Array; i2: Int32Array } | null;
  mU: Float32Array;
  vU: Float32Array;
  mI: Float32Array;
  vI: Float32Array;
  users: Int32Array;
  pos: Int32Array;
  neg: Int32Array;
  /** Lazy Adam: the batch's distinct user and item rows, ascending (counts in f64[10], f64[11]); null: dense Adam. */
  userRows: Int32Array | null;
  itemRows: Int32Array | null;
  ctrl: Int32Array;
  f64: Float64Array;
}

/** The kernels a thread runs the Adam step with (null: the TypeScript loops). */
interface AdamKernels {
  dense: AdamStampedFn | null;
  rows: AdamRowsFn | null;
}

function adamKernels(native: boolean): AdamKernels {
  return { dense: native ? nativeAdamStampedKernel() : null, rows: native ? nativeAdamRowsKernel() : null };
}

/** Dense Adam: one half's row stamps, with the batch's stamp. */
function halfStamps(b: StepBuffers, second: boolean): GradStamps | undefined {
  if (b.stamps === null) return undefined;
  const stamp = b.f64[12]!;
  return second ? { users: b.stamps.u2, items: b.stamps.i2, stamp } : { users: b.stamps.u1, items: b.stamps.i1, stamp };
}

/** One half's forward/backward into its gradient buffers (stamped, or compact and cleared by the Adam step). */
function halfFb(b: StepBuffers, fb: BprKernelFn, s: number, e: number, invB: number, second: boolean): number {
  const gU = second ? b.gU2 : b.gU,
    gI = second ? b.gI2 : b.gI;
  if (b.uSlot === null || b.iSlot === null) {
    return fb(b.U, b.I, gU, gI, b.d, b.users, b.pos, b.neg, s, e, invB, undefined, undefined, halfStamps(b, second));
  }
  return fb(b.U, b.I, gU, gI, b.d, b.users, b.pos, b.neg, s, e, invB, b.uSlot, b.iSlot);
}

/** One half of the Adam step: the first or second half of each table's elements, or of its touched rows. */
function halfAdam(b: StepBuffers, kernels: AdamKernels, c: AdamCoeffs, second: boolean): void {
  if (b.userRows !== null && b.itemRows !== null && b.uSlot !== null && b.iSlot !== null) {
    const nu = b.f64[10]!,
      ni = b.f64[11]!;
    const [uLo, uHi] = second ? [nu >> 1, nu] : [0, nu >> 1];
    const [iLo, iHi] = second ? [ni >> 1, ni] : [0, ni >> 1];
    const users = { p: b.U, g: b.gU, g2: b.gU2, m: b.mU, v: b.vU, cols: b.d, gradSlot: b.uSlot };
    const items = { p: b.I, g: b.gI, g2: b.gI2, m: b.mI, v: b.vI, cols: b.d, gradSlot: b.iSlot };
    adamRowsUpdate(kernels.rows, users, b.userRows, uLo, uHi, c);
    adamRowsUpdate(kernels.rows, items, b.itemRows, iLo, iHi, c);
    return;
  }
  const st = b.stamps!,
    stamp = b.f64[12]!,
    d = b.d;
  const nu = b.U.length / d,
    ni = b.I.length / d;
  const [uLo, uHi] = second ? [nu >> 1, nu] : [0, nu >> 1];
  const [iLo, iHi] = second ? [ni >> 1, ni] : [0, ni >> 1];
  const users = { g: b.gU, g2: b.gU2, stamps1: st.u1, stamps2: st.u2, stamp };
  const items = { g: b.gI, g2: b.gI2, stamps1: st.i1, stamps2: st.i2, stamp };
  adamStampedRowsUpdate(kernels.dense, { p: b.U, m: b.mU, v: b.vU, cols: d }, users, uLo, uHi, c);
  adamStampedRowsUpdate(kernels.dense, { p: b.I, m: b.mI, v: b.vI, cols: d }, items, iLo, iHi, c);
}

/**
 * Polls for up to about SPIN_POLLS checks (tens of microseconds) while `busy()` holds, before the caller
 * sleeps in Atomics.wait: the two threads hand work back and forth about 40 times an epoch, each half
 * taking a millisecond or less, and waking a sleeping thread costs about as much as a short half.
 */
function spinWhile(busy: () => boolean): void {
  for (let i = 0; i < SPIN_POLLS && busy(); i++);
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

/** The batch's triples, the buffers they index and the optimizer of the step. */
export interface StepperInputs {
  model: BprModel;
  /** Dense Adam, or lazy Adam (SparseAdam) over the rows each batch touches. */
  adam: Adam | SparseAdam;
  triples: { users: Int32Array; pos: Int32Array; neg: Int32Array };
  /**
   * The largest batch forwardBackward will get (lazy Adam sizes its compact gradient buffers by
   * it: ≤ batchSize users, ≤ 2 · batchSize items); default: all the triples.
   */
  batchSize?: number;
}

/**
 * Runs each batch as two halves [s, mid) and [mid, e) with separate gradient buffers, then an
 * Adam step on their sum, split in two. With 2 threads the second halves run in a worker on
 * shared memory (Atomics for the hand-offs); with 1 thread the main thread runs both halves
 * itself: identical arithmetic either way.
 */
export class SplitStepper {
  private readonly b: StepBuffers;
  private readonly worker: Worker | undefined;
  /** This thread's fused forward/backward: native when asked for and built, else bprKernel. */
  private readonly fb: BprKernelFn;
  private readonly kernels: AdamKernels;
  private readonly adam: Adam | SparseAdam;
  /** Lazy Adam: the rows the current batch touches. */
  private readonly touched: { users: TouchedRows; items: TouchedRows } | undefined;
  private batch = { s: 0, e: 0 };
  private seq = 0;

  /** `native`: run the kernels of the binding when it has them (the same bits either way). */
  constructor(inputs: StepperInputs, threads: number, native: boolean) {
    const { model, adam, triples } = inputs;
    this.adam = adam;
    this.fb = (native ? nativeBprKernel() : null) ?? bprKernel;
    this.kernels = adamKernels(native);
    this.touched =
      adam instanceof SparseAdam
        ? { users: new TouchedRows(model.nUsers), items: new TouchedRows(model.nItems) }
        : undefined;
    this.b = stepBuffers(model, adam, triples, this.touched, inputs.batchSize ?? triples.users.length);
    const { U, I, gU, gI, mU, vU, mI, vI, users, pos, neg } = this.b;
    for (const a of [U, I, gU, gI, mU, vU, mI, vI, users, pos, neg]) {
      if (!(a.buffer instanceof SharedArrayBuffer)) threads = 1; // e.g. weights loaded into plain arrays
    }
    if (threads >= 2) {
      this.worker = new Worker(new URL(import.meta.url), {
        workerData: { calituneBprWorker: true, buffers: this.b, native },
      });
      this.worker.unref();
    }
  }

  /** The fused forward/backward of triples [s, e) into the gradient buffers; returns the summed loss. */
  forwardBackward(s: number, e: number): number {
    this.batch = { s, e };
    // lazy Adam: the slots of the compact gradient rows, before either half accumulates
    if (this.touched) this.gatherTouchedRows(this.touched);
    // dense Adam: a new stamp, so each half clears the rows it touches first
    else this.b.f64[12] = this.b.f64[12]! + 1;
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

  /** The Adam step of the last forwardBackward's batch (lazy Adam: leaves the compact gradients zeroed). */
  adamStep(): void {
    const c = this.adam.beginStep();
    if (!this.worker) {
      halfAdam(this.b, this.kernels, c, false);
      halfAdam(this.b, this.kernels, c, true);
      return;
    }
    writeCoeffs(this.b.f64, c);
    const seq = this.post(CMD_ADAM);
    halfAdam(this.b, this.kernels, c, false);
    this.waitFor(seq);
  }

  /** Stops the worker. */
  close(): void {
    if (!this.worker) return;
    this.post(CMD_EXIT);
    void this.worker.terminate();
  }

  /** The distinct users and items (positives and negatives) of the batch and their slots, for lazy Adam. */
  private gatherTouchedRows(t: { users: TouchedRows; items: TouchedRows }): void {
    const { users, pos, neg, f64, gU, gI, d } = this.b;
    const { s, e } = this.batch;
    if (Math.min(t.users.nRows, e - s) * d > gU.length || Math.min(t.items.nRows, 2 * (e - s)) * d > gI.length) {
      throw new RangeError(`SplitStepper: a batch of ${e - s} triples exceeds the batchSize it was built for`);
    }
    t.users.clear();
    t.items.clear();
    for (let k = this.batch.s; k < this.batch.e; k++) {
      t.users.add(users[k]!);
      t.items.add(pos[k]!);
      t.items.add(neg[k]!);
    }
    // rows and slots in ascending row order: Adam walks each table and its compact gradients
    // in ascending addresses (cheaper than first-seen order, measured at ML-20M size)
    t.users.sort();
    t.items.sort();
    f64[10] = t.users.count;
    f64[11] = t.items.count;
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
    spinWhile(() => Atomics.load(ctrl, 2) !== seq && Atomics.load(ctrl, 3) === 0);
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

/**
 * The shared buffers of the step: weights, both halves' gradients (compact for lazy Adam,
 * sized by batchSize), moments, triples, row lists and slots, control.
 */
function stepBuffers(
  model: BprModel,
  adam: Adam | SparseAdam,
  triples: StepperInputs['triples'],
  touched: { users: TouchedRows; items: TouchedRows } | undefined,
  batchSize: number,
): StepBuffers {
  const [pu, pi] = model.parameters() as [typeof model.userEmb, typeof model.itemEmb];
  if (pu !== model.userEmb || pi !== model.itemEmb) throw new Error('unexpected parameter order');
  const mu = adam.moments(0),
    mi = adam.moments(1);
  const d = model.dim;
  const uLen = touched ? Math.min(model.nUsers, batchSize) * d : pu.value.length,
    iLen = touched ? Math.min(model.nItems, 2 * batchSize) * d : pi.value.length;
  return {
    d,
    U: pu.value,
    I: pi.value,
    // the model's grad buffers stay untouched (zero), whoever uses the model next
    gU: sharedF32(uLen),
    gI: sharedF32(iLen),
    gU2: sharedF32(uLen),
    gI2: sharedF32(iLen),
    uSlot: touched?.users.slot ?? null,
    iSlot: touched?.items.slot ?? null,
    // stamps start at 0, batches at 1: no row counts as touched before its first batch
    stamps: touched
      ? null
      : {
          u1: sharedI32(model.nUsers),
          i1: sharedI32(model.nItems),
          u2: sharedI32(model.nUsers),
          i2: sharedI32(model.nItems),
        },
    mU: mu.m,
    vU: mu.v,
    mI: mi.m,
    vI: mi.v,
    // only the triples: the object may carry more (an epoch's data), which the worker must not get a copy of
    users: triples.users,
    pos: triples.pos,
    neg: triples.neg,
    userRows: touched?.users.list ?? null,
    itemRows: touched?.items.list ?? null,
    ctrl: new Int32Array(new SharedArrayBuffer(4 * 4)),
    f64: new Float64Array(new SharedArrayBuffer(13 * 8)),
  };
}

/** The worker's loop; `native`: use the native kernels like the main thread (the same bits either way). */
function runWorker(b: StepBuffers, native: boolean): void {
  const ctrl = b.ctrl,
    f = b.f64;
  const kernels = adamKernels(native);
  const fb = (native ? nativeBprKernel() : null) ?? bprKernel;
  let seen = 0;
  for (;;) {
    spinWhile(() => Atomics.load(ctrl, 0) === seen);
    Atomics.wait(ctrl, 0, seen);
    const seq = Atomics.load(ctrl, 0);
    if (seq === seen) continue;
    seen = seq;
    const cmd = Atomics.load(ctrl, 1);
    try {
      if (cmd === CMD_FB) f[3] = halfFb(b, fb, f[0]!, f[1]!, f[2]!, true);
      else if (cmd === CMD_ADAM) halfAdam(b, kernels, readCoeffs(f), true);
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
