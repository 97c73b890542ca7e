import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  experimentFolderNames,
  hasResumeState,
  readExperimentConfig,
  removeIncompleteExperimentWrites,
  writeExperimentStart,
} from '../../src/store/experiment-files.js';
import { removeUnfinishedWrites } from '../../src/store/unfinished-writes.js';

test('experiment start files, folder names, resume state', (t) => {
  const run = mkdtempSync(join(tmpdir(), 'calitune-exp-'));
  t.after(() => rmSync(run, { recursive: true, force: true }));
  writeExperimentStart(run, 'c0.5', { combined_mode_alpha: 0.5 }, { name: 'c0.5', keep: 'frontier' });
  assert.equal(
    readFileSync(join(run, 'experiments', 'c0.5', 'config.json'), 'utf8'),
    '{\n  "combined_mode_alpha": 0.5\n}\n',
  );
  assert.deepEqual(JSON.parse(readFileSync(join(run, 'experiments', 'c0.5', 'experiment.json'), 'utf8')), {
    name: 'c0.5',
    keep: 'frontier',
  });
  assert.deepEqual(readExperimentConfig(run, 'c0.5'), { combined_mode_alpha: 0.5 });
  assert.equal(readExperimentConfig(run, 'other'), undefined);
  mkdirSync(join(run, 'experiments', '.hidden'));
  mkdirSync(join(run, 'experiments', 'base_model'));
  writeFileSync(join(run, 'experiments', 'afile'), '');
  assert.deepEqual(experimentFolderNames(run), ['c0.5']);
  assert.equal(hasResumeState(run, 'c0.5'), false);
  writeFileSync(join(run, 'experiments', 'c0.5', 'resume.safetensors'), '');
  assert.equal(hasResumeState(run, 'c0.5'), true);
});

test('after a crash: unfinished writes and checkpoint folders missing from the index are removed', (t) => {
  const run = mkdtempSync(join(tmpdir(), 'calitune-exp-'));
  t.after(() => rmSync(run, { recursive: true, force: true }));
  const dir = join(run, 'experiments', 'x'),
    ck = join(dir, 'checkpoints');
  for (const d of ['epoch_1', 'epoch_4', 'epoch_5']) mkdirSync(join(ck, d), { recursive: true });
  for (const f of [
    join(dir, 'log.jsonl'),
    join(dir, '.log.jsonl.tmp-12-3'),
    join(ck, '.checkpoints.json.tmp-12-9'),
    join(ck, 'checkpoints.json'),
    join(ck, 'epoch_4', 'metrics.json'),
    join(ck, 'epoch_4', '.weights.safetensors.tmp-12-4'),
    join(ck, 'epoch_5', 'metrics.json'),
  ])
    writeFileSync(f, '');
  removeIncompleteExperimentWrites(run, 'x', [1, 4]);
  assert.deepEqual(readdirSync(dir).sort(), ['checkpoints', 'log.jsonl']);
  assert.deepEqual(readdirSync(ck).sort(), ['checkpoints.json', 'epoch_1', 'epoch_4']);
  assert.deepEqual(readdirSync(join(ck, 'epoch_4')), ['metrics.json']);
  assert.equal(removeUnfinishedWrites(join(run, 'nowhere')), 0);
  assert.ok(existsSync(join(ck, 'epoch_1')));
});
