/**
 * Clean-up for the run lock's holder, the run's only writer (run-locks.ts): what killed writers
 * left in the run's own folders goes before it starts.
 */
import { join } from 'node:path';
import { runPaths } from './run.js';
import { preparePaths } from './prepare-files.js';
import { recoverCpSet } from './postprocess-files.js';
import { gridConfigsDir } from './registry-files.js';
import { removeUnfinishedWrites } from './unfinished-writes.js';

/**
 * What killed writers left in the run's own folders, removed by a run-wide writer before it starts
 * (it holds the run lock: nobody else is writing): the CP set is recovered (postprocess-files.ts)
 * and every unfinished write of the run root, data/, model/, lists/, results/, prepare/,
 * postprocess/ and grid/configs/ removed. Returns how many files went.
 */
export function removeUnfinishedRunWrites(run: string): number {
  recoverCpSet(run);
  const p = runPaths(run);
  const dirs = [run, p.data, join(p.data, 'splits'), p.model, p.lists, p.results, preparePaths(run).dir];
  dirs.push(join(run, 'postprocess'), gridConfigsDir(run));
  let n = 0;
  for (const d of dirs) n += removeUnfinishedWrites(d);
  return n;
}
