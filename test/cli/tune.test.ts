/**
 * `calitune tune` end to end on a small synthetic log: ASHA stops trials at rungs; the same seed
 * gives the same trials, decisions and best configuration with 1 or 2 workers; the best
 * configuration is a file `train --config` reads and trains to the trial's own curve;
 * `--train-best` follows the --force rule; `runs list --kind tune` and `runs show TRIAL`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './run-cli.js';
import { trialOutcomes, writeBprSpace, writeSmallLog } from './tune-fixture.js';

const tmp = mkdtempSync(join(tmpdir(), 'calitune-cli-tune-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const data = writeSmallLog(tmp);
const space = writeBprSpace(tmp);
const tuneArgs = (run: string, workers: number) => [
  'tune',
  ...['--data', data, '--run', run, '--model', 'bpr', '--space', space],
  ...['--trials', '8', '--budget-epochs', '20', '--workers', String(workers), '--seed', '5'],
];

test('tune: ASHA stops trials; 1 or 2 workers, the same trials and best; train --config reads the best', () => {
  const a = join(tmp, 'a'),
    b = join(tmp, 'b');
  const ra = runCli(tuneArgs(a, 2));
  assert.equal(ra.status, 0, ra.stderr);
  assert.match(ra.stdout, /scheduler asha \(rungs at 5, 15 epochs, max 20\)/);
  assert.match(ra.stdout, /\[8\/8\] bpr-asha-t00\d /);
  assert.match(ra.stdout, /stopped at rung 1 \(5 epochs\)/);
  assert.match(ra.stdout, /best configuration written to .*tune\/bpr-asha\/best\.yaml/);
  const rb = runCli(tuneArgs(b, 1));
  assert.equal(rb.status, 0, rb.stderr);
  assert.deepEqual(trialOutcomes(b), trialOutcomes(a));
  const best = readFileSync(join(a, 'tune', 'bpr-asha', 'best.yaml'), 'utf8');
  assert.equal(readFileSync(join(b, 'tune', 'bpr-asha', 'best.yaml'), 'utf8'), best);
  const stopped = (trialOutcomes(a) as Array<{ status: string }>).filter((t) => t.status === 'stopped');
  assert.ok(stopped.length >= 3, `ASHA stopped ${stopped.length} of 8 trials`);

  // the best configuration trains (one BLAS thread, as in a trial) to the trial's own curve
  const id = /^# best trial (\S+) /.exec(best)![1]!;
  const trial = (trialOutcomes(a) as Array<{ id: string; curve: string; status: string }>).find((t) => t.id === id)!;
  assert.equal(trial.status, 'completed');
  const tr = runCli(['train', '--run', a, '--config', join(a, 'tune', 'bpr-asha', 'best.yaml')], {
    OPENBLAS_NUM_THREADS: '1',
  });
  assert.equal(tr.status, 0, tr.stderr);
  const log = readFileSync(join(a, 'model', 'training_log.jsonl'), 'utf8')
    .trim()
    .split('\n');
  assert.deepEqual(
    log.map((l) => (JSON.parse(l) as { valid_ndcg: number }).valid_ndcg),
    JSON.parse(trial.curve),
  );

  const list = runCli(['runs', 'list', '--run', a, '--kind', 'tune']);
  assert.equal(list.status, 0, list.stderr);
  assert.match(list.stdout, /1 tuning study, 8 trial\(s\): 0 queued, 0 running, \d stopped, \d completed, 0 failed/);
  assert.match(list.stdout, /study bpr-asha \(bpr, scheduler asha\):/);
  const show = runCli(['runs', 'show', '--run', a, 'bpr-asha-t001']);
  assert.equal(show.status, 0, show.stderr);
  assert.match(show.stdout, /^bpr-asha-t001: (completed|stopped at rung)/);
  assert.match(show.stdout, /rung +5 epochs: valid NDCG@10 0\.\d{5}/);
  assert.match(show.stdout, /config {6}seed=5 dim=\d+ lr=[\d.e-]+ batchSize=\d+ epochs=20/);
});

test('tune --train-best: trains the best as the backbone; with derived artefacts only with --force', () => {
  const run = join(tmp, 'best');
  const r = runCli([...tuneArgs(run, 2), '--scheduler', 'none', '--trials', '3', '--train-best']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /scheduler none/);
  assert.match(r.stdout, /3 completed, 0 stopped at a rung/);
  assert.match(r.stdout, /model saved in .*best\/model/);
  assert.match(r.stdout, /test NDCG@10 +0\.\d{5}/);
  mkdirSync(join(run, 'experiments', 'x'), { recursive: true }); // an experiment derived from the backbone
  const refused = runCli([...tuneArgs(run, 2), '--scheduler', 'none', '--trials', '3', '--train-best']);
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /1 experiment\(s\) derived from its backbone.*give --force to train anyway/);
  const forced = runCli([...tuneArgs(run, 2), '--scheduler', 'none', '--trials', '3', '--train-best', '--force']);
  assert.equal(forced.status, 0, forced.stderr);
  assert.match(forced.stdout, /3 trial\(s\), 0 already ended|3 already ended, 0 to run/);
});

test('tune bad input: space key with file and line, flags by name, a changed study; a failed trial', () => {
  const run = join(tmp, 'bad');
  const badSpace = join(tmp, 'bad.yaml');
  writeFileSync(badSpace, 'dim: [8]\nwings: [2, 4]\n');
  const r1 = runCli([...tuneArgs(run, 1).slice(0, 9), '--space', badSpace, '--trials', '2']);
  assert.equal(r1.status, 2);
  assert.match(r1.stderr, /bad\.yaml:2: unknown key 'wings' for model bpr/);
  const r2 = runCli([...tuneArgs(run, 1), '--scheduler', 'fifo']);
  assert.equal(r2.status, 2);
  assert.match(r2.stderr, /--scheduler/);
  const r3 = runCli(['tune', '--data', data, '--run', run, '--model', 'bpr', '--space', space]);
  assert.equal(r3.status, 2);
  assert.match(r3.stderr, /--trials is required/);
  const r4 = runCli([...tuneArgs(run, 1), '--budget-epochs', '4']);
  assert.equal(r4.status, 2);
  assert.match(r4.stderr, /--budget-epochs/);
  const r5 = runCli([...tuneArgs(run, 1), '--model', 'mostpop']);
  assert.equal(r5.status, 2);
  assert.match(r5.stderr, /--model must be one of bpr, dmf, multivae/);
  const ok = runCli([...tuneArgs(run, 1), '--trials', '2']);
  assert.equal(ok.status, 0, ok.stderr);
  const changed = runCli([...tuneArgs(run, 1), '--trials', '2', '--seed', '6']);
  assert.equal(changed.status, 2);
  assert.match(changed.stderr, /study 'bpr-asha' is already in the registry with other settings \(seed: 5 → 6\)/);

  // a trial that fails (here: a damaged split file) is recorded with its error; the command exits 1
  appendFileSync(join(run, 'data', 'splits', 'test_split.tsv'), 'garbage\n');
  const failed = runCli([...tuneArgs(run, 1), '--trials', '2', '--study', 'broken']);
  assert.equal(failed.status, 1);
  assert.match(failed.stdout, /broken-t001 failed after 0 epoch\(s\): .*test_split\.tsv:\d+: expected 2 tab-separated/);
  assert.match(failed.stderr, /2 of 2 trial\(s\) failed \(recorded in the registry/);
  assert.match(runCli(['runs', 'show', '--run', run, 'broken-t002']).stdout, /error +.*test_split\.tsv/);
});
