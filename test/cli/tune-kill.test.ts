/**
 * kill -9 of a running `calitune tune` (the whole process tree, at a seeded point: after the
 * n-th trial ended, while another runs), then the same command again: it continues the study,
 * and the registry's trials and the best configuration equal those of an uninterrupted run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { Rng } from '../../src/math/rng.js';
import { registryPath } from '../../src/experiments/registry.js';
import { CLI, runCli } from './run-cli.js';
import { bprStudyArgs, statusCounts, trialOutcomes } from './tune-fixture.js';

const tmp = mkdtempSync(join(tmpdir(), 'calitune-cli-tune-kill-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

test('tune: kill -9 mid-study, rerun → the trials and best configuration of an uninterrupted run', async (t) => {
  const study = bprStudyArgs(tmp, 10, 8);
  const args = (run: string) => [...study(run), '--workers', '2'];
  const ref = join(tmp, 'ref'),
    run = join(tmp, 'killed');
  const a = runCli(args(ref));
  assert.equal(a.status, 0, a.stderr);

  const killAfter = 1 + new Rng(2026).nextInt(5); // ended trials before the kill: 1 … 5
  const child = spawn(process.execPath, [CLI, ...args(run)], {
    env: { ...process.env, CALITUNE_QUIET: '1' },
    stdio: 'ignore',
    detached: true,
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.on('exit', (code, signal) => res({ code, signal })),
  );
  let seen: Record<string, number> = {};
  for (let i = 0; i < 6000; i++) {
    seen = statusCounts(run);
    const ended = (seen.completed ?? 0) + (seen.stopped ?? 0) + (seen.failed ?? 0);
    if (ended >= killAfter && (seen.running ?? 0) >= 1) {
      process.kill(-child.pid!, 'SIGKILL'); // the whole process group: tune and its trial processes
      break;
    }
    await sleep(5);
  }
  const ex = await exited;
  assert.equal(ex.signal, 'SIGKILL', `tune was not killed mid-study (exit ${ex.code})`);
  t.diagnostic(`killed after ${killAfter} ended trial(s): ${JSON.stringify(seen)}`);
  const after = statusCounts(run);
  assert.ok((after.running ?? 0) >= 1, `registry after the kill: ${JSON.stringify(after)}`);

  const b = runCli(args(run));
  assert.equal(b.status, 0, b.stderr);
  assert.match(b.stdout, /10 trial\(s\), [1-9] already ended, \d+ to run/);
  assert.deepEqual(trialOutcomes(run), trialOutcomes(ref));
  const best = (r: string) => readFileSync(join(r, 'tune', 'bpr-asha', 'best.yaml'), 'utf8');
  assert.equal(best(run), best(ref));
  const attempts = (r: string) => {
    const db = new Database(registryPath(r), { readonly: true });
    const n = db.prepare('SELECT MAX(attempts) AS n FROM trials').get() as { n: number };
    db.close();
    return n.n;
  };
  assert.equal(attempts(run), 2, 'the interrupted trial trained again');
});
