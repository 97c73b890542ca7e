/**
 * One writer per artefact, complete CP sets and reserved names, as a user meets them on a small
 * synthetic run through the real CLI (child processes): two writers at once for each writing
 * command (exactly one proceeds, the other fails at once naming the holder), a dead holder's
 * lock taken over, `postprocess` with a new λ set replacing the whole old set, `base_model` as
 * an experiment name refused, a CP set from an earlier backbone or prepare refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { randomSplit } from '../../src/data/split.js';
import { createRun, loadRunData, readRunInfo, runPaths } from '../../src/store/run.js';
import { BprModel } from '../../src/models/bpr.js';
import { saveModel } from '../../src/models/model-file.js';
import { prepareRun } from '../../src/store/prepare-files.js';
import { writeBaseEvaluation } from '../../src/store/base-files.js';
import { evaluateBase } from '../../src/eval/base-eval.js';
import { readEpochLog } from '../../src/store/epoch-log.js';
import { experimentPaths } from '../../src/store/experiment-files.js';
import { acquireRunLock, runLockPath, runLocksDir, type RunLockTarget } from '../../src/store/run-locks.js';
import { runCaptured } from '../../src/cli/run-captured.js';
import { CLI, runCli } from './run-cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'calitune-integrity-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

/** A synthetic run (120 users × 90 items), random BPR backbone with its base results, prepared. */
function makeRun(name: string): string {
  const run = join(tmp, name);
  const log = generateSynthetic({ users: 120, items: 90, interactions: 2400, seed: 7 });
  const ds = randomSplit(log, 3);
  const info = createRun(run, ds, { kind: 'synthetic' }, 3);
  const model = new BprModel({ nUsers: ds.nUsers, nItems: ds.nItems, dim: 16 }, 5);
  saveModel(runPaths(run).model, model, { dataFingerprint: info.fingerprint });
  writeBaseEvaluation(run, evaluateBase(model, ds), 'bpr');
  prepareRun(run, ds, { dataset: 'synth', popularitySource: 'train' });
  return run;
}

function writeConfig(epochs: number): string {
  const path = join(tmp, `ft-${epochs}.yaml`);
  const lines = ['random_seed: 111', `num_epochs: ${epochs}`, 'train_batch_size: 16', 'learning_rate: 0.01'];
  lines.push('freeze_item_emb: true', 'combined_mode_alpha: 0.5', 'k_candidates: 20');
  // accuracy_floor 0: the backbone is random, its valid NDCG is noise a collapse guard would react to.
  lines.push(`early_stopping_patience: ${epochs + 1}`, 'accuracy_floor: 0', 'device: cpu', '');
  writeFileSync(path, lines.join('\n'));
  return path;
}

const QUICK = writeConfig(3);
const run = makeRun('main');

/** The CLI in a child process that keeps running while the test goes on. */
function startCli(args: string[]) {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, CALITUNE_QUIET: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.resume();
  const exit = new Promise<{ status: number; stderr: string }>((res) =>
    child.on('close', (code) => res({ status: code ?? -1, stderr })),
  );
  return { child, exit };
}

