/** Writes a base evaluation into the run directory (lists as .npy, metrics as JSON). */
import { writeNpy } from '../data/npy.js';
import { writeJsonAtomic } from '../util/atomic.js';
import type { BaseEvaluation } from '../eval/base-eval.js';
import { runPaths } from '../experiments/run-dir.js';

export function saveBaseEvaluation(run: string, e: BaseEvaluation, modelType: string) {
  const p = runPaths(run);
  const rows = e.lists.test.length / e.k;
  writeNpy(p.baseList('valid'), '<i4', [rows, e.k], e.lists.valid);
  writeNpy(p.baseList('test'), '<i4', [rows, e.k], e.lists.test);
  const summary = {
    model_type: modelType,
    k: e.k,
    valid: e.valid,
    test: e.test,
    lists: { valid: p.baseList('valid'), test: p.baseList('test') },
  };
  writeJsonAtomic(p.baseResults, summary);
  return summary;
}
