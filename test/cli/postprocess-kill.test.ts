/**
 * kill -9 during `postprocess`, at seeded random moments, switching between two λ sets: after
 * every kill each reader sees exactly one complete CP set (the old or the new one, never a
 * mix), evaluate prints exactly its rows, and a rerun completes and leaves nothing behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { randomSplit } from '../../src/data/split.js';
import { createRun, runPaths } from '../../src/store/run.js';
import { BprModel } from '../../src/models/bpr.js';
import { saveModel } from '../../src/models/model-file.js';
import { prepareRun } from '../../src/store/prepare-files.js';
import { cpSetDir, readCpList, readPostprocessSummary, storedCpLambdas } from '../../src/store/postprocess-files.js';
import { runLockPath, runLocksDir } from '../../src/store/run-locks.js';
import { runCaptured } from '../../src/cli/run-captured.js';
import { CLI } from './run-cli.js';
import { seeded } from './kill-moments.js';

const tmp = mkdtempSync(join(tmpdir(), 'calitune-ppkill-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

/** The two λ sets the runs switch between: λ keys and m. */
const SETS = [
  { args: ['--lambdas', '0.2,0.4,0.6,0.8', '--m', '40'], keys: ['0.2', '0.4', '0.6', '0.8'], m: 40 },
  { args: ['--lambdas', '0.5', '--m', '60'], keys: ['0.5'], m: 60 },
];

function makeRun(): { run: string; nUsers: number; nItems: number } {
  const run = join(tmp, 'run');
  const ds = randomSplit(generateSynthetic({ users: 150, items: 100, interactions: 3000, seed: 11 }), 3);
  const info = createRun(run, ds, { kind: 'synthetic' }, 3);
  saveModel(runPaths(run).model, new BprModel({ nUsers: ds.nUsers, nItems: ds.nItems, dim: 16 }, 5), {
    dataFingerprint: info.fingerprint,
  });
  prepareRun(run, ds, { dataset: 'synth', popularitySource: 'train' });
  return { run, nUsers: ds.nUsers, nItems: ds.nItems };
}

/** Where a kill lands: after the run lock is taken (computing) or the new set's temp folder appeared (writing). */
type Moment = { after: 'lock' | 'temp'; ms: number };

/**
 * `postprocess` in a child process, SIGKILLed `moment.ms` after the moment it names was seen (a
 * seeded delay after a visible phase, so the kills land in the work whatever the machine's load);
 * its exit code, null when killed.
 */
async function postprocessKilledAt(run: string, args: string[], moment: Moment): Promise<number | null> {
  const tempsOf = () => readdirSync(run).filter((f) => f.startsWith('.postprocess.tmp-'));
  const before = new Set(tempsOf()); // a killed writer's temp folder, removed by this one's recovery
  const child = spawn(process.execPath, [CLI, 'postprocess', '--run', run, '--workers', '1', ...args], {
    env: { ...process.env, CALITUNE_QUIET: '1' },
    stdio: 'ignore',
  });
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  let done = false;
  void exited.then(() => (done = true));
  const seen = () =>
    moment.after === 'lock' ? existsSync(runLockPath(run, 'run')) : tempsOf().some((f) => !before.has(f));
  while (!done && !seen()) await new Promise((r) => setTimeout(r, 1));
  await new Promise((r) => setTimeout(r, moment.ms));
  child.kill('SIGKILL');
  return exited;
}

/** Exactly one complete set: one of `SETS`, every list it names readable, nothing else in its folder. */
async function assertOneCompleteSet(run: string, nUsers: number, nItems: number): Promise<number> {
  const keys = storedCpLambdas(run, 'test');
  const which = SETS.findIndex((s) => JSON.stringify(s.keys) === JSON.stringify(keys));
  assert.ok(which >= 0, `the CP set is one of the two written, got λ ${keys.join(',')}`);
  const set = SETS[which]!;
  assert.deepEqual(storedCpLambdas(run, 'valid'), set.keys);
  assert.equal(readPostprocessSummary(run)?.m, set.m, 'the summary belongs to the lists');
  for (const key of set.keys) {
    for (const mode of ['test', 'valid'] as const)
      assert.equal(readCpList(run, key, mode, nUsers, 10, nItems).length, nUsers * 10);
  }
  const files = set.keys.flatMap((k) => [`cp_${k}_test.npy`, `cp_${k}_valid.npy`]);
  assert.deepEqual(readdirSync(cpSetDir(run)!).sort(), [...files, 'summary.json'].sort());
  const e = await runCaptured(['evaluate', '--run', run]);
  assert.equal(e.code, 0, e.err);
  assert.deepEqual(
    e.out.match(/CP λ=\S+/g),
    set.keys.map((k) => `CP λ=${k}`),
    'evaluate prints the rows of exactly that set',
  );
  return which;
}

test('kill -9 during postprocess (seeded moments): one complete CP set every time; a rerun completes', async () => {
  process.env.CALITUNE_QUIET = '1';
  const { run, nUsers, nItems } = makeRun();
  const first = await runCaptured(['postprocess', '--run', run, '--workers', '1', ...SETS[0]!.args]);
  assert.equal(first.code, 0, first.err);
  const rand = seeded(20261130);
  let current = 0;
  for (let attempt = 0; attempt < 6; attempt++) {
    const target = 1 - current;
    const moment: Moment =
      attempt % 2 === 0
        ? { after: 'lock', ms: Math.floor(rand() * 400) }
        : { after: 'temp', ms: Math.floor(rand() * 30) };
    const code = await postprocessKilledAt(run, SETS[target]!.args, moment);
    const seen = await assertOneCompleteSet(run, nUsers, nItems);
    if (code === 0) assert.equal(seen, target, 'a finished postprocess leaves its own set');
    else assert.ok(seen === current || seen === target);
    current = seen;
  }
  const rerun = await runCaptured(['postprocess', '--run', run, '--workers', '1', ...SETS[1]!.args]);
  assert.equal(rerun.code, 0, rerun.err);
  assert.equal(await assertOneCompleteSet(run, nUsers, nItems), 1);
  assert.deepEqual(
    readdirSync(run).filter((f) => f.startsWith('.postprocess')),
    [],
    'the temp and old sets of killed writers are gone',
  );
  assert.ok(!existsSync(runLocksDir(run)), 'the stale locks of killed writers are gone');
});