async function waitFor(cond: () => boolean, what: string, ms = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Epochs of the first of two concurrent finetunes: long enough (seconds) to outlast the second's start-up. */
const LONG_EPOCHS = 400;

test('two `finetune --name same` at once: one proceeds, the other fails at once naming the holder', async () => {
  const ep = experimentPaths(run, 'same');
  const first = startCli(['finetune', '--run', run, '--name', 'same', '--config', writeConfig(LONG_EPOCHS)]);
  const lock = runLockPath(run, { experiment: 'same' });
  await waitFor(() => existsSync(lock) || first.child.exitCode !== null, 'the first finetune to take its lock');
  const second = runCli(['finetune', '--run', run, '--name', 'same', '--config', QUICK]);
  assert.equal(first.child.exitCode, null, 'the first finetune is still running when the second gives up');
  assert.equal(second.status, 2, second.stderr);
  const holder = new RegExp(`experiment 'same' of .* is locked by finetune \\(pid ${first.child.pid}, started `);
  assert.match(second.stderr, holder);
  const done = await first.exit;
  assert.equal(done.status, 0, done.stderr);
  const epochs = readEpochLog(ep.log).map((r) => r.epoch);
  assert.deepEqual(epochs, [...new Set(epochs)], 'no epoch written twice');
  assert.equal((JSON.parse(readFileSync(ep.config, 'utf8')) as { num_epochs: number }).num_epochs, LONG_EPOCHS);
  assert.ok(!existsSync(runLocksDir(run)), 'the lock is released');
});

/**
 * Runs the CLI (in this process, in a call chain of its own: locks apply as between processes)
 * while the test holds `target`'s lock: it must fail at once naming the holder.
 */
async function refusedWhileHeld(target: RunLockTarget, args: string[], holds: RegExp): Promise<void> {
  const lock = acquireRunLock({ run, target, command: 'test-holder' });
  try {
    const r = await runCaptured(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, holds, args.join(' '));
    assert.match(r.err, new RegExp(`locked by test-holder \\(pid ${process.pid}, started `), args.join(' '));
  } finally {
    lock.release();
  }
}

test('two writers at once for train, prepare, postprocess, finetune, evaluate, grid, report: one goes', async () => {
  const model = join(runPaths(run).model, 'model.json');
  const before = statSync(model).mtimeMs;
  await refusedWhileHeld('run', ['train', '--run', run, '--epochs', '1', '--dim', '8'], /the run of .* is locked/);
  await refusedWhileHeld({ experiment: 'x' }, ['train', '--run', run, '--epochs', '1'], /cannot lock the run .*'x'/);
  assert.equal(statSync(model).mtimeMs, before, 'the refused train wrote nothing');
  await refusedWhileHeld('run', ['prepare', '--run', run], /the run of .* is locked/);
  await refusedWhileHeld('report', ['prepare', '--run', run], /cannot lock the run of .*: the report is locked/);
  await refusedWhileHeld('run', ['postprocess', '--run', run], /the run of .* is locked/);
  await refusedWhileHeld('grid', ['postprocess', '--run', run], /the grid runner is locked/);
  const ft = ['finetune', '--run', run, '--name', 'f', '--config', QUICK];
  await refusedWhileHeld({ experiment: 'f' }, ft, /experiment 'f' of .* is locked/);
  await refusedWhileHeld('run', ft, /cannot lock experiment 'f' of .*: the run is locked/);
  assert.ok(!existsSync(experimentPaths(run, 'f').dir), 'the refused finetune wrote nothing');
  await refusedWhileHeld({ experiment: 'base' }, ['evaluate', '--run', run], /experiment 'base' of .* is locked/);
  await refusedWhileHeld('run', ['evaluate', '--run', run, '--experiment', 'f'], /the run is locked/);
  const grid = join(tmp, 'grid.yaml');
  writeFileSync(grid, 'base:\n  num_epochs: 2\n  k_candidates: 20\ngrid:\n  learning_rate: [0.01, 0.02]\n');
  await refusedWhileHeld('grid', ['grid', '--run', run, '--grid', grid], /the grid runner of .* is locked/);
  await refusedWhileHeld(
    'run',
    ['grid', '--run', run, '--grid', grid],
    /cannot lock the grid runner .*: the run is locked/,
  );
  await refusedWhileHeld('run', ['report', '--run', run, '--no-png'], /cannot lock the report .*: the run is locked/);
  assert.ok(!existsSync(runLocksDir(run)));
  // with nobody else holding a lock, each proceeds
  for (const args of [['prepare', '--run', run], ft, ['evaluate', '--run', run, '--experiment', 'f']]) {
    const r = await runCaptured(args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.err}`);
  }
});

test("a dead holder's lock is taken over, with a note", async () => {
  const pid = 2 ** 22 + 12345; // above Linux's largest pid_max: no such process
  const holder = { pid, command: 'finetune', argv: [], started: '2026-01-01T00:00:00.000Z', token: 'old' };
  mkdirSync(runLocksDir(run), { recursive: true });
  writeFileSync(runLockPath(run, { experiment: 'stale' }), JSON.stringify(holder));
  const r = await runCaptured(['finetune', '--run', run, '--name', 'stale', '--config', QUICK]);
  assert.equal(r.code, 0, r.err);
  assert.match(
    r.err,
    new RegExp(`lock .* of finetune \\(pid ${pid}, started 2026-01-01T00:00:00.000Z\\) .*taken over`),
  );
  assert.ok(!existsSync(runLocksDir(run)));
});

test('postprocess with a new λ set replaces the whole set: evaluate prints exactly its CP rows', async () => {
  const r0 = await runCaptured(['postprocess', '--run', run, '--workers', '1']);
  assert.equal(r0.code, 0, r0.err);
  const e0 = await runCaptured(['evaluate', '--run', run]);
  assert.equal(e0.out.match(/CP λ=/g)?.length, 9, e0.out);
  const r1 = await runCaptured(['postprocess', '--run', run, '--lambdas', '0.5', '--m', '50', '--workers', '1']);
  assert.equal(r1.code, 0, r1.err);
  const summary = JSON.parse(readFileSync(join(run, 'postprocess', 'summary.json'), 'utf8')) as { m: number };
  assert.equal(summary.m, 50);
  assert.deepEqual(readdirSync(join(run, 'postprocess')).sort(), [
    'cp_0.5_test.npy',
    'cp_0.5_valid.npy',
    'summary.json',
  ]);
  assert.deepEqual(
    readdirSync(run).filter((f) => f.startsWith('.postprocess')),
    [],
    'no temp or old set left',
  );
  const e1 = await runCaptured(['evaluate', '--run', run]);
  assert.equal(e1.code, 0, e1.err);
  assert.deepEqual(e1.out.match(/CP λ=\S+/g), ['CP λ=0.5'], e1.out);
  const results = JSON.parse(readFileSync(join(run, 'results', 'base.json'), 'utf8')) as {
    postprocessed: Record<string, unknown>;
  };
  assert.deepEqual(Object.keys(results.postprocessed), ['0.5']);
});

test("'base_model' (any case) is no experiment name: refused, reserved names listed, results untouched", async () => {
  const file = runPaths(run).baseResults;
  const before = readFileSync(file);
  for (const name of ['base_model', 'Base_Model', 'base']) {
    const r = await runCaptured(['finetune', '--run', run, '--name', name, '--config', QUICK]);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, new RegExp(`--name '${name}' is reserved: .*\\(reserved names: base, base_model\\)`));
  }
  const e = await runCaptured(['evaluate', '--run', run, '--experiment', 'base_model']);
  assert.equal(e.code, 2, e.err);
  assert.match(e.err, /--experiment 'base_model' is reserved/);
  assert.deepEqual(readFileSync(file), before);
  assert.ok(!existsSync(join(run, 'experiments', 'base_model')));
});

test('a CP set computed from an earlier backbone or prepare is refused, naming postprocess', async () => {
  const summaryPath = join(run, 'postprocess', 'summary.json');
  const inputs = (JSON.parse(readFileSync(summaryPath, 'utf8')) as { inputs: { backbone: string; prepare: string } })
    .inputs;
  const weights = join(runPaths(run).model, 'model.safetensors');
  assert.equal(inputs.backbone, createHash('sha256').update(readFileSync(weights)).digest('hex'));
  assert.match(inputs.prepare, /^[0-9a-f]{64}$/);
  // a new backbone (as train or import would write it)
  const ds = loadRunData(run).ds;
  const info = readRunInfo(run);
  saveModel(runPaths(run).model, new BprModel({ nUsers: ds.nUsers, nItems: ds.nItems, dim: 16 }, 6), {
    dataFingerprint: info.fingerprint,
  });
  const stale = await runCaptured(['evaluate', '--run', run]);
  assert.equal(stale.code, 2, stale.err);
  assert.match(
    stale.err,
    /the CP lists in .* are stale: the backbone was trained or imported again since; re-run 'calitune postprocess /,
  );
  const pp = await runCaptured(['postprocess', '--run', run, '--lambdas', '0.5', '--m', '50', '--workers', '1']);
  assert.equal(pp.code, 0, pp.err);
  assert.equal((await runCaptured(['evaluate', '--run', run])).code, 0);
  assert.equal((await runCaptured(['prepare', '--run', run, '--proportions', '0.3,0.4,0.3'])).code, 0);
  const again = await runCaptured(['evaluate', '--run', run]);
  assert.equal(again.code, 2, again.err);
  assert.match(again.err, /are stale: prepare ran again since; re-run 'calitune postprocess/);
});

test('an experiment fine-tuned from an earlier backbone or prepare is refused by evaluate and by resume', async () => {
  // 'f' was fine-tuned before the backbone and prepare were renewed (tests above)
  const recorded = JSON.parse(readFileSync(experimentPaths(run, 'f').experiment, 'utf8')) as {
    inputs: { backbone: string };
  };
  assert.match(recorded.inputs.backbone, /^[0-9a-f]{64}$/);
  const pp = await runCaptured(['postprocess', '--run', run, '--lambdas', '0.5', '--m', '50', '--workers', '1']);
  assert.equal(pp.code, 0, pp.err); // the CP set is current again: only the experiment is stale
  const e = await runCaptured(['evaluate', '--run', run, '--experiment', 'f']);
  assert.equal(e.code, 2, e.err);
  assert.match(
    e.err,
    new RegExp(
      /experiment 'f' in .* is stale: the backbone was trained or imported again and prepare ran again /.source +
        /since it was fine-tuned; fine-tune again \('calitune finetune /.source,
    ),
  );
  const resume = await runCaptured(['finetune', '--run', run, '--name', 'f', '--resume']);
  assert.equal(resume.code, 2, resume.err);
  assert.match(resume.err, /experiment 'f' cannot be resumed: the backbone was trained .* choose another --name/);
  const fresh = await runCaptured(['finetune', '--run', run, '--name', 'f2', '--config', QUICK]);
  assert.equal(fresh.code, 0, fresh.err);
  const ok = await runCaptured(['evaluate', '--run', run, '--experiment', 'f2']);
  assert.equal(ok.code, 0, ok.err);
  // a new backbone over derived artefacts needs --force; with it, train says what it made stale
  const refused = await runCaptured(['train', '--run', run, '--epochs', '1', '--dim', '8']);
  assert.equal(refused.code, 2, refused.err);
  assert.match(refused.err, /has the CP set and \d+ experiment\(s\) derived from its backbone; .* give --force /);
  const retrain = await runCaptured(['train', '--run', run, '--epochs', '1', '--dim', '8', '--force']);
  assert.equal(retrain.code, 0, retrain.err);
  assert.match(
    retrain.err,
    /note: derived from the previous backbone and stale now, .*: the CP set in .* \(run postprocess again\); .*f2/,
  );
});
