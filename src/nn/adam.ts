/**
 * Adam exactly as torch.optim.Adam (amsgrad off, single-tensor path):
 *   g ← grad + weight_decay·p               (L2 added to the gradient, not AdamW)
 *   m ← β1·m + (1−β1)·g
 *   v ← β2·v + (1−β2)·g²
 *   p ← p − (lr / (1−β1^t)) · m / (sqrt(v) / sqrt(1−β2^t) + ε)
 * Dense: every element of every parameter moves every step, as PyTorch does for an
 * nn.Embedding without sparse=True (rows with zero gradient still move through momentum
 * and weight decay). Per-element arithmetic in float64, stored as float32.
 *
 * step() runs the element-wise update in the native binding (native/optim.cc adamStep: the same
 * float64 arithmetic and float32 roundings, bit-identical, on up to 2 threads) for tensors of
 * at least NATIVE_ADAM_MIN elements when the binding has the kernel; otherwise (small tensors,
 * no binding, `native: false`, or CALITUNE_NATIVE_ADAM=0) the TypeScript loop adamUpdate.
 * Dense Adam over DMF's 2.76M parameters (ML-1M) is ~10 s an epoch in TypeScript.
 */
import { availableParallelism } from 'node:os';
import { loadNativeBlas, type NativeBlas } from '../math/native.js';
import {
  checkAdamFamilyOptions,
  checkUniqueParameterNames,
  loadMomentsState,
  momentsState,
  type Optimizer,
  type OptimizerState,
  type Parameter,
} from './optimizer.js';

/** Adam's settings, defaults as PyTorch's: lr 1e-3, betas (0.9, 0.999), eps 1e-8, no weight decay. */
export interface AdamOptions {
  lr?: number;
  betas?: readonly [number, number];
  eps?: number;
  weightDecay?: number;
  /** Use the native kernel when available (default true; CALITUNE_NATIVE_ADAM=0 turns it off). */
  native?: boolean;
}

/** Tensors below this size are updated in TypeScript (the N-API call costs ~1 µs). */
export const NATIVE_ADAM_MIN = 4096;

type AdamStepFn = NonNullable<NativeBlas['adamStep']>;

/** The native Adam kernel and its thread count. */
export interface NativeAdamKernel {
  fn: AdamStepFn;
  threads: number;
}

let nativeAdam: NativeAdamKernel | null | undefined;

/** The native Adam kernel and its thread count, or null (no binding / no kernel / turned off). */
export function nativeAdamKernel(): NativeAdamKernel | null {
  if (nativeAdam !== undefined) return nativeAdam;
  nativeAdam = null;
  if (process.env.CALITUNE_NATIVE_ADAM !== '0') {
    const nb = loadNativeBlas();
    if (nb.ok && typeof nb.blas.adamStep === 'function') {
      nativeAdam = { fn: nb.blas.adamStep.bind(nb.blas), threads: Math.max(1, Math.min(2, availableParallelism())) };
    }
  }
  return nativeAdam;
}

/** The per-step scalars of an Adam update, computed once for every tensor of the step. */
export interface AdamCoeffs {
  beta1: number;
  beta2: number;
  /** lr / (1 − β1^t) */
  stepSize: number;
  /** 1 / sqrt(1 − β2^t) */
  invBc2Sqrt: number;
  eps: number;
  weightDecay: number;
}

/** The coefficients of Adam step t (1-based) for the given settings: bias corrections from t. */
export function adamCoeffs(
  o: { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number },
  t: number,
): AdamCoeffs {
  const b1 = o.beta1,
    b2 = o.beta2;
  return {
    beta1: b1,
    beta2: b2,
    stepSize: o.lr / (1 - Math.pow(b1, t)),
    invBc2Sqrt: 1 / Math.sqrt(1 - Math.pow(b2, t)),
    eps: o.eps,
    weightDecay: o.weightDecay,
  };
}

/**
 * The element-wise Adam update of entries [lo, hi); the gradient is g (+ g2 when given: a
 * second partial-gradient buffer, e.g. from another thread).
 */
