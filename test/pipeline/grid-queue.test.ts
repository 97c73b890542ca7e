/**
 * The queue's guard rails on a real redis-server: a worker refuses forged jobs (a run that is
 * not one, a point outside the run, a point the run never planned) at once, without retries and
 * without running anything; a failing point is tried `attempts` times, then recorded as failed
 * with its error while the other point finishes; and with Redis down, `grid --queue` and
 * `worker` exit with code 1 within a few seconds, naming the URL without its password, having
 * written nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { parseQueueUrl, POINT_QUEUE } from '../../src/experiments/queue-connection.js';
import { queueWorker } from '../../src/pipeline/grid-queue-worker.js';
import { grid } from '../../src/pipeline/grid.js';
import { pointJobId } from '../../src/experiments/queue-jobs.js';
import { gridConfigPath } from '../../src/store/registry-files.js';
import { runPaths } from '../../src/store/run.js';
import { runCli } from '../cli/run-cli.js';
import { freePort, requireRedis, startRedis } from '../helpers/redis.js';
import { gridText, registryRows } from './queue-fixture.js';
import { preparedSyntheticRun } from '../helpers/prepared-run.js';

process.env.CALITUNE_QUIET = '1';
const tmp = mkdtempSync(join(tmpdir(), 'calitune-gridqueue-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

test('worker refuses forged jobs: recorded as failed at once, nothing run or written', async (t) => {
  if (!requireRedis(t)) return;
  const redis = await startRedis({ password: 'pw-of-test' });
  const run = join(tmp, 'run');
  mkdirSync(join(run, 'grid', 'configs'), { recursive: true });
  writeFileSync(runPaths(run).info, '{}\n');
  writeFileSync(gridConfigPath(run, 'planned'), '{"num_epochs": 2}\n');
  const queue = new Queue(POINT_QUEUE, { connection: parseQueueUrl(redis.url).connection });
  const worker = await queueWorker({ queue: redis.url, concurrency: 1, threads: 1 });
  try {
    const forged: [string, Record<string, unknown>, RegExp][] = [
      ['outside', { run, point: '../../../tmp/evil', config: {}, keep: 'last' }, /may only use letters/],
      ['unknown point', { run, point: 'nope', config: { num_epochs: 2 }, keep: 'last' }, /not planned/],
      ['not a run', { run: tmp, point: 'planned', config: { num_epochs: 2 }, keep: 'last' }, /not a run directory/],
      ['other config', { run, point: 'planned', config: { num_epochs: 900 }, keep: 'last' }, /differs/],
      ['code', { run, point: 'planned', config: { num_epochs: 2 }, keep: 'last', script: 'x' }, /not a grid point/],
    ];
    for (const [what, data, re] of forged) {
      const job = await queue.add('forged', data, { attempts: 3, backoff: { type: 'fixed', delay: 10 } });
      let state = '';
      for (let i = 0; i < 500 && state !== 'failed'; i++) {
        await new Promise((r) => setTimeout(r, 20));
        state = await job.getState();
      }
      const j = await queue.getJob(job.id!);
      assert.equal(state, 'failed', `${what}: the job was not refused`);
      assert.match(j!.failedReason, /^refused: /, what);
      assert.match(j!.failedReason, re, what);
      assert.equal(j!.attemptsMade, 1, `${what}: a refused job is not retried`);
    }
    assert.deepEqual(worker.counts, { done: 0, failed: 0, refused: forged.length });
    assert.deepEqual(readdirSync(run).sort(), ['grid', 'run.json'], 'nothing written in the run');
  } finally {
    await worker.stop();
    await queue.close();
    await redis.stop();
  }
});

test('a failing point: tried `attempts` times with back-off, then recorded failed; the other point done', async (t) => {
  if (!requireRedis(t)) return;
  const redis = await startRedis();
  const run = preparedSyntheticRun(join(tmp, 'attempts'), { users: 60, items: 40, interactions: 800 });
  const file = join(tmp, 'attempts.yaml');
  writeFileSync(
    file,
    'base:\n  num_epochs: 2\n  k_candidates: 10\n  freeze_item_emb: false\ngrid:\n  learning_rate: [0.01, 1.0e+18]\n',
  );
  const worker = await queueWorker({ queue: redis.url, concurrency: 2, threads: 1 });
  const queue = new Queue(POINT_QUEUE, { connection: parseQueueUrl(redis.url).connection });
  try {
    const r = await grid({ run, gridFile: file, queue: redis.url, attempts: 2 });
    assert.equal(r.done, 1);
    assert.equal(r.failed, 1);
    const rows = registryRows<{ name: string; status: string; error: string | null; attempts: number; config: string }>(
      run,
      'SELECT name, status, error, attempts, config FROM points ORDER BY name',
    );
    const bad = rows.find((p) => p.name.endsWith('lr1e18'))!;
    const good = rows.find((p) => p.name.endsWith('lr0.01'))!;
    assert.equal(good.status, 'done');
    assert.equal(bad.status, 'failed');
    assert.ok(bad.error && bad.error.length > 0, 'the failure is recorded with its error');
    assert.equal(bad.attempts, 2, 'two attempts recorded');
    const job = await queue.getJob(pointJobId(run, bad.name, JSON.parse(bad.config)));
    assert.equal(job?.attemptsMade, 2);
    assert.deepEqual(worker.counts, { done: 1, failed: 2, refused: 0 });
  } finally {
    await queue.close();
    await worker.stop();
    await redis.stop();
  }
});

test('Redis down: grid --queue and worker exit 1 within seconds, URL without password, nothing written', async () => {
  const run = preparedSyntheticRun(join(tmp, 'down'), { users: 60, items: 40, interactions: 800 });
  const grid = join(tmp, 'down.yaml');
  writeFileSync(grid, gridText(2));
  const list = join(tmp, 'down-experiments.yaml');
  writeFileSync(list, 'experiments:\n  - name: one\n    config: { num_epochs: 2 }\n');
  const before = readdirSync(run).sort();
  const url = `redis://:hunter2-secret@127.0.0.1:${await freePort()}`;
  for (const args of [
    ['grid', '--run', run, '--grid', grid, '--queue', url],
    ['experiments', '--run', run, '--file', list, '--queue', url],
    ['worker', '--queue', url],
  ]) {
    const t0 = Date.now();
    const r = runCli(args);
    const secs = (Date.now() - t0) / 1000;
    assert.equal(r.status, 1, `${args[0]}: ${r.stderr}`);
    assert.match(r.stderr, /cannot reach the queue's Redis at redis:\/\/127\.0\.0\.1:\d+:/);
    assert.doesNotMatch(r.stdout + r.stderr, /hunter2/);
    assert.ok(secs < 10, `${args[0]} took ${secs.toFixed(1)} s`);
  }
  assert.deepEqual(readdirSync(run).sort(), before, 'nothing written in the run');
});
