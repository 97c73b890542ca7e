/**
 * A prepared synthetic run with a random BPR backbone (dim 16), from fixed seeds: equal calls give
 * equal runs, so runs made apart (a local grid and a queued one, say) give equal results.
 */
import { generateSynthetic } from '../../src/data/synthetic.js';
import { randomSplit } from '../../src/data/split.js';
import { createRun, runPaths } from '../../src/store/run.js';
import { BprModel } from '../../src/models/bpr.js';
import { saveModel } from '../../src/models/model-file.js';
import { prepareRun } from '../../src/store/prepare-files.js';

/** The size of the synthetic log. */
export interface RunSize {
  users: number;
  items: number;
  interactions: number;
}

/** Creates `run` (split, backbone, prepare outputs) and returns it; default 120 users × 90 items, 2,400 rows. */
export function preparedSyntheticRun(
  run: string,
  size: RunSize = { users: 120, items: 90, interactions: 2400 },
): string {
  const log = generateSynthetic({ ...size, seed: 7 });
  const ds = randomSplit(log, 3);
  const info = createRun(run, ds, { kind: 'synthetic' }, 3);
  saveModel(runPaths(run).model, new BprModel({ nUsers: ds.nUsers, nItems: ds.nItems, dim: 16 }, 5), {
    dataFingerprint: info.fingerprint,
  });
  prepareRun(run, ds, { dataset: 'synth', popularitySource: 'train' });
  return run;
}
