import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readBaseList, readBaseModelResults, writeBaseEvaluation } from '../../src/store/base-files.js';
import {
  appendTrainingLog,
  hasModel,
  modelPaths,
  readTrainingLog,
  startTrainingLog,
} from '../../src/store/model-files.js';
import { gridConfigPath, registryPath } from '../../src/store/registry-files.js';
import { runLockPath } from '../../src/store/run-locks.js';
import type { BaseEvaluation } from '../../src/eval/base-eval.js';
import { isUserError } from '../../src/util/errors.js';

const tmp = mkdtempSync(join(tmpdir(), 'calitune-base-files-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const evaluation: BaseEvaluation = {
  k: 2,
  valid: { ndcg: 0.25, ndcg_users_with_items: 0.5, users: 2, users_with_items: 1 },
  test: { ndcg: 0.125, ndcg_users_with_items: 0.125, users: 2, users_with_items: 2 },
  lists: { valid: Int32Array.from([-1, -1, 1, 2, 3, 1]), test: Int32Array.from([-1, -1, 2, 3, 1, 2]) },
};

test('base evaluation: the store writes lists and base_model.json in the known layout, and reads them back', () => {
  const a = join(tmp, 'a');
  const sa = writeBaseEvaluation(a, evaluation, 'bpr');
  const ja = readFileSync(join(a, 'results', 'base_model.json'), 'utf8');
  assert.deepEqual(JSON.parse(ja), {
    model_type: 'bpr',
    k: 2,
    valid: evaluation.valid,
    test: evaluation.test,
    lists: { valid: join(a, 'lists', 'base_valid.npy'), test: join(a, 'lists', 'base_test.npy') },
    inputs: { backbone: null }, // the weights it scored (none here: no RUN/model), src/store/results-provenance.ts
  });
  assert.deepEqual([...readBaseList(a, 'valid', 3, 2)], [-1, -1, 1, 2, 3, 1]);
  assert.deepEqual(readBaseModelResults(a), JSON.parse(ja));
  assert.deepEqual(sa.lists, { valid: join(a, 'lists', 'base_valid.npy'), test: join(a, 'lists', 'base_test.npy') });
  assert.deepEqual([...readBaseList(a, 'test', 3, 2)], [-1, -1, 2, 3, 1, 2]);
  assert.throws(
    () => readBaseList(a, 'test', 4, 2),
    (e) => isUserError(e) && /expected 4×2 lists, got 3×2/.test((e as Error).message),
  );
  assert.equal(readBaseModelResults(join(tmp, 'none')), undefined);
});

test('model folder and training log', () => {
  const run = join(tmp, 'm');
  const p = modelPaths(run);
  assert.deepEqual(
    [p.tensors, p.sidecar, p.trainingLog],
    [
      join(run, 'model', 'model.safetensors'),
      join(run, 'model', 'model.json'),
      join(run, 'model', 'training_log.jsonl'),
    ],
  );
  assert.equal(hasModel(run), false);
  startTrainingLog(run);
  appendTrainingLog(run, { epoch: 0, loss: 0.69, valid_ndcg: 0.01 });
  appendTrainingLog(run, { epoch: 1, loss: 0.5, valid_ndcg: 0.02 });
  assert.deepEqual(
    readTrainingLog(run).map((r) => [r.epoch, r.loss]),
    [
      [0, 0.69],
      [1, 0.5],
    ],
  );
  startTrainingLog(run);
  assert.deepEqual(readTrainingLog(run), [], 'a new training starts a new log');
  writeFileSync(p.trainingLog, '{"epoch": 0}\n{"loss": 1}\n');
  assert.throws(
    () => readTrainingLog(run),
    (e) =>
      isUserError(e) &&
      /training_log\.jsonl:2: field epoch: expected a finite number, got nothing/.test((e as Error).message),
  );
});

test('registry and grid files', () => {
  assert.deepEqual(
    [
      registryPath('/r'),
      gridConfigPath('/r', 'p1'),
      runLockPath('/r', 'grid'),
      runLockPath('/r', { experiment: 'p1' }),
    ],
    ['/r/registry.sqlite', '/r/grid/configs/p1.json', '/r/.locks/grid.lock', '/r/.locks/experiment.p1.lock'],
  );
});
