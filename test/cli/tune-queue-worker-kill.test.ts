/**
 * kill -9 of a queue worker (with its trial process) while it runs the lowest unfinished trial
 * of a `tune --queue` study: the job stalls, the other worker takes it over — yielding the slot
 * of a later trial that waits at a rung for it, if need be — and the trial trains again from
 * the start; the study ends with the trials and best configuration of a local tune.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { requireRedis, startRedis } from '../helpers/redis.js';
import { CLI, runCli } from './run-cli.js';
import { bprStudyArgs, trialOutcomes } from './tune-fixture.js';
import { maxAttempts, runningTrials, startWorkers, type TestWorkers } from './tune-queue-fixture.js';

const tmp = mkdtempSync(join(tmpdir(), 'calitune-cli-tune-queue-wkill-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

/** The worker whose current trial (its last start line, not yet done) is `trial`, if any. */
function workerRunning(workers: TestWorkers, trial: string): number {
  return workers.logs.findIndex((log) => {
    const starts = [...log.matchAll(/^start {2}(\S+) /gm)];
    const last = starts[starts.length - 1]?.[1];
    return last === trial && !new RegExp(`^(done|FAILED) +${trial} `, 'm').test(log);
  });
}

test('tune --queue: worker killed mid-trial → the trial restarts elsewhere; results of a local tune', async (t) => {
  if (!requireRedis(t)) return;
  const args = bprStudyArgs(tmp, 6, 9);
  const ref = join(tmp, 'ref'),
    run = join(tmp, 'run');
  const a = runCli([...args(ref), '--workers', '2']);
  assert.equal(a.status, 0, a.stderr);

  const redis = await startRedis();
  const workers = startWorkers(redis.url, 2);
  try {
    let out = '';
    const coordinator = spawn(process.execPath, [CLI, ...args(run), '--queue', redis.url], {
      env: { ...process.env, CALITUNE_QUIET: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    coordinator.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    coordinator.stderr.on('data', (d: Buffer) => (out += d.toString('utf8')));
    const exited = new Promise<number | null>((res) => coordinator.on('close', (code) => res(code)));
    let killed = '';
    for (let i = 0; i < 6000 && !killed; i++) {
      const lowest = runningTrials(run)[0];
      const w = lowest === undefined ? -1 : workerRunning(workers, lowest);
      if (lowest !== undefined && w >= 0) {
        process.kill(-workers.children[w]!.pid!, 'SIGKILL'); // the worker and its trial process
        killed = lowest;
      }
      await sleep(5);
    }
    assert.ok(killed, 'no worker was killed mid-trial');
    t.diagnostic(`killed the worker of ${killed}`);
    assert.equal(await exited, 0, out);
    t.diagnostic(/gives its worker to .*/.exec(out)?.[0] ?? 'no trial had to yield its slot');
    assert.match(out, new RegExp(`trial ${killed} starts again`));
    assert.deepEqual(trialOutcomes(run), trialOutcomes(ref));
    const best = (r: string) => readFileSync(join(r, 'tune', 'bpr-asha', 'best.yaml'), 'utf8');
    assert.equal(best(run), best(ref));
    assert.ok(maxAttempts(run) >= 2, 'the interrupted trial trained again');
  } finally {
    await workers.stop();
    await redis.stop();
  }
});
