/**
 * Lazy (row-sparse) Adam for embedding tables, as torch.optim.SparseAdam: a step updates only
 * the rows that have a gradient in it (the rows a batch looked up). See {@link SparseAdam}.
 */
import { availableParallelism } from 'node:os';
import { loadNativeBlas, type NativeBlas } from '../math/native.js';
import { adamCoeffs, adamUpdate, type AdamCoeffs, type AdamOptions } from './adam.js';
import {
  checkAdamFamilyOptions,
  checkUniqueParameterNames,
  loadMomentsState,
  momentsState,
  type Optimizer,
  type OptimizerState,
  type Parameter,
} from './optimizer.js';

/** The binding's lazy Adam row kernel (native/optim.cc adamRows). */
export type AdamRowsFn = NonNullable<NativeBlas['adamRows']>;

let nativeRows: AdamRowsFn | null | undefined;

/** The binding's adamRows, or null (no binding, an older build, or CALITUNE_NATIVE_ADAM=0). */
export function nativeAdamRowsKernel(): AdamRowsFn | null {
  if (nativeRows !== undefined) return nativeRows;
  nativeRows = null;
  if (process.env.CALITUNE_NATIVE_ADAM !== '0') {
    const nb = loadNativeBlas();
    // a build without compactGrads would reject the compact form: the TypeScript loop then
    if (nb.ok && typeof nb.blas.adamRows === 'function' && nb.blas.compactGrads === true) {
      nativeRows = nb.blas.adamRows.bind(nb.blas);
    }
  }
  return nativeRows;
}

/**
 * A (rows × cols) tensor for adamRowsUpdate: weights, moments and one or two gradient buffers
 * (summed, rounded to float32). With `gradSlot` the gradients are not whole tables but compact
 * [slots × cols] buffers of the batch's rows: row r's gradient is their row gradSlot[r].
 */
export interface AdamRowsTensor {
  /** The weights. */
  p: Float32Array;
  /** The gradient (a whole table, or compact rows: see gradSlot). */
  g: Float32Array;
  /** A second gradient buffer added to g, laid out like g. */
  g2?: Float32Array;
  /** Adam's first moments. */
  m: Float32Array;
  /** Adam's second moments. */
  v: Float32Array;
  /** Columns per row. */
  cols: number;
  /** Row → row of the compact g, g2 (one entry per row of p); absent: g, g2 are whole tables. */
  gradSlot?: Int32Array;
}

/**
 * Adam's element update (adamUpdate) on rows rows[lo..hi) of a (rows × cols) tensor, each row's
 * gradient entries (in g and g2) set to 0 afterwards; no other row is read or written. Through
 * `kernel` (on up to `threads` native threads) when given, else the TypeScript loop: the same
 * bits. The listed rows must be distinct and in range (RangeError otherwise on the TypeScript
 * path; the native kernel checks the range).
 */
export function adamRowsUpdate(
  kernel: AdamRowsFn | null,
  t: AdamRowsTensor,
  rows: Int32Array,
  lo: number,
  hi: number,
  c: AdamCoeffs,
  threads = 1,
): void {
  const { p, g, g2, m, v, cols } = t;
  const slot = t.gradSlot;
  if (kernel !== null) {
    const { beta1, beta2, stepSize, invBc2Sqrt, eps, weightDecay } = c;
    kernel(
      p,
      g,
      g2 ?? null,
      m,
      v,
      cols,
      rows,
      lo,
      hi,
      beta1,
      beta2,
      stepSize,
      invBc2Sqrt,
      eps,
      weightDecay,
      true,
      threads,
      slot ?? null,
    );
    return;
  }
  const nRows = p.length / cols;
  for (let k = lo; k < hi; k++) {
    const r = rows[k]!;
    if (!(r >= 0 && r < nRows)) throw new RangeError(`adamRowsUpdate: row ${r} out of range [0, ${nRows})`);
    const o = r * cols;
    if (slot !== undefined) {
      compactRowUpdate(t, o, slot[r]! * cols, c);
      continue;
    }
    adamUpdate(p, g, g2, m, v, o, o + cols, c);
    g.fill(0, o, o + cols);
    g2?.fill(0, o, o + cols);
  }
}

