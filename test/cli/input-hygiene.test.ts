/**
 * Hostile and mistaken input through the CLI, each case with the promised answer: FIFOs refused
 * at once, binary files and long lines quoted briefly, ids trimmed (with a note) and NUL bytes
 * refused, alias bombs and inexact integers refused as bad input (exit 2) naming the file,
 * empty valid/test splits refused, temp files of a killed train removed by the next train.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aliasBomb, makeFifo } from '../helpers/hostile-inputs.js';
import { CLI, type CliResult } from './run-cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'calitune-input-hygiene-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

/** Runs the CLI with a time limit: a command that blocks (e.g. on a FIFO) fails the test instead of hanging it. */
function cli(args: string[]): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, CALITUNE_QUIET: '1' },
    timeout: 60_000,
    killSignal: 'SIGKILL',
  });
  assert.equal(r.signal, null, `calitune ${args.join(' ')} was killed after 60 s (blocked?)`);
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A RecBole .inter file of `users` users with `perUser` interactions each, over 12 items. */
function interFile(name: string, users: number, perUser: number, token = (u: number) => `u${u}`): string {
  const p = join(tmp, name);
  const lines = ['user_id:token\titem_id:token'];
  for (let u = 0; u < users; u++) for (let i = 0; i < perUser; i++) lines.push(`${token(u)}\ti${(u + i) % 12}`);
  writeFileSync(p, `${lines.join('\n')}\n`);
  return p;
}

function badInput(r: CliResult, pattern: RegExp): void {
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, pattern);
}

test('a FIFO as --config, --grid or --data is refused at once (exit 2), naming it', () => {
  const data = interFile('fifo-data.inter', 12, 6);
  const config = makeFifo(join(tmp, 'config.yaml'));
  badInput(
    cli(['train', '--data', data, '--run', join(tmp, 'r-fifo'), '--model', 'mostpop', '--config', config]),
    /config\.yaml: cannot read the configuration: it is a FIFO \(named pipe\), not a regular file/,
  );
  const grid = makeFifo(join(tmp, 'grid.yaml'));
  badInput(
    cli(['grid', '--run', join(tmp, 'r-fifo'), '--grid', grid]),
    /grid\.yaml: cannot read the grid file: it is a FIFO/,
  );
  const fifoData = makeFifo(join(tmp, 'ratings.csv'));
  badInput(
    cli(['train', '--data', fifoData, '--run', join(tmp, 'r-fifo2'), '--model', 'mostpop']),
    /ratings\.csv: .*FIFO/,
  );
  badInput(cli(['data', 'stats', '--data', '/dev/zero', '--format', 'csv']), /\/dev\/zero: .*character device/);
});

test('a YAML alias bomb as --config is bad input naming the file', () => {
  const bomb = join(tmp, 'bomb.yaml');
  writeFileSync(bomb, aliasBomb());
  const data = interFile('bomb-data.inter', 12, 6);
  badInput(
    cli(['train', '--data', data, '--run', join(tmp, 'r-bomb'), '--config', bomb]),
    /bomb\.yaml: YAML aliases expand too much/,
  );
});

test('a binary file is "looks binary" with its line; a long line is quoted to 100 characters', () => {
  const bin = join(tmp, 'bin.csv');
  writeFileSync(bin, Buffer.concat([Buffer.from('user_id,item_id\n1,2\n'), Buffer.from([0, 1, 2, 0, 255, 10])]));
  const r = cli(['data', 'stats', '--data', bin]);
  badInput(r, /bin\.csv:3: the file looks binary \(a NUL byte on this line\); expected a text file/);
  const long = join(tmp, 'long.csv');
  writeFileSync(long, `user_id,item_id,rating\n1,2,${'9x'.repeat(2_500_000)}\n`);
  const r2 = cli(['data', 'stats', '--data', long, '--min-rating', '3']);
  badInput(r2, /long\.csv:2: rating '(9x){50}…' \(5000000 characters\) is not a number/);
  assert.ok(r2.stderr.length < 400, `stderr has ${r2.stderr.length} characters`);
});

