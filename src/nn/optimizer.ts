import type { Parameter } from './parameter.js';
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

/** An optimizer's saved state: kind, step count, learning rate and moment buffers per parameter. */
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
  name: string,
  o: { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number },
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

/** The state of an Adam-family optimizer: copies of its first and second moments per tensor. */
export function momentsState(
  kind: string,
  step: number,
  lr: number,
  params: readonly Parameter[],
  m: readonly Float32Array[],
  v: readonly Float32Array[],
): OptimizerState {
  const buffers: Record<string, Record<string, Float32Array>> = {};
  params.forEach((p, k) => {
    buffers[p.name] = { m: m[k]!.slice(), v: v[k]!.slice() };
  });
  return { kind, step, lr, buffers };
}

/**
 * Copies a saved state's moments into `m` and `v` after checking every tensor first (a bad
 * state changes nothing). Returns the step and learning rate to restore.
 */
export function loadMomentsState(
  kind: string,
  s: OptimizerState,
  params: readonly Parameter[],
  m: readonly Float32Array[],
  v: readonly Float32Array[],
): { step: number; lr: number } {
  if (s.kind !== kind) throw new UserError(`optimizer state is for ${s.kind}, not ${kind}`);
  if (!Number.isInteger(s.step) || s.step < 0) throw new UserError(`optimizer state: bad step ${s.step}`);
  for (const p of params) {
    const b = s.buffers[p.name];
    if (!b || !b.m || !b.v) throw new UserError(`optimizer state has no moments for ${p.name}`);
    if (b.m.length !== p.value.length || b.v.length !== p.value.length) {
      throw new UserError(`optimizer state for ${p.name} has ${b.m.length} values, expected ${p.value.length}`);
    }
  }
  params.forEach((p, k) => {
    m[k]!.set(s.buffers[p.name]!.m!);
    v[k]!.set(s.buffers[p.name]!.v!);
  });
  return { step: s.step, lr: s.lr };
}
