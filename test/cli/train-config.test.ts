/** `calitune train --config FILE.yaml`: the file sets keys, flags override them, bad files exit 2. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './run-cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'calitune-train-config-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

function tinyData(): string {
  const f = join(tmp, 'tiny.inter');
  const lines = ['user_id:token\titem_id:token'];
  for (let u = 0; u < 6; u++) for (let i = 0; i < 10; i++) lines.push(`u${u}\ti${(u * 3 + i) % 14}`);
  writeFileSync(f, `${lines.join('\n')}\n`);
  return f;
}

function trainingRecord(run: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(run, 'model', 'model.json'), 'utf8')).training;
}

test('the file sets the model and its keys; a flag overrides the file', () => {
  const data = tinyData();
  const cfg = join(tmp, 'dmf.yaml');
  writeFileSync(cfg, 'model: dmf\nembeddingSize: 8\nuserHidden: [8, 4]\nbatchSize: 32\nepochs: 3\nseed: 5\n');
  const run = join(tmp, 'r-dmf');
  const r = runCli(['train', '--data', data, '--run', run, '--config', cfg, '--epochs', '2', '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual([JSON.parse(r.stdout).model, JSON.parse(r.stdout).epochs_run], ['dmf', 2]);
  const t = trainingRecord(run);
  assert.deepEqual(
    [t.embeddingSize, t.userHidden, t.itemHidden, t.batchSize, t.epochs, t.seed, t.patience],
    [8, [8, 4], [8, 4], 32, 2, 5, 25],
  );
  assert.match(r.stderr, /split seed 5/);
});

test("--model overrides the file's model; the file's keys must then be that model's", () => {
  const data = tinyData();
  const cfg = join(tmp, 'bpr.yaml');
  writeFileSync(cfg, 'model: dmf\ndim: 4\nepochs: 1\n');
  const run = join(tmp, 'r-bpr');
  const r = runCli(['train', '--data', data, '--run', run, '--config', cfg, '--model', 'bpr']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual([trainingRecord(run).dim, trainingRecord(run).epochs], [4, 1]);
});

test('an unknown key or a bad value in the file: exit 2 naming the file, before any work', () => {
  const data = tinyData();
  const bad = join(tmp, 'bad.yaml');
  writeFileSync(bad, 'model: bpr\nepochs: 1\nhidden: [8]\n');
  const run = join(tmp, 'r-bad');
  let r = runCli(['train', '--data', data, '--run', run, '--config', bad]);
  assert.equal(r.status, 2);
  assert.ok(r.stderr.includes(`${bad}:3: unknown key 'hidden' for model bpr (allowed: model, dim, lr,`), r.stderr);
  writeFileSync(bad, 'patience: -2\n');
  r = runCli(['train', '--data', data, '--run', run, '--config', bad]);
  assert.equal(r.status, 2);
  assert.ok(r.stderr.includes(`${bad}:1: patience must be an integer ≥ 0 (got -2)`), r.stderr);
  r = runCli(['train', '--data', data, '--run', run, '--config', join(tmp, 'missing.yaml')]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /missing\.yaml: cannot read the configuration: no such file/);
  assert.equal(existsSync(run), false);
});
