import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCaptured } from '../../src/cli/run-captured.js';
import { writeNpy } from '../../src/data/npy.js';
import { loadPrepared } from '../../src/store/prepare-files.js';
import { isUserError } from '../../src/util/errors.js';
import { ORACLE_DIR, requireShared } from '../helpers/shared.js';
import { tinyRun } from '../helpers/tiny-run.js';

process.env.CALITUNE_QUIET = '1';

const cli = runCaptured;

test('prepare on the oracle run, --popularity-source all: the oracle .popularity and .userbaseline', async (t) => {
  if (!requireShared(t, ORACLE_DIR)) return;
  const tmp = mkdtempSync(join(tmpdir(), 'calitune-prep-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const R = join(tmp, 'run');
  assert.equal((await cli(['import', '--from', ORACLE_DIR, '--run', R])).code, 0);
  const r = await cli(['prepare', '--run', R, '--popularity-source', 'all', '--dataset', 'ml-100k']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /head\s+59 items\s+20\.25%/);
  assert.match(r.out, /mainstream 189, diverse 565, niche 189/);
  for (const ext of ['popularity', 'userbaseline']) {
    assert.equal(
      readFileSync(join(R, 'prepare', `ml-100k.${ext}`), 'utf8'),
      readFileSync(join(ORACLE_DIR, `ml-100k.${ext}`), 'utf8'),
      `${ext} differs`,
    );
  }
  const p = loadPrepared(R, { nUsers: 944, nItems: 1683 });
  assert.equal(p.nGroups, 3);
  assert.deepEqual(p.summary.items_per_group, [59, 477, 1146]);
  assert.deepEqual(p.summary.empty_users, []);
  assert.equal(p.summary.user_groups.tie_break, 'lowerIdFirst');
  assert.ok(Math.abs(p.targets[3 + 0]! - 0.18181818181818182) < 1e-15);
  // default source is train only: a different grouping
  const r2 = await cli(['prepare', '--run', R, '--json']);
  assert.equal(r2.code, 0);
  const j = JSON.parse(r2.out);
  assert.equal(j.popularity_source, 'train');
  assert.equal(j.dataset, 'ml-100k-bpr');
  assert.equal(
    j.items_per_group.reduce((a: number, b: number) => a + b, 0),
    1682,
  );
});

test('prepare, tiny run: known groups and targets; a user with no train items is warned about, recorded', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'calitune-prep-tiny-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const R = await tinyRun(tmp);
  const r = await cli(['prepare', '--run', R]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /1 user\(s\) have no train items \(3\)/);
  const p = loadPrepared(R);
  assert.deepEqual(Array.from(p.itemGroup), [-1, 0, 1, 1, 1, 2, 2]);
  assert.deepEqual(Array.from(p.popularity), [0, 3, 2, 2, 2, 1, 0]);
  const T = Array.from(p.targets);
  assert.deepEqual(T.slice(3, 6), [1 / 3, 2 / 3, 0]);
  assert.deepEqual(T.slice(6, 9), [0.5, 0.5, 0]);
  assert.deepEqual(T.slice(9, 12), [0, 0, 0]);
  assert.deepEqual(T.slice(12, 15), [0.2, 0.6, 0.2]);
  assert.deepEqual(p.summary.empty_users, [3]);
  // head shares .333, .5, 0, .2 → mainstream u2, diverse u1 u4, niche u3
  assert.deepEqual(Array.from(p.userGroups.userGroup), [-1, 1, 0, 2, 1]);
  // the reference files
  const pop = readFileSync(join(R, 'prepare', 'src.popularity'), 'utf8').split('\n');
  assert.equal(pop[0], 'item\tGroup_1\tGroup_2\tGroup_3');
  assert.equal(pop[1], '[PAD]\t0\t0\t0');
  assert.equal(pop[2], 'i1\t1\t0\t0');
  const ub = readFileSync(join(R, 'prepare', 'src.userbaseline'), 'utf8').split('\n');
  assert.equal(ub[4], '3\t0.0\t0.0\t0.0');
  // other proportions
  const r3 = await cli(['prepare', '--run', R, '--proportions', '0.5,0.5', '--json']);
  assert.equal(r3.code, 0, r3.err);
  assert.deepEqual(JSON.parse(r3.out).items_per_group, [2, 4]);
});

test('prepare: bad input is a UserError (exit 2); loadPrepared without prepare names the step', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'calitune-prep-bad-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const R = await tinyRun(tmp);
  try {
    loadPrepared(R);
    assert.fail('expected a UserError');
  } catch (e) {
    assert.ok(isUserError(e));
    assert.match((e as Error).message, /run 'prepare\(run: .*\)' first/);
  }
  for (const [args, re] of [
    [['--proportions', '0.2,0.6,0.3'], /sum to 1/],
    [['--proportions', '1'], /at least 2 groups/],
    [['--proportions', '0.5,x'], /not a number/],
    [['--popularity-source', 'test'], /must be one of train, all/],
    [['--user-group-ties', 'random'], /must be one of lower, higher/],
    [['--dataset', 'a/b'], /dataset name/],
  ] as [string[], RegExp][]) {
    const r = await cli(['prepare', '--run', R, ...args]);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.err, re);
  }
  const r = await cli(['postprocess', '--run', R, '--n', '3', '--m', '5']);
  assert.equal(r.code, 2);
  assert.match(r.err, /calitune prepare --run/);
  const r2 = await cli(['prepare', '--run', join(tmp, 'nope')]);
  assert.equal(r2.code, 2);
});