export function adamUpdate(
  p: Float32Array,
  g: Float32Array,
  g2: Float32Array | undefined,
  m: Float32Array,
  v: Float32Array,
  lo: number,
  hi: number,
  c: AdamCoeffs,
): void {
  const b1 = c.beta1,
    b2 = c.beta2,
    omb1 = 1 - b1,
    omb2 = 1 - b2;
  const stepSize = c.stepSize,
    inv = c.invBc2Sqrt,
    eps = c.eps,
    wd = c.weightDecay;
  if (g2 === undefined && wd === 0) {
    for (let i = lo; i < hi; i++) {
      const gi = g[i]!;
      const mi = Math.fround(b1 * m[i]! + omb1 * gi);
      const vi = Math.fround(b2 * v[i]! + omb2 * gi * gi);
      m[i] = mi;
      v[i] = vi;
      p[i] = p[i]! - (stepSize * mi) / (Math.sqrt(vi) * inv + eps);
    }
    return;
  }
  if (g2 !== undefined) {
    adamSpanTwoGrads(p, m, v, lo, hi - lo, { g, at: lo }, { g: g2, at: lo }, c);
    return;
  }
  for (let i = lo; i < hi; i++) {
    const pi = p[i]!;
    const gi = g[i]! + wd * pi;
    const mi = Math.fround(b1 * m[i]! + omb1 * gi);
    const vi = Math.fround(b2 * v[i]! + omb2 * gi * gi);
    m[i] = mi;
    v[i] = vi;
    p[i] = pi - (stepSize * mi) / (Math.sqrt(vi) * inv + eps);
  }
}

/** Where a span's gradient entries are read from: buffer g from entry `at` on. */
interface GradSpan {
  g: Float32Array;
  at: number;
}

/**
 * adamUpdate's arithmetic with two gradient buffers on entries [lo, lo + n) of p, m, v, the
 * gradients read from their own offsets (a row of zeros, say): g = fround(a + b) + wd·p.
 */
function adamSpanTwoGrads(
  p: Float32Array,
  m: Float32Array,
  v: Float32Array,
  lo: number,
  n: number,
  a: GradSpan,
  b: GradSpan,
  c: AdamCoeffs,
): void {
  const { beta1: b1, beta2: b2, stepSize, invBc2Sqrt: inv, eps, weightDecay: wd } = c;
  const omb1 = 1 - b1,
    omb2 = 1 - b2;
  const ga = a.g,
    gb = b.g,
    da = a.at - lo,
    db = b.at - lo;
  for (let i = lo; i < lo + n; i++) {
    const pi = p[i]!;
    const gi = Math.fround(ga[i + da]! + gb[i + db]!) + wd * pi;
    const mi = Math.fround(b1 * m[i]! + omb1 * gi);
    const vi = Math.fround(b2 * v[i]! + omb2 * gi * gi);
    m[i] = mi;
    v[i] = vi;
    p[i] = pi - (stepSize * mi) / (Math.sqrt(vi) * inv + eps);
  }
}

/** The binding's dense Adam over stamped gradient rows (native/adam-stamped.cc). */
export type AdamStampedFn = NonNullable<NativeBlas['adamStampedRows']>;

/** The binding's adamStampedRows, or null (no binding, an older build, or CALITUNE_NATIVE_ADAM=0). */
export function nativeAdamStampedKernel(): AdamStampedFn | null {
  if (process.env.CALITUNE_NATIVE_ADAM === '0') return null;
  const nb = loadNativeBlas();
  if (!nb.ok || nb.blas.gradStamps !== true || typeof nb.blas.adamStampedRows !== 'function') return null;
  return nb.blas.adamStampedRows.bind(nb.blas);
}

/**
 * Two gradient buffers (the halves of a batch) that are stamped instead of cleared: row r's
 * gradient in g counts only when stamps1[r] is `stamp` (the batch touched it in that half),
 * else it is zero; likewise g2 with stamps2 (src/models/bpr-kernel.ts GradStamps writes them).
 */
export interface StampedGrads {
  g: Float32Array;
  g2: Float32Array;
  stamps1: Int32Array;
  stamps2: Int32Array;
  stamp: number;
}

