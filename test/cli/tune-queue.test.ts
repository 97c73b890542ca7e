/**
 * `calitune tune --queue` on a real redis-server: with two `calitune worker` processes the study
 * ends with the same registry trials (configurations, rungs, curves, statuses) and the same
 * best.yaml bytes as a local tune with the same seed; a trial job the run's store does not vouch
 * for (a bad run path, a forged session or trial) is refused at once, without retries.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { parseQueueUrl, POINT_QUEUE } from '../../src/experiments/queue-connection.js';
import { queueWorker } from '../../src/pipeline/grid-queue-worker.js';
import { writeTuneSession } from '../../src/experiments/tune-jobs.js';
import { requireRedis, startRedis } from '../helpers/redis.js';
import { runCli } from './run-cli.js';
import { bprStudyArgs, trialOutcomes } from './tune-fixture.js';
import { startWorkers } from './tune-queue-fixture.js';

process.env.CALITUNE_QUIET = '1';
const tmp = mkdtempSync(join(tmpdir(), 'calitune-cli-tune-queue-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const tuneArgs = bprStudyArgs(tmp, 8, 5);
const best = (run: string) => readFileSync(join(run, 'tune', 'bpr-asha', 'best.yaml'), 'utf8');

test('tune --queue with 2 workers: the trials and best.yaml of a local tune with the same seed', async (t) => {
  if (!requireRedis(t)) return;
  const redis = await startRedis();
  const workers = startWorkers(redis.url, 2);
  try {
    const local = join(tmp, 'local'),
      queued = join(tmp, 'queued');
    const rl = runCli([...tuneArgs(local), '--workers', '2']);
    assert.equal(rl.status, 0, rl.stderr);
    const rq = runCli([...tuneArgs(queued), '--queue', redis.url]);
    assert.equal(rq.status, 0, rq.stderr);
    assert.match(rq.stdout, new RegExp(`8 to run as jobs on the queue redis://127\\.0\\.0\\.1:${redis.port} `));
    assert.match(rq.stdout, /\[8\/8\] bpr-asha-t00\d /);
    assert.deepEqual(trialOutcomes(queued), trialOutcomes(local));
    assert.equal(best(queued), best(local));
    const statuses = (trialOutcomes(queued) as Array<{ status: string }>).map((r) => r.status);
    assert.ok(statuses.filter((s) => s === 'stopped').length >= 3, `ASHA stopped too few: ${statuses.join(' ')}`);
    const logs = await workers.stop();
    assert.equal((logs.join('').match(/^start {2}bpr-asha-t\d+/gm) ?? []).length, 8, logs.join('\n'));
    assert.ok(
      logs.every((l) => /^start /m.test(l)),
      `both workers ran trials:\n${logs.join('\n')}`,
    );
  } finally {
    await workers.stop();
    await redis.stop();
  }
});

test('tune --queue: --workers refused; an unreachable queue fails before the run is created', async () => {
  const r1 = runCli([...tuneArgs(join(tmp, 'w')), '--queue', 'redis://127.0.0.1:1', '--workers', '2']);
  assert.equal(r1.status, 2);
  assert.match(r1.stderr, /--workers does not apply with --queue/);
  const r2 = runCli([...tuneArgs(join(tmp, 'down')), '--queue', 'redis://:secret@127.0.0.1:1']);
  assert.equal(r2.status, 1);
  assert.match(r2.stderr, /cannot reach the queue's Redis at redis:\/\/127\.0\.0\.1:1/);
  assert.doesNotMatch(r2.stderr + r2.stdout, /secret/);
  assert.equal(existsSync(join(tmp, 'down')), false, 'nothing written');
});

test('worker refuses forged trial jobs at once, without retries, running nothing', async (t) => {
  if (!requireRedis(t)) return;
  const redis = await startRedis();
  const run = join(tmp, 'refused');
  const r = runCli([...tuneArgs(run), '--trials', '1', '--workers', '1']);
  assert.equal(r.status, 0, r.stderr);
  const queue = new Queue(POINT_QUEUE, { connection: parseQueueUrl(redis.url).connection });
  const worker = await queueWorker({ queue: redis.url, concurrency: 1, threads: 1 });
  const trials = [{ id: 'bpr-asha-t001', idx: 0, config: {} }];
  writeTuneSession(run, 'bpr-asha', { session: 'cd'.repeat(12), model: 'bpr', rungs: [5, 15], trials });
  try {
    const job = { kind: 'trial', run, study: 'bpr-asha', session: 'ab'.repeat(12), trial: 'bpr-asha-t001' };
    const forged: [string, Record<string, unknown>, RegExp][] = [
      ['not a run', { ...job, run: tmp }, /not a run directory/],
      ['relative run', { ...job, run: 'runs/x' }, /absolute, normalised/],
      ['no session', { ...job, study: 'other' }, /has no queue session/],
      ['ended session', job, /has ended/],
      ['unplanned trial', { ...job, session: 'cd'.repeat(12), trial: 'bpr-asha-t009' }, /not planned/],
      ['escaping study', { ...job, study: '..' }, /not a tuning trial/],
      ['code', { ...job, script: 'x' }, /not a tuning trial/],
    ];
    for (const [what, d, re] of forged) {
      const added = await queue.add('forged', d, { attempts: 3, backoff: { type: 'fixed', delay: 10 } });
      let state = '';
      for (let i = 0; i < 500 && state !== 'failed'; i++) {
        await new Promise((res) => setTimeout(res, 20));
        state = await added.getState();
      }
      const j = await queue.getJob(added.id!);
      assert.equal(state, 'failed', `${what}: the job was not refused`);
      assert.match(j!.failedReason, /^refused: /, what);
      assert.match(j!.failedReason, re, what);
      assert.equal(j!.attemptsMade, 1, `${what}: a refused job is not retried`);
    }
    assert.deepEqual(worker.counts, { done: 0, failed: 0, refused: forged.length });
  } finally {
    await worker.stop();
    await queue.close();
    await redis.stop();
  }
});
