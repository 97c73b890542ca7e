import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { randomSplit } from '../../src/data/split.js';
import { createRun, isRunDirectory, loadRunData, readRunInfo, runPaths } from '../../src/store/run.js';
import { isUserError } from '../../src/util/errors.js';

test('run: created, read back, its split checked against the fingerprint', (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'calitune-run-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const run = join(tmp, 'r');
  const ds = randomSplit(generateSynthetic({ users: 40, items: 30, interactions: 500, seed: 3 }), 5);
  assert.equal(isRunDirectory(run), false);
  assert.throws(
    () => readRunInfo(run),
    (e) => isUserError(e) && /is not a run directory \(no run\.json\)/.test((e as Error).message),
  );
  const info = createRun(run, ds, { kind: 'synthetic' }, 5);
  assert.equal(isRunDirectory(run), true);
  assert.deepEqual(info.sizes, {
    users: ds.nUsers - 1,
    items: ds.nItems - 1,
    train: ds.train.indices.length,
    valid: ds.valid.indices.length,
    test: ds.test.indices.length,
  });
  assert.deepEqual(readRunInfo(run), info);
  const back = loadRunData(run);
  assert.equal(back.info.fingerprint, info.fingerprint);
  assert.deepEqual([...back.ds.test.indices], [...ds.test.indices]);
  // the same data again is fine; other data is refused
  createRun(run, ds, { kind: 'synthetic' }, 5);
  const other = randomSplit(generateSynthetic({ users: 40, items: 30, interactions: 500, seed: 4 }), 5);
  assert.throws(
    () => createRun(run, other, { kind: 'synthetic' }, 5),
    (e) => isUserError(e) && /already holds a run on other data/.test((e as Error).message),
  );
  // an edited split no longer matches the fingerprint
  const p = join(runPaths(run).data, 'splits', 'test_split.tsv');
  const lines = readFileSync(p, 'utf8').trimEnd().split('\n');
  writeFileSync(p, lines.slice(0, -1).join('\n') + '\n');
  assert.throws(
    () => loadRunData(run),
    (e) => isUserError(e) && /do not match run\.json's fingerprint/.test((e as Error).message),
  );
  // another format version
  writeFileSync(runPaths(run).info, JSON.stringify({ ...info, format_version: 2 }));
  assert.throws(
    () => readRunInfo(run),
    (e) => isUserError(e) && /run format_version 2 is not supported/.test((e as Error).message),
  );
});

test('run paths: the layout of the README', () => {
  const p = runPaths('/r');
  assert.deepEqual(
    [p.info, p.data, p.model, p.trainingLog, p.baseList('valid'), p.baseResults, p.report],
    [
      '/r/run.json',
      '/r/data',
      '/r/model',
      '/r/model/training_log.jsonl',
      '/r/lists/base_valid.npy',
      '/r/results/base_model.json',
      '/r/report',
    ],
  );
});