/** adamUpdate on the row at offset o of p, m, v with its gradient at offset go of g (g2); clears the gradient. */
function compactRowUpdate(t: AdamRowsTensor, o: number, go: number, c: AdamCoeffs): void {
  const { cols, g, g2 } = t;
  if (!(go >= 0) || go + cols > g.length || (g2 !== undefined && go + cols > g2.length)) {
    throw new RangeError('adamRowsUpdate: a gradient slot lies outside the compact gradients');
  }
  const row = (a: Float32Array, at: number) => a.subarray(at, at + cols);
  const gr = row(g, go),
    g2r = g2 === undefined ? undefined : row(g2, go);
  adamUpdate(row(t.p, o), gr, g2r, row(t.m, o), row(t.v, o), 0, cols, c);
  gr.fill(0);
  g2r?.fill(0);
}

/**
 * A set of distinct row indices gathered in first-seen order (a stamp per row makes `add` O(1)
 * and `clear` free). The list lives in shared memory so a worker thread can read it.
 */
export class TouchedRows {
  /** The rows added since the last clear, first `count` entries. */
  readonly list: Int32Array;
  /**
   * Each added row's position in `list` (its slot in a stepper's compact gradient buffers);
   * entries of rows not added since the last clear are stale.
   */
  readonly slot: Int32Array;
  private n = 0;
  private readonly stamp: Int32Array;
  private mark = 1;
  /** sort()'s second buffer and digit counts (allocated on first use). */
  private scratch = new Int32Array(0);
  private digitCount = new Int32Array(0);

  constructor(readonly nRows: number) {
    this.list = new Int32Array(new SharedArrayBuffer(Math.max(1, nRows) * 4));
    this.slot = new Int32Array(new SharedArrayBuffer(Math.max(1, nRows) * 4));
    this.stamp = new Int32Array(nRows);
  }

  /** How many distinct rows were added since the last clear. */
  get count(): number {
    return this.n;
  }

  /** Forgets the rows added so far. */
  clear(): void {
    this.n = 0;
    if (++this.mark === 0x7fffffff) {
      this.stamp.fill(0);
      this.mark = 1;
    }
  }

  /**
   * Puts the rows added so far in ascending order; their slots follow (slot[list[k]] = k).
   * Rows of a table visited in address order cost less memory traffic than scattered ones
   * (measured at ML-20M size: lazy Adam's rows step about 15 % less CPU); each row's update is
   * the same in any order.
   */
  sort(): void {
    // two passes of a least-significant-digit radix sort: linear in the rows added, where
    // TypedArray#sort took ~0.7 ms for 4,000 of them (seconds per ML-20M epoch)
    const n = this.n;
    if (this.scratch.length < n) this.scratch = new Int32Array(this.nRows);
    const half = Math.ceil(Math.log2(Math.max(2, this.nRows)) / 2);
    if (this.digitCount.length < (1 << half) + 1) this.digitCount = new Int32Array((1 << half) + 1);
    radixPass(this.list, this.scratch, n, 0, half, this.digitCount);
    radixPass(this.scratch, this.list, n, half, half, this.digitCount);
    for (let k = 0; k < n; k++) this.slot[this.list[k]!] = k;
  }

  /** Adds row r (in [0, nRows)) unless it is already in. */
  add(r: number): void {
    if (this.stamp[r] !== this.mark) {
      if (!(r >= 0 && r < this.nRows)) throw new RangeError(`row ${r} out of range [0, ${this.nRows})`);
      this.stamp[r] = this.mark;
      this.slot[r] = this.n;
      this.list[this.n++] = r;
    }
  }
}

/** One stable counting-sort pass of from[0, n) into `to` by the `bits` bits from `shift` on. */
function radixPass(from: Int32Array, to: Int32Array, n: number, shift: number, bits: number, count: Int32Array): void {
  const mask = (1 << bits) - 1;
  count.fill(0, 0, mask + 2);
  for (let k = 0; k < n; k++) count[((from[k]! >> shift) & mask) + 1]!++;
  for (let b = 1; b <= mask; b++) count[b]! += count[b - 1]!;
  for (let k = 0; k < n; k++) {
    const r = from[k]!;
    to[count[(r >> shift) & mask]!++] = r;
  }
}

/** Threads of SparseAdam.step's native row update (it stays on one below 8K elements; native/optim.cc). */
const NATIVE_ROW_THREADS = Math.max(1, Math.min(2, availableParallelism()));

