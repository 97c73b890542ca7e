/**
 * A 4-point grid through the queue on a real redis-server, with `calitune worker` processes:
 * - 2 workers → the same registry rows (timings aside) and the same results files as the
 *   local grid with 2 worker processes;
 * - one worker process killed with SIGKILL in the middle of a point → its orphaned point
 *   process stops by itself, the other worker takes the stalled job over and resumes it; the
 *   grid completes with the results of an uninterrupted run;
 * - the coordinator killed with SIGKILL and started again → it completes without running the
 *   points that had finished again.
 * Small synthetic run, 4 points × 24 epochs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { parseQueueUrl, POINT_QUEUE } from '../../src/experiments/queue-connection.js';
import { pointJobId } from '../../src/experiments/queue-jobs.js';
import { runCli } from '../cli/run-cli.js';
import { requireRedis, startRedis, type TestRedis } from '../helpers/redis.js';
import {
  alive,
  childPids,
  gridText,
  killGroup,
  logEpochs,
  registryContent,
  registryRows,
  resultsFiles,
  startCli,
  stopWorker,
  waitFor,
  type CliProcess,
} from './queue-fixture.js';
import { preparedSyntheticRun } from '../helpers/prepared-run.js';

const EPOCHS = 24;
const SIZE = { users: 300, items: 200, interactions: 8000 };
const tmp = mkdtempSync(join(tmpdir(), 'calitune-queue-e2e-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const GRID = join(tmp, 'grid.yaml');
writeFileSync(GRID, gridText(EPOCHS));

let reference: string | undefined;
/** The local grid with 2 worker processes: what every queue run must reproduce. */
function localReference(): string {
  if (reference) return reference;
  const run = preparedSyntheticRun(join(tmp, 'local'), SIZE);
  const r = runCli(['grid', '--run', run, '--grid', GRID, '--workers', '2']);
  assert.equal(r.status, 0, r.stderr);
  reference = run;
  return run;
}

function startWorkers(redis: TestRedis, n: number): CliProcess[] {
  return Array.from({ length: n }, () => startCli(['worker', '--queue', redis.url, '--threads', '1']));
}

function coordinator(run: string, redis: TestRedis): CliProcess {
  return startCli(['grid', '--run', run, '--grid', GRID, '--queue', redis.url, '--json']);
}

type DoneRow = { name: string; config: string };
const doneRows = (run: string) => registryRows<DoneRow>(run, `SELECT name, config FROM points WHERE status = 'done'`);

async function withRedis(t: Parameters<typeof requireRedis>[0], body: (r: TestRedis) => Promise<void>): Promise<void> {
  if (!requireRedis(t)) return;
  const redis = await startRedis({ password: 'e2e-pw' });
  try {
    await body(redis);
  } finally {
    await redis.stop();
  }
}

test('4 points through the queue on 2 workers = the local grid (registry rows, results files)', async (t) => {
  await withRedis(t, async (redis) => {
    const ref = localReference();
    const run = preparedSyntheticRun(join(tmp, 'queue'), SIZE);
    const workers = startWorkers(redis, 2);
    try {
      const c = await coordinator(run, redis).exited;
      assert.equal(c.code, 0, c.stderr);
      assert.doesNotMatch(c.stdout + c.stderr, /e2e-pw/, 'the password is never printed');
      const summary = JSON.parse(c.stdout) as { done: number; workers: number };
      assert.equal(summary.done, 4);
      assert.equal(summary.workers, 2, 'both workers ran points');
      assert.deepEqual(registryContent(run), registryContent(ref));
      assert.deepEqual(resultsFiles(run), resultsFiles(ref));
    } finally {
      for (const w of workers) await stopWorker(w);
    }
    for (const w of workers) assert.doesNotMatch(w.out(), /e2e-pw/);
  });
});

