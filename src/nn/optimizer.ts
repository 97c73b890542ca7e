import type { Parameter } from '../models/recommender.js';

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
