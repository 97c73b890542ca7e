/**
 * `calitune data synth` through the CLI: same seed → same bytes, other seed → other bytes; the
 * ml-100k file is read by `data stats --data FILE` with the preset's counts and by `train --data`; a bad preset or
 * out exits 2 naming the flag and writes nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './run-cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'calitune-cli-data-synth-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

test('data synth: same seed → same bytes, other seed → other bytes; data stats and train read the file', () => {
  const a = join(tmp, 'a.inter');
  const b = join(tmp, 'b.inter');
  const c = join(tmp, 'c.inter');
  for (const [out, seed] of [
    [a, '11'],
    [b, '11'],
    [c, '12'],
  ] as const) {
    const r = runCli(['data', 'synth', '--preset', 'ml-100k', '--out', out, '--seed', seed]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /943 users, 1682 items, 100000 rows \(inter\)/);
  }
  assert.equal(sha256(a), sha256(b));
  assert.notEqual(sha256(a), sha256(c));
  const stats = runCli(['data', 'stats', '--data', a]);
  assert.equal(stats.status, 0, stats.stderr);
  assert.match(stats.stdout, /users {9}943\n/);
  assert.match(stats.stdout, /items {9}1682\n/);
  assert.match(stats.stdout, /interactions {2}100000\n/);
  const train = runCli(['train', '--data', a, '--run', join(tmp, 'run'), '--model', 'mostpop']);
  assert.equal(train.status, 0, train.stderr);
  assert.match(train.stdout, /model saved in .*\n/);
  assert.match(train.stdout, /test NDCG@10 /);
});

test('data synth: a bad or missing preset or out exits 2 naming the flag and writes nothing', () => {
  const out = join(tmp, 'never.inter');
  const cases: [string[], RegExp][] = [
    [['--preset', 'ml-30m', '--out', out], /--preset must be one of ml-100k, ml-1m, ml-20m; got 'ml-30m'/],
    [['--out', out], /--preset is required/],
    [['--preset', 'ml-100k'], /--out is required/],
    [['--preset', 'ml-100k', '--out', tmp], /--out is a folder/],
    [['--preset', 'ml-100k', '--out', out, '--format', 'tsv'], /--format must be one of inter, csv/],
  ];
  for (const [args, message] of cases) {
    const r = runCli(['data', 'synth', ...args]);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  assert.equal(existsSync(out), false);
  const help = runCli(['data', 'synth', '--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /Example/);
});
