/**
 * The CP set (src/store/postprocess-files.ts): readers take exactly what summary.json lists, and
 * every state a crash can leave behind — during the temp folder's writing, between the two
 * renames of the swap, before the old set is removed — resolves to exactly one complete set;
 * the next writer's recovery leaves only that set.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeNpy } from '../../src/data/npy.js';
import {
  cpSetDir,
  postprocessPaths,
  readCpList,
  readPostprocessSummary,
  recoverCpSet,
  storedCpLambdas,
} from '../../src/store/postprocess-files.js';

const tmp = mkdtempSync(join(tmpdir(), 'calitune-cpset-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const USERS = 3;

/** A complete set in `dir`: one λ, test lists filled with `fill`, summary last. */
function writeSet(run: string, dir: string, key: string, fill: number): void {
  mkdirSync(dir, { recursive: true });
  const lists = new Int32Array(USERS * 2).fill(fill);
  writeNpy(join(dir, `cp_${key}_test.npy`), '<i4', [USERS, 2], lists);
  const files = { [key]: { test: postprocessPaths(run).cpList(key, 'test'), valid: '' } };
  const summary = { format_version: 1, method: 'cp', lambdas: [Number(key)], lambda_keys: [key], m: 2, n: 2 };
  writeFileSync(join(dir, 'summary.json'), JSON.stringify({ ...summary, modes: ['test'], users: USERS, files }));
}

function siblings(run: string): string[] {
  return readdirSync(run)
    .filter((f) => f.startsWith('.postprocess'))
    .sort();
}

let n = 0;
function newRun(): string {
  const run = join(tmp, `run${++n}`);
  mkdirSync(run);
  return run;
}

test('readers take exactly what the summary lists; no summary, no set', () => {
  const run = newRun();
  const dir = postprocessPaths(run).dir;
  assert.deepEqual(storedCpLambdas(run, 'test'), []);
  mkdirSync(dir);
  writeNpy(join(dir, 'cp_0.3_test.npy'), '<i4', [USERS, 2], new Int32Array(USERS * 2));
  assert.deepEqual(storedCpLambdas(run, 'test'), [], 'lists without a summary are no set');
  writeSet(run, dir, '0.5', 7);
  assert.deepEqual(storedCpLambdas(run, 'test'), ['0.5'], 'the stray cp_0.3 list is not part of the set');
  assert.deepEqual(storedCpLambdas(run, 'valid'), []);
  assert.deepEqual(Array.from(readCpList(run, '0.5', 'test', USERS, 2, 10)), [7, 7, 7, 7, 7, 7]);
});

test('a crash while the new set is written: the old set stands; recovery removes the temp folder', () => {
  const run = newRun();
  writeSet(run, postprocessPaths(run).dir, '0.1', 1);
  const fresh = join(run, '.postprocess.tmp-99-1');
  mkdirSync(fresh);
  writeNpy(join(fresh, 'cp_0.7_test.npy'), '<i4', [USERS, 2], new Int32Array(USERS * 2).fill(2)); // no summary yet
  assert.deepEqual(storedCpLambdas(run, 'test'), ['0.1']);
  recoverCpSet(run);
  assert.deepEqual(siblings(run), []);
  assert.deepEqual(storedCpLambdas(run, 'test'), ['0.1']);
});

test('a crash between the renames: readers take the old set; recovery renames it back', () => {
  const run = newRun();
  const dir = postprocessPaths(run).dir;
  writeSet(run, dir, '0.1', 1);
  writeSet(run, join(run, '.postprocess.tmp-99-2'), '0.7', 2); // the new set, complete
  renameSync(dir, join(run, '.postprocess.old-99-3')); // first rename done, second not
  assert.equal(cpSetDir(run), join(run, '.postprocess.old-99-3'));
  assert.deepEqual(storedCpLambdas(run, 'test'), ['0.1']);
  assert.deepEqual(readPostprocessSummary(run)?.lambda_keys, ['0.1']);
  assert.deepEqual(Array.from(readCpList(run, '0.1', 'test', USERS, 2, 10)), [1, 1, 1, 1, 1, 1]);
  recoverCpSet(run);
  assert.deepEqual(siblings(run), []);
  assert.equal(cpSetDir(run), dir);
  assert.deepEqual(storedCpLambdas(run, 'test'), ['0.1']);
});

test('a crash after the new set got its name: readers take the new set; recovery removes the old one', () => {
  const run = newRun();
  writeSet(run, join(run, '.postprocess.old-99-4'), '0.1', 1);
  writeSet(run, postprocessPaths(run).dir, '0.7', 2);
  assert.deepEqual(storedCpLambdas(run, 'test'), ['0.7']);
  recoverCpSet(run);
  assert.deepEqual(siblings(run), []);
  assert.deepEqual(storedCpLambdas(run, 'test'), ['0.7']);
  assert.ok(existsSync(join(postprocessPaths(run).dir, 'cp_0.7_test.npy')));
});
