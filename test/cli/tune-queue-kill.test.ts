/**
 * kill -9 of the `tune --queue` coordinator mid-study (after a seeded number of ended trials,
 * while another runs on a worker), then the same command again: the workers stay up, the old
 * session's trials stop, the interrupted ones train again, and the registry's trials and the
 * best configuration equal those of an uninterrupted local tune.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Rng } from '../../src/math/rng.js';
import { requireRedis, startRedis } from '../helpers/redis.js';
import { CLI, runCli } from './run-cli.js';
import { bprStudyArgs, trialOutcomes } from './tune-fixture.js';
import { maxAttempts, startWorkers } from './tune-queue-fixture.js';
import { statusCounts } from './tune-fixture.js';

const tmp = mkdtempSync(join(tmpdir(), 'calitune-cli-tune-queue-kill-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

test('tune --queue: kill -9 the coordinator mid-study, rerun → the trials and best of a local tune', async (t) => {
  if (!requireRedis(t)) return;
  const args = bprStudyArgs(tmp, 10, 8);
  const ref = join(tmp, 'ref'),
    run = join(tmp, 'killed');
  const a = runCli([...args(ref), '--workers', '2']);
  assert.equal(a.status, 0, a.stderr);

  const redis = await startRedis();
  const workers = startWorkers(redis.url, 2);
  try {
    const killAfter = 1 + new Rng(2027).nextInt(5); // ended trials before the kill: 1 … 5
    const child = spawn(process.execPath, [CLI, ...args(run), '--queue', redis.url], {
      env: { ...process.env, CALITUNE_QUIET: '1' },
      stdio: 'ignore',
    });
    const exited = new Promise<NodeJS.Signals | null>((res) => child.on('exit', (_code, signal) => res(signal)));
    let seen: Record<string, number> = {};
    for (let i = 0; i < 6000; i++) {
      seen = statusCounts(run);
      const ended = (seen.completed ?? 0) + (seen.stopped ?? 0) + (seen.failed ?? 0);
      if (ended >= killAfter && (seen.running ?? 0) >= 1) {
        child.kill('SIGKILL');
        break;
      }
      await sleep(5);
    }
    assert.equal(await exited, 'SIGKILL', 'the coordinator was not killed mid-study');
    t.diagnostic(`killed after ${killAfter} ended trial(s): ${JSON.stringify(seen)}`);
    assert.ok((statusCounts(run).running ?? 0) >= 1, 'a trial was in flight');

    const b = runCli([...args(run), '--queue', redis.url]);
    assert.equal(b.status, 0, b.stderr);
    assert.match(b.stdout, /10 trial\(s\), [1-9] already ended, \d+ to run as jobs on the queue/);
    assert.deepEqual(trialOutcomes(run), trialOutcomes(ref));
    const best = (r: string) => readFileSync(join(r, 'tune', 'bpr-asha', 'best.yaml'), 'utf8');
    assert.equal(best(run), best(ref));
    assert.ok(maxAttempts(run) >= 2, 'the interrupted trial trained again');
  } finally {
    await workers.stop();
    await redis.stop();
  }
});