test('ids are trimmed ("196 " is 196) with one note; a NUL byte in an id is refused with file and line', () => {
  const spaced = interFile('spaced.inter', 12, 6, (u) => (u === 3 ? '196 ' : `${u === 5 ? ' ' : ''}u${u}`));
  // 196 also appears without the space: one user, not two
  writeFileSync(spaced, readFileSync(spaced, 'utf8') + '196\ti11\n');
  const run = join(tmp, 'r-spaced');
  const r = cli(['train', '--data', spaced, '--run', run, '--model', 'mostpop']);
  assert.equal(r.status, 0, r.stderr);
  const notes = r.stderr.split('\n').filter((l) => l.includes('whitespace'));
  assert.deepEqual(notes, [
    `train: note: ${spaced}: 12 ids had whitespace around them, trimmed (the first: '196 ' on line 20)`,
  ]);
  const stats = cli(['data', 'stats', '--data', spaced]);
  assert.equal(stats.status, 0, stats.stderr);
  assert.match(stats.stderr, /^data stats: note: .*spaced\.inter: 12 ids had whitespace around them, trimmed/m);
  const users = readFileSync(join(run, 'data', 'user_id_map.tsv'), 'utf8')
    .split('\n')
    .slice(1, -1);
  assert.equal(users.length, 12);
  assert.ok(users.includes('196\t4') && users.includes('u5\t6'), users.join(' '));
  const nul = join(tmp, 'nul.inter');
  writeFileSync(nul, 'user_id:token\titem_id:token\nu1\ti1\nu\u00002\ti2\n');
  badInput(cli(['data', 'stats', '--data', nul]), /nul\.inter:3: the file looks binary/);
});

test('integers beyond 2^53 in a --config file or a flag are refused', () => {
  const data = interFile('big-data.inter', 12, 6);
  const cfg = join(tmp, 'big.yaml');
  writeFileSync(cfg, 'model: bpr\nepochs: 9007199254740993\n');
  badInput(
    cli(['train', '--data', data, '--run', join(tmp, 'r-big'), '--config', cfg]),
    /big\.yaml:2: the integer '9007199254740993' is beyond 2\^53 \(9007199254740991\) and cannot be held exactly/,
  );
  badInput(
    cli(['train', '--data', data, '--run', join(tmp, 'r-big'), '--epochs', '9007199254740993']),
    /--epochs '9007199254740993' is beyond 2\^53/,
  );
  assert.equal(existsSync(join(tmp, 'r-big')), false);
});

test('every user with one interaction: train refuses with the cause, and writes no run', () => {
  const ones = interFile('ones.inter', 30, 1);
  const run = join(tmp, 'r-ones');
  badInput(
    cli(['train', '--data', ones, '--run', run, '--model', 'bpr']),
    /the valid split has no interactions: users with at most 2 interactions put none in it.*early stopping/,
  );
  badInput(
    cli(['train', '--data', ones, '--run', run, '--model', 'mostpop']),
    /the test split has no interactions: users with a single interaction put none in it/,
  );
  assert.equal(existsSync(run), false);
  // two interactions each: a test split but no valid one — fine for MostPop, with a warning
  const twos = interFile('twos.inter', 30, 2);
  const r = cli(['train', '--data', twos, '--run', join(tmp, 'r-twos'), '--model', 'mostpop']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /train: warning: the valid split is empty/);
});

test('temp files left by a killed train are removed by the next train (the run lock makes it the only writer)', () => {
  const data = interFile('tmp-data.inter', 12, 6);
  const run = join(tmp, 'r-tmp');
  assert.equal(cli(['train', '--data', data, '--run', run, '--model', 'mostpop']).status, 0);
  const splits = join(run, 'data', 'splits');
  mkdirSync(splits, { recursive: true });
  // pid 2^22 + 1 is above Linux's pid_max limit: no process has it
  const dead = join(splits, '.train_split.tsv.tmp-4194305-1');
  const model = join(run, 'model', '.model.json.tmp-4194305-2');
  writeFileSync(dead, 'half a split');
  writeFileSync(model, 'half a sidecar');
  assert.equal(cli(['train', '--run', run, '--model', 'mostpop']).status, 0);
  assert.equal(existsSync(dead), false);
  assert.equal(existsSync(model), false);
});
