/**
 * The backbone and prepare's outputs as folders written whole (src/store/folder-sets.ts): what a
 * crash at each step of a swap leaves, what their readers take, and what the next writer recovers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commitNewModel, hasModel, modelPaths, newModelFolder } from '../../src/store/model-files.js';
import { preparePaths } from '../../src/store/prepare-files.js';
import { currentSetFolder, freshSetFolder, recoverSetFolder, swapInSetFolder } from '../../src/store/folder-sets.js';

const tmp = mkdtempSync(join(tmpdir(), 'calitune-folder-sets-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

/** A run folder with a backbone whose sidecar says `which`. */
function runWithModel(name: string, which: string): string {
  const run = join(tmp, name);
  mkdirSync(join(run, 'model'), { recursive: true });
  writeFileSync(join(run, 'model', 'model.safetensors'), which);
  writeFileSync(join(run, 'model', 'model.json'), `{"which":"${which}"}`);
  return run;
}

test('a new backbone is written beside RUN/model and swapped in whole', () => {
  const run = runWithModel('swap', 'old');
  const fresh = newModelFolder(run);
  writeFileSync(fresh.tensors, 'new');
  assert.equal(modelPaths(run).dir, join(run, 'model'), 'until the swap, readers take the old backbone');
  writeFileSync(fresh.sidecar, '{"which":"new"}');
  commitNewModel(run, fresh.dir);
  assert.deepEqual(readdirSync(run), ['model']);
  assert.deepEqual(readdirSync(join(run, 'model')).sort(), ['model.json', 'model.safetensors']);
});

test('a crash while the new backbone is written: the old one stands; the next writer removes the temp', () => {
  const run = runWithModel('killed-writing', 'old');
  const fresh = newModelFolder(run);
  writeFileSync(fresh.tensors, 'half');
  assert.equal(modelPaths(run).dir, join(run, 'model'));
  const next = newModelFolder(run); // the next train
  assert.ok(!existsSync(fresh.dir), "the killed writer's folder is gone");
  assert.deepEqual(readdirSync(run).sort(), [next.dir.slice(run.length + 1), 'model'].sort());
});

test('a crash between the renames: readers take the old backbone; the next writer renames it back', () => {
  const run = runWithModel('killed-swapping', 'old');
  const set = { parent: run, name: 'model', marker: 'model.json' };
  const fresh = freshSetFolder(set);
  mkdirSync(fresh);
  writeFileSync(join(fresh, 'model.json'), '{"which":"new"}');
  renameSync(join(run, 'model'), join(run, '.model.old-99-1')); // killed right after the first rename
  assert.equal(modelPaths(run).dir, join(run, '.model.old-99-1'));
  assert.ok(hasModel(run));
  assert.equal(currentSetFolder(set), join(run, '.model.old-99-1'));
  recoverSetFolder(set);
  assert.deepEqual(readdirSync(run), ['model']);
  assert.equal(modelPaths(run).dir, join(run, 'model'));
});

test('prepare: an old set without its final name is found by preparePaths; a swap replaces the folder whole', () => {
  const run = join(tmp, 'prepare');
  const set = { parent: run, name: 'prepare', marker: 'summary.json' };
  mkdirSync(join(run, '.prepare.old-99-1'), { recursive: true });
  writeFileSync(join(run, '.prepare.old-99-1', 'summary.json'), '{}');
  mkdirSync(join(run, '.prepare.old-99-2'));
  assert.equal(preparePaths(run).dir, join(run, '.prepare.old-99-1'), 'only a folder with its marker is a set');
  recoverSetFolder(set);
  assert.deepEqual(readdirSync(run), ['prepare']);
  writeFileSync(join(run, 'prepare', 'stray.npy'), 'x');
  const fresh = freshSetFolder(set);
  mkdirSync(fresh);
  writeFileSync(join(fresh, 'summary.json'), '{"new":true}');
  swapInSetFolder(set, fresh);
  assert.deepEqual(readdirSync(join(run, 'prepare')), ['summary.json'], 'nothing of the old set is left');
  assert.deepEqual(readdirSync(run), ['prepare']);
});
