/**
 * A grid or experiments plan on a BullMQ queue in Redis: this process, the coordinator, plans
 * the points like the local runner (grid-runner.ts), computes CP once, enqueues one job per
 * point (names only, id derived from run, point and configuration: see
 * src/experiments/queue-jobs.ts) and follows them (grid-queue-tracker.ts) while workers on any
 * machine that sees the run directory run them (grid-queue-worker.ts). It stays the registry's
 * only writer and ends with the same summary and front as a local grid.
 *
 * - Redis is checked first: unreachable → an Error naming the URL without its password, within
 *   a few seconds, before anything is written.
 * - Killed (even with SIGKILL) and started again: the jobs live on in Redis; finished ones are
 *   recorded from their results without running again, running ones are followed, a job that
 *   finally failed is retried with fresh attempts, as a local re-run retries failed points.
 * - Attempts per job (default 3) with exponential back-off; a stalled job (its worker died) is
 *   taken over by another worker, which resumes the point from its resume state.
 */
import { Queue, QueueEvents } from 'bullmq';
import { resolve } from 'node:path';
import {
  checkQueueReachable,
  parseQueueUrl,
  POINT_QUEUE,
  type QueueConnection,
} from '../experiments/queue-connection.js';
import { pointJobId, type PointJobData } from '../experiments/queue-jobs.js';
import type { Registry } from '../experiments/registry.js';
import type { Plan } from '../experiments/grid.js';
import { collectPoint } from './grid-point-summary.js';
import type { Slot } from './grid-progress.js';
import type { PointOutcome, Todo } from './grid-lanes.js';
import { QueueTracker } from './grid-queue-tracker.js';
import {
  checkRunReady,
  computeCpOnce,
  planPoints,
  removeLeftoverWrites,
  planProgress,
  summarisePlan,
  withRegistryAndSignals,
  type RunPlanOptions,
  type RunPlanResult,
} from './grid-runner.js';
import { silentReporter } from './reporter.js';
import { withRunLock } from '../store/run-locks.js';

/** Attempts per point job before it is recorded as failed, by default. */
export const DEFAULT_ATTEMPTS = 3;
/** First back-off delay after a failed attempt (doubling with each attempt), in milliseconds. */
const BACKOFF_MS = 2000;

/** A plan to run through the queue at `queue` (a redis:// or rediss:// URL), with `attempts` per point. */
export interface QueuePlanOptions extends Omit<RunPlanOptions, 'workers'> {
  queue: string;
  attempts?: number;
}

/** One job per point on the queue; the registry follows them (see the file comment). */
export async function runPlanOnQueue(o: QueuePlanOptions): Promise<RunPlanResult> {
  const run = resolve(o.run);
  const t0 = performance.now();
  checkRunReady(o.run, run);
  const conn = parseQueueUrl(o.queue);
  await checkQueueReachable(conn);
  const note = (line: string) => (o.reporter ?? silentReporter).warn(line);
  // The grid lock, as a local grid holds it: one coordinator per run, no run-wide writer meanwhile.
  return withRunLock({ run, target: 'grid', command: o.plan.kind, note }, (lock) =>
    coordinateLocked(o, run, conn, lock.release, t0),
  );
}

/** Closes the registry (if open) and releases the grid lock; a registry already closed is fine. */
function closeCoordinator(registry: Registry | undefined, release: () => void): void {
  try {
    registry?.close();
  } catch {
    /* closed */
  }
  release();
}

/**
 * runPlanOnQueue once the grid lock is held: the registry, the signal handlers, the coordination.
 * On a signal the jobs live on in Redis and the workers go on; a restarted coordinator picks them up.
 */
async function coordinateLocked(
  o: QueuePlanOptions,
  run: string,
  conn: ReturnType<typeof parseQueueUrl>,
  release: () => void,
  t0: number,
): Promise<RunPlanResult> {
  return withRegistryAndSignals(
    run,
    (registry) => closeCoordinator(registry, release),
    (registry) => coordinate(o, run, conn, registry, t0),
  );
}

/** The point's job: its data (names only) and its options (id, attempts, back-off, kept when finished). */
function jobOf(run: string, item: Todo, keep: PointJobData['keep'], attempts: number) {
  const { point } = item;
  const data: PointJobData = { run, point: point.name, config: point.config as Record<string, unknown>, keep };
  const opts = {
    jobId: pointJobId(run, point.name, point.config),
    attempts,
    backoff: { type: 'exponential', delay: BACKOFF_MS },
    removeOnComplete: false,
    removeOnFail: false,
  };
  return { data, opts };
}