test('SIGKILL of a worker mid-point: its point process stops, the other resumes it; results = uninterrupted', async (t) => {
  await withRedis(t, async (redis) => {
    const ref = localReference();
    const run = preparedSyntheticRun(join(tmp, 'killed-worker'), SIZE);
    const workers = startWorkers(redis, 2);
    const coord = coordinator(run, redis);
    let victim: { worker: CliProcess; point: string; epoch: number } | undefined;
    try {
      await waitFor('a point mid-fine-tuning', () => {
        for (const w of workers) {
          const started = [...w.out().matchAll(/^start {2}(\S+)/gm)].map((m) => m[1]!);
          const point = started.at(-1);
          if (point === undefined || w.out().includes(`done   ${point}`)) continue;
          const epoch = logEpochs(run, point);
          if (epoch >= 3 && epoch <= EPOCHS - 6) {
            victim = { worker: w, point, epoch };
            return true;
          }
        }
        return false;
      });
      const orphans = childPids(victim!.worker.child.pid!);
      assert.equal(orphans.length, 1, 'the worker runs its point in a child process');
      victim!.worker.child.kill('SIGKILL');
      t.diagnostic(`killed the worker running ${victim!.point} at epoch ${victim!.epoch}`);
      await waitFor('the orphaned point process to stop', () => !alive(orphans[0]!), 60_000);
      const c = await coord.exited;
      assert.equal(c.code, 0, c.stderr);
      const survivor = workers.find((w) => w !== victim!.worker)!;
      assert.match(
        survivor.out(),
        new RegExp(`start {2}${victim!.point} .*attempt 2`),
        'taken over by the other worker',
      );
      assert.match(survivor.out(), new RegExp(`resume ${victim!.point} from its last finished epoch`));
      assert.deepEqual(resultsFiles(run), resultsFiles(ref));
      const points = registryContent(run) as { points: { name: string; attempts: number }[] };
      assert.equal(points.points.find((p) => p.name === victim!.point)?.attempts, 2);
    } finally {
      killGroup(coord);
      for (const w of workers) await stopWorker(w);
    }
  });
});

test('SIGKILL of the coordinator, started again: completes without re-running finished points', async (t) => {
  await withRedis(t, async (redis) => {
    const ref = localReference();
    const run = preparedSyntheticRun(join(tmp, 'killed-coordinator'), SIZE);
    const workers = startWorkers(redis, 2);
    const queue = new Queue(POINT_QUEUE, { connection: parseQueueUrl(redis.url).connection });
    try {
      const first = coordinator(run, redis);
      await waitFor('a finished point', () => doneRows(run).length >= 1 && doneRows(run).length < 4);
      killGroup(first);
      assert.equal((await first.exited).signal, 'SIGKILL');
      const finished = doneRows(run);
      const mtimes = finished.map((r) => statSync(join(run, 'results', `${r.name}.json`)).mtimeMs);
      t.diagnostic(`killed the coordinator with ${finished.length} point(s) done`);

      const again = await coordinator(run, redis).exited;
      assert.equal(again.code, 0, again.stderr);
      const summary = JSON.parse(again.stdout) as { skipped: number; done: number; failed: number };
      assert.equal(summary.skipped, finished.length);
      assert.equal(summary.done + summary.skipped, 4);
      finished.forEach((r, i) => {
        const mtime = statSync(join(run, 'results', `${r.name}.json`)).mtimeMs;
        assert.equal(mtime, mtimes[i], `${r.name} was evaluated again`);
      });
      for (const r of registryRows<DoneRow>(run, 'SELECT name, config FROM points')) {
        const job = await queue.getJob(pointJobId(run, r.name, JSON.parse(r.config)));
        assert.equal(job?.attemptsStarted, 1, `${r.name} ran ${job?.attemptsStarted} time(s)`);
      }
      assert.deepEqual(resultsFiles(run), resultsFiles(ref));
    } finally {
      await queue.close();
      for (const w of workers) await stopWorker(w);
    }
  });
});
