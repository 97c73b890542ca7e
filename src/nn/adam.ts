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

/** The native Adam kernel, its thread count and whether it can zero the gradients it reads. */
export interface NativeAdamKernel {
  fn: AdamStepFn;
  threads: number;
  /** The binding takes adamStep's `zeroGrads` argument (older builds reject it). */
  zeroes: boolean;
}

let nativeAdam: NativeAdamKernel | null | undefined;

/** Whether `fn` takes the 13th argument, zeroGrads: one step on a 1-entry tensor, then its gradient is 0. */
function takesZeroGrads(fn: AdamStepFn): boolean {
  const one = () => new Float32Array(1);
  const g = Float32Array.of(1);
  try {
    fn(one(), g, null, one(), one(), 0.9, 0.999, 0, 1, 1e-8, 0, 1, true);
  } catch {
    return false;
  }
  return g[0] === 0;
}

/** The native Adam kernel and its thread count, or null (no binding / no kernel / turned off). */
export function nativeAdamKernel(): NativeAdamKernel | null {
  if (nativeAdam !== undefined) return nativeAdam;
  nativeAdam = null;
  if (process.env.CALITUNE_NATIVE_ADAM !== '0') {
    const nb = loadNativeBlas();
    if (nb.ok && typeof nb.blas.adamStep === 'function') {
      const fn = nb.blas.adamStep.bind(nb.blas);
      nativeAdam = { fn, threads: Math.max(1, Math.min(2, availableParallelism())), zeroes: takesZeroGrads(fn) };
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
    for (let i = lo; i < hi; i++) {
      const pi = p[i]!;
      const gi = Math.fround(g[i]! + g2[i]!) + wd * pi;
      const mi = Math.fround(b1 * m[i]! + omb1 * gi);
      const vi = Math.fround(b2 * v[i]! + omb2 * gi * gi);
      m[i] = mi;
      v[i] = vi;
      p[i] = pi - (stepSize * mi) / (Math.sqrt(vi) * inv + eps);
    }
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

/**
 * adamUpdate over entries [lo, hi) through the native kernel when `kernel` is given and the
 * range holds at least NATIVE_ADAM_MIN entries (on one native thread: callers that split the
 * range across their own threads call this once per part), else the TypeScript loop. Both
 * give the same bits (native/optim.cc adam_range has the same float64 arithmetic, no contraction).
 * Afterwards entries [lo, hi) of g and g2 are 0 (in the kernel's pass when it can, else filled):
 * the next backward pass accumulates into cleared buffers without its own sweep.
 */
export function adamUpdateRange(
  kernel: NativeAdamKernel | null,
  p: Float32Array,
  g: Float32Array,
  g2: Float32Array | undefined,
  m: Float32Array,
  v: Float32Array,
  lo: number,
  hi: number,
  c: AdamCoeffs,
): void {
  if (kernel === null || hi - lo < NATIVE_ADAM_MIN) {
    adamUpdate(p, g, g2, m, v, lo, hi, c);
  } else {
    const part = (a: Float32Array) => (lo === 0 && hi === a.length ? a : a.subarray(lo, hi));
    const g2Part = g2 === undefined ? null : part(g2);
    const { beta1, beta2, stepSize, invBc2Sqrt, eps, weightDecay: wd } = c;
    const args = [part(p), part(g), g2Part, part(m), part(v), beta1, beta2, stepSize, invBc2Sqrt, eps, wd, 1] as const;
    // a binding built before zeroGrads existed rejects a 13th argument
    if (kernel.zeroes) {
      kernel.fn(...args, true);
      return;
    }
    kernel.fn(...args);
  }
  g.fill(0, lo, hi);
  g2?.fill(0, lo, hi);
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
