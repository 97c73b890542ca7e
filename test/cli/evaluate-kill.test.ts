/**
 * kill -9 during `evaluate`, at seeded moments, switching between the test and the valid split:
 * after every kill the results file is a complete one of either evaluation (never truncated) and
 * its per-user table is its own or refused naming evaluate; compare and the report read the run;
 * a rerun completes and leaves nothing behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { randomSplit } from '../../src/data/split.js';
import { createRun, runPaths } from '../../src/store/run.js';
import { BprModel } from '../../src/models/bpr.js';
import { saveModel } from '../../src/models/model-file.js';
import { prepareRun } from '../../src/store/prepare-files.js';
import { writeBaseEvaluation } from '../../src/store/base-files.js';
import { evaluateBase } from '../../src/eval/base-eval.js';
import { perUserTableProblem, readResults, resultsPaths } from '../../src/store/results-files.js';
import { runLockPath } from '../../src/store/run-locks.js';
import { runCaptured } from '../../src/cli/run-captured.js';
import { assertClean, cliKilledAt, seeded, timedFromSeen } from './kill-moments.js';

const tmp = mkdtempSync(join(tmpdir(), 'calitune-evalkill-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const SPLITS = ['test', 'valid'] as const;

function makeRun(): string {
  const run = join(tmp, 'run');
  const ds = randomSplit(generateSynthetic({ users: 300, items: 200, interactions: 9000, seed: 11 }), 3);
  const info = createRun(run, ds, { kind: 'synthetic' }, 3);
  const model = new BprModel({ nUsers: ds.nUsers, nItems: ds.nItems, dim: 16 }, 5);
  saveModel(runPaths(run).model, model, { dataFingerprint: info.fingerprint });
  writeBaseEvaluation(run, evaluateBase(model, ds), 'bpr');
  prepareRun(run, ds, { dataset: 'synth', popularitySource: 'train' });
  return run;
}

const config = join(tmp, 'ft.yaml');
writeFileSync(
  config,
  ['random_seed: 1', 'num_epochs: 2', 'train_batch_size: 32', 'learning_rate: 0.01', 'k_candidates: 20']
    .concat(['early_stopping_patience: 3', 'accuracy_floor: 0', 'device: cpu', ''])
    .join('\n'),
);

/** The results file is complete and of one split; its per-user table is its own, or refused. */
async function assertOneEvaluation(run: string): Promise<number> {
  const p = resultsPaths(run, 'e');
  const res = readResults(p.json);
  const which = SPLITS.indexOf(res.calitune.split);
  assert.ok(which >= 0);
  const problem = perUserTableProblem(res, p.perUser);
  const cmp = await runCaptured(['compare', '--run', run, '--experiment', 'e']);
  if (problem === undefined) assert.equal(cmp.code, 0, cmp.err);
  else assert.match(cmp.err, /not the one its results file was written with.*re-run 'calitune evaluate/);
  const report = await runCaptured(['report', '--run', run, '--no-png', '--static']);
  assert.equal(report.code, 0, report.err);
  return which;
}

test('kill -9 during evaluate (seeded moments): one complete results file every time; a rerun completes', async () => {
  process.env.CALITUNE_QUIET = '1';
  const run = makeRun();
  for (const args of [['postprocess', '--run', run, '--lambdas', '0.3,0.6', '--m', '40', '--workers', '1']]) {
    const r = await runCaptured(args);
    assert.equal(r.code, 0, r.err);
  }
  assert.equal((await runCaptured(['finetune', '--run', run, '--name', 'e', '--config', config])).code, 0);
  const first = await runCaptured(['evaluate', '--run', run, '--experiment', 'e']);
  assert.equal(first.code, 0, first.err);
  const lockSeen = () => existsSync(runLockPath(run, { experiment: 'e' }));
  // The kill moments spread over how long the work takes on this machine, quiet or loaded.
  const timed = await timedFromSeen(['evaluate', '--run', run, '--experiment', 'e', '--split', 'test'], lockSeen);
  assert.equal(timed.code, 0);
  const rand = seeded(20261202);
  let current = 0;
  const outcomes: (number | null)[] = [];
  for (let attempt = 0; attempt < 6; attempt++) {
    const target = 1 - current;
    const args = ['evaluate', '--run', run, '--experiment', 'e', '--split', SPLITS[target]!];
    const code = await cliKilledAt(args, lockSeen, Math.floor(rand() * 0.9 * timed.ms));
    outcomes.push(code);
    const seen = await assertOneEvaluation(run);
    if (code === 0) assert.equal(seen, target, 'a finished evaluate leaves its own results');
    current = seen;
  }
  assert.ok(outcomes.filter((c) => c === null).length >= 3, `most kills land in the work: ${outcomes.join(' ')}`);
  const rerun = await runCaptured(['evaluate', '--run', run, '--experiment', 'e']);
  assert.equal(rerun.code, 0, rerun.err);
  assert.equal(await assertOneEvaluation(run), 0);
  assert.equal((await runCaptured(['compare', '--run', run, '--experiment', 'e'])).code, 0);
  assertClean(run);
});
