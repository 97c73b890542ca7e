import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './run-cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'calitune-cli-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

function noStack(stderr: string): void {
  assert.doesNotMatch(stderr, /\n\s+at /, `stderr must not contain a stack trace:\n${stderr}`);
}

test('--help lists commands; every command has --help with an example', () => {
  const r = runCli(['--help']);
  assert.equal(r.status, 0);
  for (const c of ['demo', 'fetch', 'data stats', 'train', 'evaluate', 'import', 'doctor']) {
    assert.match(r.stdout, new RegExp(`\\n  ${c} `), `missing ${c}`);
    const h = runCli([...c.split(' '), '--help']);
    assert.equal(h.status, 0, `${c} --help`);
    assert.match(h.stdout, /Example/);
  }
});

test('a command group answers --help with its subcommands (exit 0); without a subcommand it exits 2', () => {
  for (const group of ['runs', 'data']) {
    const h = runCli([group, '--help']);
    assert.equal(h.status, 0, `${group} --help`);
    assert.match(h.stdout, new RegExp(`Usage: calitune ${group} <subcommand>`));
    const bare = runCli([group]);
    assert.equal(bare.status, 2);
    assert.match(bare.stderr, /needs a subcommand/);
  }
  assert.match(runCli(['runs', '-h']).stdout, /\n {2}runs frontier {2}/);
});

test('unknown command and unknown flag exit 2 with a clear message', () => {
  let r = runCli(['frobnicate']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown command 'frobnicate'/);
  r = runCli(['train', '--bogus']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /bogus/);
  noStack(r.stderr);
});

test('missing data file: exit 2, names the file, no partial run directory', () => {
  const run = join(tmp, 'r-missing');
  const r = runCli(['train', '--data', join(tmp, 'nope.inter'), '--run', run]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /nope\.inter/);
  noStack(r.stderr);
  assert.equal(existsSync(run), false);
});

test('empty file and header without user field: exit 2 with file name', () => {
  const empty = join(tmp, 'empty.inter');
  writeFileSync(empty, '');
  let r = runCli(['data', 'stats', '--data', empty]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /empty\.inter.*empty/);
  const bad = join(tmp, 'bad.inter');
  writeFileSync(bad, 'uid:token\titem_id:token\n1\t2\n');
  r = runCli(['data', 'stats', '--data', bad]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /bad\.inter/);
  assert.match(r.stderr, /user_id/);
  noStack(r.stderr);
});

test('a line with too few columns names file and line', () => {
  const f = join(tmp, 'short.inter');
  writeFileSync(f, 'user_id:token\titem_id:token\trating:float\n1\t2\t3\n4\n');
  const r = runCli(['data', 'stats', '--data', f]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /short\.inter:3/);
});

test('non-numeric rating with --min-rating names file and line', () => {
  const f = join(tmp, 'r.csv');
  writeFileSync(f, 'user_id,item_id,rating\n1,2,4\n1,3,good\n');
  const r = runCli(['data', 'stats', '--data', f, '--min-rating', '3']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /r\.csv:3/);
});

test('unknown model name and non-positive sizes: exit 2 before any work', () => {
  const f = join(tmp, 'tiny.inter');
  writeFileSync(
    f,
    'user_id:token\titem_id:token\n' + Array.from({ length: 40 }, (_, i) => `${i % 5}\t${i % 8}`).join('\n') + '\n',
  );
  const run = join(tmp, 'r-bad');
  let r = runCli(['train', '--data', f, '--run', run, '--model', 'svd']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown model 'svd'.*bpr/);
  r = runCli(['train', '--data', f, '--run', run, '--dim', '0']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--dim must be ≥ 1/);
  r = runCli(['train', '--data', f, '--run', run, '--epochs', '-3']);
  assert.equal(r.status, 2);
  assert.equal(existsSync(join(run, 'model')), false);
});

test('train → evaluate on a tiny file end to end (users with a single interaction included)', () => {
  // 6 users; user "solo" has a single interaction (split rule: it stays in train).
  const lines = ['user_id:token\titem_id:token'];
  for (let u = 0; u < 5; u++) for (let i = 0; i < 12; i++) lines.push(`u${u}\ti${(u * 3 + i) % 15}`);
  lines.push('solo\ti1');
  const f = join(tmp, 'small.inter');
  writeFileSync(f, lines.join('\n') + '\n');
  const run = join(tmp, 'r-small');
  const r = runCli(['train', '--data', f, '--run', run, '--dim', '8', '--epochs', '3', '--batch-size', '16', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.epochs_run, 3);
  assert.ok(out.test.ndcg >= 0 && out.test.ndcg <= 1);
  assert.deepEqual(readdirSync(join(run, 'model')).sort(), ['model.json', 'model.safetensors', 'training_log.jsonl']);
  const e = runCli(['evaluate', '--run', run, '--json']);
  assert.equal(e.status, 0, e.stderr);
  assert.equal(JSON.parse(e.stdout).test.ndcg, out.test.ndcg);
});

test('truncated safetensors: evaluate exits 2 naming the file', () => {
  const f = join(tmp, 'small2.inter');
  writeFileSync(
    f,
    'user_id:token\titem_id:token\n' +
      Array.from({ length: 60 }, (_, i) => `${i % 6}\t${(i * 7) % 13}`).join('\n') +
      '\n',
  );
  const run = join(tmp, 'r-trunc');
  assert.equal(runCli(['train', '--data', f, '--run', run, '--dim', '4', '--epochs', '1']).status, 0);
  const st = join(run, 'model', 'model.safetensors');
  const buf = require_read(st);
  writeFileSync(st, buf.subarray(0, buf.length - 10));
  const r = runCli(['evaluate', '--run', run]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /model\.safetensors/);
  noStack(r.stderr);
});

import { readFileSync } from 'node:fs';
function require_read(p: string): Buffer {
  return readFileSync(p);
}
