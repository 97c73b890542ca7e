import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCaptured } from '../../src/cli/run-captured.js';
import { readNpyMatrixI32, writeNpy } from '../../src/data/npy.js';
import { ORACLE_DIR, requireShared } from '../helpers/shared.js';

import { tinyRun } from '../helpers/tiny-run.js';

process.env.CALITUNE_QUIET = '1';

const cli = runCaptured;

const LAMBDAS = ['0.1', '0.2', '0.3', '0.4', '0.5', '0.6', '0.7', '0.8', '0.9'];

test("postprocess from the oracle embeddings: CP lists equal the oracle's for ≥ 99% of users at every λ", async (t) => {
  if (!requireShared(t, ORACLE_DIR)) return;
  const tmp = mkdtempSync(join(tmpdir(), 'calitune-pp-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const R = join(tmp, 'run');
  assert.equal((await cli(['import', '--from', ORACLE_DIR, '--run', R])).code, 0);
  assert.equal((await cli(['prepare', '--run', R, '--popularity-source', 'all'])).code, 0);
  const r = await cli(['postprocess', '--run', R, '--workers', '1']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /re-ranking test : [\d.]+ ms \([\d.]+ ms per λ\)/);
  const s = JSON.parse(readFileSync(join(R, 'postprocess', 'summary.json'), 'utf8'));
  assert.deepEqual(s.lambda_keys, LAMBDAS);
  assert.equal(s.workers_used, 0); // in this thread
  for (const l of LAMBDAS) {
    const ours = readNpyMatrixI32(join(R, 'postprocess', `cp_${l}_test.npy`));
    const ref = readNpyMatrixI32(join(ORACLE_DIR, 'lists', `cp_result_${l}_test.npy`));
    assert.deepEqual([ours.rows, ours.cols], [944, 10]);
    let same = 0;
    for (let u = 1; u < 944; u++) {
      let eq = true;
      for (let j = 0; j < 10; j++)
        if (ours.data[u * 10 + j] !== ref.data[u * 10 + j]) {
          eq = false;
          break;
        }
      if (eq) same++;
    }
    assert.ok(same / 943 >= 0.99, `λ ${l}: ${same}/943 identical`);
    assert.deepEqual(Array.from(ours.data.subarray(0, 10)), new Array(10).fill(-1));
    // valid-time lists exist, never contain a train item, and differ from test-time ones somewhere
    const v = readNpyMatrixI32(join(R, 'postprocess', `cp_${l}_valid.npy`));
    assert.deepEqual([v.rows, v.cols], [944, 10]);
  }
  // λ = 0 is the base model's order (CP with no calibration weight = top-n by score)
  const r0 = await cli(['postprocess', '--run', R, '--lambdas', '0', '--modes', 'test']);
  assert.equal(r0.code, 0, r0.err);
  const z = readNpyMatrixI32(join(R, 'postprocess', 'cp_0_test.npy')),
    b = readNpyMatrixI32(join(R, 'lists', 'base_test.npy'));
  assert.deepEqual(Array.from(z.data), Array.from(b.data));
});

test('postprocess: bad λ, m < n, bad workers/modes are UserErrors (exit 2)', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'calitune-pp-bad-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  // no run needed: flags are validated first
  for (const [args, re] of [
    [['--lambdas', '0.5,1.5'], /must be ≤ 1|λ must be in \[0, 1\]/],
    [['--lambdas=-0.1'], /must be ≥ 0|λ must be in \[0, 1\]/],
    [['--lambdas', '0.5,0.5'], /duplicates/],
    [['--m', '5', '--n', '10'], /--m \(5\) must be an integer ≥ --n \(10\)/],
    [['--n', '0'], /--n must be ≥ 1/],
    [['--workers', '0'], /--workers must be ≥ 1/],
    [['--modes', 'train'], /'train' is not 'test' or 'valid'/],
  ] as [string[], RegExp][]) {
    const r = await cli(['postprocess', '--run', join(tmp, 'none'), ...args]);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.err, re, args.join(' '));
  }
});

test('postprocess + evaluate, tiny run: a user with no train items and lists shorter than n give no NaN', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'calitune-pp-tiny-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const R = await tinyRun(tmp);
  assert.equal((await cli(['prepare', '--run', R])).code, 0);
  const r = await cli(['postprocess', '--run', R, '--lambdas', '0.5,1', '--m', '4', '--n', '3']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /1 user\(s\) without train items get the plain top-3/);
  const l = readNpyMatrixI32(join(R, 'postprocess', 'cp_0.5_test.npy'));
  // user 4: only item 6 is left after masking train and valid
  assert.deepEqual(Array.from(l.data.subarray(12, 15)), [6, -1, -1]);
  // user 3 (no train items; valid item 2 masked): plain top-3 by score of items 1,3,4,5,6
  // user 3 embedding (0.7, 0.7): scores 1:.7 3:.77 4:.7 5:.735 6:.7 → 3, 5, then 1 (tie → lower id)
  assert.deepEqual(Array.from(l.data.subarray(9, 12)), [3, 5, 1]);
  const e = await cli(['evaluate', '--run', R, '--k', '3']);
  assert.equal(e.code, 0, e.err);
  const res = JSON.parse(readFileSync(join(R, 'results', 'base.json'), 'utf8'));
  const walk = (x: unknown, p: string): void => {
    if (typeof x === 'number') assert.ok(Number.isFinite(x), `${p} = ${x}`);
    else if (x && typeof x === 'object') for (const [k, v] of Object.entries(x)) walk(v, `${p}.${k}`);
  };
  walk(res, 'results');
  // (JSON object order puts the integer-like key '1' first)
  assert.deepEqual(Object.keys(res.postprocessed).sort(), ['0.5', '1']);
  const tsv = readFileSync(join(R, 'results', 'base_per_user.tsv'), 'utf8');
  assert.ok(!/NaN|undefined|Infinity/.test(tsv));
  assert.equal(tsv.trim().split('\n').length, 1 + 4 * 3);
});