/**
 * Puts a point on the queue unless its job is there already. A job that finally failed is retried
 * with fresh attempts; a completed one whose results are gone from the run is replaced. Returns
 * the attempts the job had started before (0 for a new or retried job).
 */
async function enqueuePoint(
  queue: Queue<PointJobData>,
  run: string,
  item: Todo,
  keep: PointJobData['keep'],
  attempts: number,
) {
  const { data, opts } = jobOf(run, item, keep, attempts);
  const job = await queue.getJob(opts.jobId);
  if (job) {
    const state = await job.getState();
    if (state === 'failed') {
      await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      return 0;
    }
    if (state !== 'completed') return job.attemptsStarted;
    try {
      collectPoint(run, item.point.name);
      return job.attemptsStarted;
    } catch {
      await job.remove();
    }
  }
  await queue.add(item.point.name, data, opts);
  return 0;
}

/** The plan's opening lines: points to run and skip, the queue, the configuration notes. */
function reportQueuePlan(o: QueuePlanOptions, plan: Plan, todo: readonly Todo[], skipped: number, shown: string): void {
  const reporter = o.reporter ?? silentReporter;
  reporter.info(
    `${plan.kind} ${plan.file}: ${plan.points.length} point(s), ${skipped} already done, ${todo.length} to run ` +
      `(${todo.filter((t) => t.resumed).length} resumed) as jobs on the queue ${shown} ` +
      `(${o.attempts ?? DEFAULT_ATTEMPTS} attempt(s) each); start workers on it to run them`,
  );
  for (const n of plan.notes) reporter.warn(`note: ${n}`);
}

/** The coordinator once the lock is held and the registry open: plan, CP, enqueue, follow, summarise. */
async function coordinate(
  o: QueuePlanOptions,
  run: string,
  conn: QueueConnection,
  registry: Registry,
  t0: number,
): Promise<RunPlanResult> {
  const { plan } = o;
  const reporter = o.reporter ?? silentReporter;
  removeLeftoverWrites(run);
  const { todo, outcomes, skipped } = planPoints(registry, run, plan);
  reportQueuePlan(o, plan, todo, skipped, conn.shown);
  if (todo.length > 0) await computeCpOnce(run, reporter, o.hooks ?? {});
  const keep = o.keep ?? plan.keep ?? 'frontier';
  const attempts = o.attempts ?? DEFAULT_ATTEMPTS;
  const queue = new Queue<PointJobData>(POINT_QUEUE, { connection: conn.connection });
  const events = new QueueEvents(POINT_QUEUE, { connection: conn.connection });
  // Only the message: an ioredis error object carries its command, AUTH's password included.
  const onError = (e: Error) => reporter.warn(`queue ${conn.shown}: ${e.message}`);
  queue.on('error', onError);
  events.on('error', onError);
  const slots: Slot[] = [];
  const progress = planProgress(o, slots, todo.length);
  const enqueue = async (item: Todo) => {
    await enqueuePoint(queue, run, item, keep, attempts);
  };
  const tracked = todo.map((item) => ({ item, jobId: jobOf(run, item, keep, attempts).opts.jobId }));
  const tracker = new QueueTracker({ run, registry, progress, outcomes, queue, slots, enqueue }, tracked);
  let poll: NodeJS.Timeout | undefined;
  try {
    await events.waitUntilReady();
    progress.begin();
    for (const t of tracked) tracker.startedBefore(t.jobId, await enqueuePoint(queue, run, t.item, keep, attempts));
    // Listening from here on; what happened before is read by the first poll.
    for (const name of ['active', 'progress', 'completed', 'failed', 'waiting', 'delayed', 'stalled'] as const)
      events.on(name, (e: { jobId: string }) => tracker.poke(e.jobId));
    tracker.pollAll();
    poll = setInterval(() => tracker.pollAll(), 1000);
    await tracker.allSettled;
  } finally {
    if (poll) clearInterval(poll);
    progress.stop();
    await tracker.idle();
    await events.close().catch(() => {});
    await queue.close().catch(() => {});
  }
  const workers = tracker.workersSeen.size;
  return summarisePlan(o, registry, { todo, outcomes: outcomes as PointOutcome[], skipped, workers, threads: 0, t0 });
}
