/**
 * How the run's backbone training ended, read from RUN/model/model.json (its `training` record),
 * with the warning the comparing commands print when it hit its epoch cap still improving
 * (the rule: src/train/convergence.ts).
 */
import { readSidecar } from '../models/model-file.js';
import { backboneConvergence, type BackboneConvergence, underTrainedWarning } from '../train/convergence.js';
import { hasModel, modelPaths } from './model-files.js';

/** The run's backbone type and training convergence; null without a trained backbone. */
export function runBackboneConvergence(run: string): { model: string; convergence: BackboneConvergence } | null {
  if (!hasModel(run)) return null;
  const sidecar = readSidecar(modelPaths(run).dir);
  const convergence = backboneConvergence(sidecar.training);
  return convergence ? { model: sidecar.model_type, convergence } : null;
}

/** The under-trained-backbone warning for `run`, or null (no backbone, or it converged). */
export function runUnderTrainedWarning(run: string): string | null {
  const b = runBackboneConvergence(run);
  return b ? underTrainedWarning(b.convergence, run, b.model) : null;
}
