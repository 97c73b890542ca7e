import type { Parameter } from '../models/recommender.js';
import { UserError } from '../util/errors.js';

/** An optimizer updates parameter values from their accumulated gradients. */
export interface Optimizer {
  /** One update of every parameter it owns. */
  step(): void;
  /** Current learning rate (LR schedules set it). */
  lr: number;
  /** Everything needed to resume bit for bit: step count and moment buffers. */
  state(): OptimizerState;
  loadState(s: OptimizerState): void;
}

export interface OptimizerState {
  kind: string;
  step: number;
  lr: number;
  /** Per parameter name, named moment buffers (e.g. m, v). */
  buffers: Record<string, Record<string, Float32Array>>;
}

export type { Parameter };

/** Validates the hyper-parameters shared by Adam and RAdam (UserError naming the optimizer). */
export function checkAdamFamilyOptions(
  name: string, o: { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number },
): void {
  if (!(o.lr >= 0)) throw new UserError(`${name}: learning rate must be ≥ 0 (got ${o.lr})`);
  if (!(o.beta1 >= 0 && o.beta1 < 1) || !(o.beta2 >= 0 && o.beta2 < 1)) {
    throw new UserError(`${name}: betas must be in [0, 1) (got ${o.beta1}, ${o.beta2})`);
  }
  if (!(o.eps >= 0)) throw new UserError(`${name}: eps must be ≥ 0 (got ${o.eps})`);
  if (!(o.weightDecay >= 0)) throw new UserError(`${name}: weight decay must be ≥ 0 (got ${o.weightDecay})`);
}

/** Optimizer state is keyed by parameter name, so names must be unique. */
export function checkUniqueParameterNames(name: string, params: readonly Parameter[]): void {
  const names = new Set<string>();
  for (const p of params) {
    if (names.has(p.name)) throw new Error(`${name}: duplicate parameter name ${p.name}`);
    names.add(p.name);
  }
}