/**
 * Dense Adam (adamUpdate with two gradient buffers) on rows [rowLo, rowHi) of a (rows × cols)
 * tensor whose gradients are stamped: a row's unstamped half reads as zeros, which is what a
 * cleared buffer holds, so the bits are those of dense Adam on cleared buffers. Through
 * `kernel` when given (the same bits), else the TypeScript loop. Nothing is cleared.
 */
export function adamStampedRowsUpdate(
  kernel: AdamStampedFn | null,
  t: { p: Float32Array; m: Float32Array; v: Float32Array; cols: number },
  sg: StampedGrads,
  rowLo: number,
  rowHi: number,
  c: AdamCoeffs,
): void {
  const { p, m, v, cols } = t;
  if (kernel !== null) {
    const { beta1, beta2, stepSize, invBc2Sqrt, eps, weightDecay } = c;
    const { g, g2, stamps1, stamps2, stamp } = sg;
    kernel(
      p,
      g,
      g2,
      m,
      v,
      cols,
      rowLo,
      rowHi,
      stamps1,
      stamps2,
      stamp,
      beta1,
      beta2,
      stepSize,
      invBc2Sqrt,
      eps,
      weightDecay,
    );
    return;
  }
  if (!(rowLo >= 0 && rowLo <= rowHi && rowHi * cols <= p.length)) {
    throw new RangeError(`adamStampedRowsUpdate: rows [${rowLo}, ${rowHi}) out of range`);
  }
  const zero = { g: new Float32Array(cols), at: 0 };
  for (let r = rowLo; r < rowHi; r++) {
    const o = r * cols;
    const a = sg.stamps1[r] === sg.stamp ? { g: sg.g, at: o } : zero;
    const b = sg.stamps2[r] === sg.stamp ? { g: sg.g2, at: o } : zero;
    adamSpanTwoGrads(p, m, v, o, cols, a, b, c);
  }
}

/** torch.optim.Adam (L2 weight decay, no AMSGrad), dense, bit-identical in TypeScript and the native kernel. */
export class Adam implements Optimizer {
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  private t = 0;
  private readonly params: Parameter[];
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];
  private readonly kernel: NativeAdamKernel | null;

  constructor(params: readonly Parameter[], opts: AdamOptions = {}) {
    this.lr = opts.lr ?? 1e-3;
    [this.beta1, this.beta2] = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0;
    checkAdamFamilyOptions('Adam', this);
    checkUniqueParameterNames('Adam', params);
    this.params = [...params];
    this.m = this.params.map((p) => new Float32Array(new SharedArrayBuffer(p.value.length * 4)));
    this.v = this.params.map((p) => new Float32Array(new SharedArrayBuffer(p.value.length * 4)));
    this.kernel = opts.native === false ? null : nativeAdamKernel();
  }

  /** The native kernel step() uses for large tensors, or null (for callers that split the update). */
  get nativeKernel(): NativeAdamKernel | null {
    return this.kernel;
  }

  /** Whether step() updates large tensors natively. */
  get usesNative(): boolean {
    return this.kernel !== null;
  }

  get stepCount(): number {
    return this.t;
  }

  step(): void {
    const c = this.beginStep();
    const nat = this.kernel;
    for (let k = 0; k < this.params.length; k++) {
      const p = this.params[k]!;
      if (nat && p.value.length >= NATIVE_ADAM_MIN) {
        nat.fn(
          p.value,
          p.grad,
          null,
          this.m[k]!,
          this.v[k]!,
          c.beta1,
          c.beta2,
          c.stepSize,
          c.invBc2Sqrt,
          c.eps,
          c.weightDecay,
          nat.threads,
        );
      } else {
        adamUpdate(p.value, p.grad, undefined, this.m[k]!, this.v[k]!, 0, p.value.length, c);
      }
    }
  }

  /**
   * Advances the step count and returns this step's coefficients, for callers that split
   * the element-wise update (adamUpdate) across threads. step() = beginStep + adamUpdate
   * over every parameter.
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
    return momentsState('adam', this.t, this.lr, this.params, this.m, this.v);
  }

  loadState(s: OptimizerState): void {
    ({ step: this.t, lr: this.lr } = loadMomentsState('adam', s, this.params, this.m, this.v));
  }
}
