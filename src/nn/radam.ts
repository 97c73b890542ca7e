/**
 * RAdam exactly as torch.optim.RAdam (PyTorch 1.13 and 2.x single-tensor path; defaults
 * betas (0.9, 0.999), eps 1e-8, weight_decay 0, decoupled_weight_decay off):
 *   t ← t + 1
 *   g ← grad + weight_decay·p
 *   m ← β1·m + (1−β1)·g;   v ← β2·v + (1−β2)·g²
 *   m̂ = m / (1 − β1^t)
 *   ρ∞ = 2/(1−β2) − 1;   ρ_t = ρ∞ − 2t·β2^t / (1 − β2^t)
 *   if ρ_t > 5:  r_t = sqrt((ρ_t−4)(ρ_t−2)ρ∞ / ((ρ∞−4)(ρ∞−2)ρ_t))
 *                p ← p − lr · m̂ · r_t · sqrt(1 − β2^t) / (sqrt(v) + ε)
 *   else:        p ← p − lr · m̂            (un-rectified, bias-corrected momentum)
 * With β2 = 0.999 the first rectified step is t = 6 (ρ_5 ≈ 4.996, ρ_6 ≈ 5.994).
 * Only the parameters given are updated (frozen tensors are simply not passed in). Dense:
 * every element moves every step, as PyTorch does for non-sparse embeddings.
 * Per-element arithmetic in float64, m, v and p stored as float32.
 */
import {
  checkAdamFamilyOptions,
  checkUniqueParameterNames,
  loadMomentsState,
  momentsState,
  type Optimizer,
  type OptimizerState,
  type Parameter,
} from './optimizer.js';

/** RAdam's settings, defaults as PyTorch's: lr 1e-3, betas (0.9, 0.999), eps 1e-8, no weight decay. */
export interface RAdamOptions {
  lr?: number;
  betas?: readonly [number, number];
  eps?: number;
  weightDecay?: number;
}

/** ρ_t of RAdam (exported for tests and logs). */
export function radamRho(t: number, beta2: number): number {
  const rhoInf = 2 / (1 - beta2) - 1;
  const b2t = Math.pow(beta2, t);
  return rhoInf - (2 * t * b2t) / (1 - b2t);
}

/**
 * The step size factor of RAdam's update at step t: rectified (ρ_t > 5)
 * p −= coef · m / (√v + ε) with coef = lr/bc1 · r_t · √bc2; else p −= coef · m with coef = lr/bc1.
 */
export function radamStepCoefficient(
  lr: number,
  t: number,
  beta1: number,
  beta2: number,
): { coef: number; rectified: boolean } {
  const bc1 = 1 - Math.pow(beta1, t);
  const bc2 = 1 - Math.pow(beta2, t);
  const rhoInf = 2 / (1 - beta2) - 1;
  const rhoT = radamRho(t, beta2);
  const rectified = rhoT > 5;
  const coef = rectified
    ? (lr / bc1) * Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT)) * Math.sqrt(bc2)
    : lr / bc1;
  return { coef, rectified };
}

/** torch.optim.RAdam (rectified Adam), dense, updating only the parameters given. */
export class RAdam implements Optimizer {
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  private t = 0;
  private readonly params: Parameter[];
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];

  constructor(params: readonly Parameter[], opts: RAdamOptions = {}) {
    this.lr = opts.lr ?? 1e-3;
    [this.beta1, this.beta2] = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0;
    checkAdamFamilyOptions('RAdam', this);
    checkUniqueParameterNames('RAdam', params);
    this.params = [...params];
    this.m = this.params.map((p) => new Float32Array(p.value.length));
    this.v = this.params.map((p) => new Float32Array(p.value.length));
  }

  get stepCount(): number {
    return this.t;
  }

  /** Names of the parameters this optimizer updates. */
  paramNames(): string[] {
    return this.params.map((p) => p.name);
  }

  step(): void {
    this.t++;
    const t = this.t;
    const b1 = this.beta1,
      b2 = this.beta2,
      omb1 = 1 - b1,
      omb2 = 1 - b2;
    const { coef, rectified } = radamStepCoefficient(this.lr, t, b1, b2);
    const eps = this.eps,
      wd = this.weightDecay;
    for (let k = 0; k < this.params.length; k++) {
      const p = this.params[k]!.value,
        g = this.params[k]!.grad;
      const m = this.m[k]!,
        v = this.v[k]!;
      const n = p.length;
      if (rectified) {
        for (let i = 0; i < n; i++) {
          const gi = wd !== 0 ? g[i]! + wd * p[i]! : g[i]!;
          const mi = Math.fround(b1 * m[i]! + omb1 * gi);
          const vi = Math.fround(b2 * v[i]! + omb2 * gi * gi);
          m[i] = mi;
          v[i] = vi;
          p[i] = p[i]! - (coef * mi) / (Math.sqrt(vi) + eps);
        }
      } else {
        for (let i = 0; i < n; i++) {
          const gi = wd !== 0 ? g[i]! + wd * p[i]! : g[i]!;
          const mi = Math.fround(b1 * m[i]! + omb1 * gi);
          m[i] = mi;
          v[i] = b2 * v[i]! + omb2 * gi * gi;
          p[i] = p[i]! - coef * mi;
        }
      }
    }
  }

  state(): OptimizerState {
    return momentsState('radam', this.t, this.lr, this.params, this.m, this.v);
  }

  loadState(s: OptimizerState): void {
    ({ step: this.t, lr: this.lr } = loadMomentsState('radam', s, this.params, this.m, this.v));
  }
}
