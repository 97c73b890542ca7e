/**
 * A small trained run for the serve tests: BPR (dim 8, 2 epochs) on the pipeline fixture's
 * synthetic data, prepared, CP at λ 0.3 and 0.5 (m 30), experiment 'e' fine-tuned for 2 epochs
 * with every checkpoint kept, evaluated; and its offline test-time lists by model label.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { train } from '../../src/pipeline/train.js';
import { prepare } from '../../src/pipeline/prepare.js';
import { postprocess } from '../../src/pipeline/postprocess.js';
import { finetune } from '../../src/pipeline/finetune.js';
import { evaluate } from '../../src/pipeline/evaluate.js';
import { loadRunData, runPaths } from '../../src/store/run.js';
import { readListMatrix } from '../../src/store/list-files.js';
import { readCpList } from '../../src/store/postprocess-files.js';
import { findExperiment } from '../../src/store/stored-experiment.js';
import { tempDir, writeFinetuneConfig, writeInteractions } from '../pipeline/fixture.js';

/** List length of the offline lists. */
export const K = 10;
/** The backbone's label. */
export const BASE = 'bpr base';
/** The label of experiment e's epoch 2. */
export const EPOCH = 'bpr + CaliTune e epoch 2';

/** The run, its users' tokens and the offline lists (item tokens per user token) by model label; 'cp' is λ 0.5. */
export interface TrainedRun {
  run: string;
  users: string[];
  offline: Map<string, Map<string, string[]>>;
}

function byUser(run: string, lists: Int32Array): Map<string, string[]> {
  const { ds } = loadRunData(run);
  const m = new Map<string, string[]>();
  for (let u = 1; u < ds.nUsers; u++) {
    const row = Array.from(lists.subarray(u * K, u * K + K)).filter((i) => i > 0);
    m.set(
      ds.userMap.tokens[u]!,
      row.map((i) => ds.itemMap.tokens[i]!),
    );
  }
  return m;
}

/** Builds the run in a fresh temporary folder. */
export async function trainedRun(): Promise<TrainedRun> {
  const tmp = tempDir('calitune-serve-trained-');
  const run = join(tmp, 'run');
  await train({ run, data: writeInteractions(tmp), hyperparameters: { dim: 8, epochs: 2 } });
  await prepare({ run });
  await postprocess({ run, lambdas: [0.3, 0.5], m: 30, modes: ['test'], workers: 1 });
  await finetune({ run, experiment: 'e', configFile: writeFinetuneConfig(tmp), keep: 'all' });
  await evaluate({ run, experiment: 'e' });
  const { ds } = loadRunData(run);
  const offline = new Map<string, Map<string, string[]>>();
  offline.set(BASE, byUser(run, readListMatrix(runPaths(run).baseList('test'), ds.nUsers, K, ds.nItems)));
  offline.set('cp', byUser(run, readCpList(run, '0.5', 'test', ds.nUsers, K, ds.nItems)));
  for (const epoch of findExperiment(run, 'e').epochs) {
    if (epoch.lists.test && epoch.epoch > 0)
      offline.set(
        `bpr + CaliTune e epoch ${epoch.epoch}`,
        byUser(run, readListMatrix(epoch.lists.test, ds.nUsers, K, ds.nItems)),
      );
  }
  assert.ok(offline.has(EPOCH));
  return { run, users: ds.userMap.tokens.slice(1) as string[], offline };
}