/**
 * Lazy Adam (torch.optim.SparseAdam's semantics, with Adam's L2 weight decay) for tensors
 * whose gradients are row-sparse, like embedding tables: a step updates only the rows that have
 * a gradient in it, with exactly dense Adam's element update (src/nn/adam.ts adamUpdate, float64
 * arithmetic, float32 storage) and the bias corrections 1 − β1^t, 1 − β2^t of the global step
 * t, as SparseAdam does (not a per-row step count). What it changes against dense Adam:
 * a row without gradient in a step keeps its weights, m and v as they are, where dense Adam
 * decays m ← β1·m, v ← β2·v and still moves the weights by the momentum (and by the weight
 * decay, which lazy Adam only applies to updated rows). A row with a gradient in every step
 * gets bit for bit the dense result; so does every row when each step touches all of them.
 * Nothing is caught up later (unlike RowSparseRAdam): the skipped updates are dropped.
 * After step() the gradients of the updated rows are 0; the others were 0 already, so a
 * caller need not clear whole gradient buffers. Rows run in the native binding's adamRows
 * when it has it (same bits; off with `native: false` or CALITUNE_NATIVE_ADAM=0).
 * The state format is 'sparse-adam' (Adam's moment buffers and step).
 */
export class SparseAdam implements Optimizer {
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  private t = 0;
  private readonly params: Parameter[];
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];
  private readonly cols: number[];
  private readonly touched: TouchedRows[];
  private readonly kernel: AdamRowsFn | null;

  constructor(params: readonly Parameter[], opts: AdamOptions = {}) {
    this.lr = opts.lr ?? 1e-3;
    [this.beta1, this.beta2] = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0;
    checkAdamFamilyOptions('SparseAdam', this);
    checkUniqueParameterNames('SparseAdam', params);
    this.params = [...params];
    this.m = this.params.map((p) => new Float32Array(new SharedArrayBuffer(p.value.length * 4)));
    this.v = this.params.map((p) => new Float32Array(new SharedArrayBuffer(p.value.length * 4)));
    const rows = this.params.map((p) => (p.shape.length >= 2 && p.shape[0]! > 0 ? p.shape[0]! : 1));
    this.cols = this.params.map((p, k) => p.value.length / rows[k]!);
    this.touched = rows.map((r) => new TouchedRows(r));
    this.kernel = opts.native === false ? null : nativeAdamRowsKernel();
  }

  /** The native row kernel, or null (for callers that split the update themselves). */
  get nativeKernel(): AdamRowsFn | null {
    return this.kernel;
  }

  /** The number of steps taken (the t of the bias corrections). */
  get stepCount(): number {
    return this.t;
  }

  /**
   * One update. `rows[k]`, when given, lists the rows of parameter k to update (duplicates
   * allowed; a listed row with an all-zero gradient still gets its m, v decay and momentum move,
   * as a looked-up row does in SparseAdam); every other row of it must have a zero gradient.
   * Without it, the rows whose gradient has a non-zero entry are updated.
   */
  step(rows?: readonly (Int32Array | undefined)[]): void {
    const c = this.beginStep();
    for (let k = 0; k < this.params.length; k++) {
      const touched = this.touched[k]!;
      touched.clear();
      const listed = rows?.[k];
      if (listed) for (const r of listed) touched.add(r);
      else this.addRowsWithGradient(k, touched);
      const p = this.params[k]!;
      const tensor = { p: p.value, g: p.grad, m: this.m[k]!, v: this.v[k]!, cols: this.cols[k]! };
      adamRowsUpdate(this.kernel, tensor, touched.list, 0, touched.count, c, NATIVE_ROW_THREADS);
    }
  }

  /**
   * Advances the step count and returns this step's coefficients, for callers that gather the
   * rows and split the update themselves (adamRowsUpdate on the moments()).
   */
  beginStep(): AdamCoeffs {
    this.t++;
    return adamCoeffs(this, this.t);
  }

  /** The moment buffers (SharedArrayBuffer-backed) of parameter k, in constructor order. */
  moments(k: number): { m: Float32Array; v: Float32Array } {
    return { m: this.m[k]!, v: this.v[k]! };
  }

  state(): OptimizerState {
    return momentsState('sparse-adam', this.t, this.lr, this.params, this.m, this.v);
  }

  loadState(s: OptimizerState): void {
    ({ step: this.t, lr: this.lr } = loadMomentsState('sparse-adam', s, this.params, this.m, this.v));
  }

  private addRowsWithGradient(k: number, touched: TouchedRows): void {
    const g = this.params[k]!.grad,
      d = this.cols[k]!;
    for (let r = 0, o = 0; r < touched.nRows; r++, o += d) {
      for (let j = o; j < o + d; j++) {
        if (g[j] !== 0) {
          touched.add(r);
          break;
        }
      }
    }
  }
}
