/**
 * The queue worker: takes grid-point jobs from the queue in Redis (see grid-queue.ts) and runs
 * each in its own process — the same per-point job as the local grid (grid-child.ts,
 * grid-worker.ts) — so a crash in native code costs one job, not the worker. Tuning trials
 * (jobs of kind 'trial', put on the same queue by `tune` with a queue) run likewise, in the
 * local trial's process (tune-queue-worker.ts), with one BLAS thread each. It never opens the
 * registry: it reports through the job (progress, return value, failure) and the coordinator
 * records.
 *
 * - A job is checked before anything runs (src/experiments/queue-jobs.ts); a refused one fails
 *   at once, without retries, with the refusal as its error.
 * - BLAS threads per point default to ⌊cores / concurrency⌋ (at least 1), so that threads ×
 *   concurrency ≤ cores.
 * - The job lock is renewed every few seconds while the point runs; a worker that dies loses it
 *   and another worker takes the stalled job over within about LOCK_MS + STALLED_MS, resuming
 *   the point from its last finished epoch (the dead worker's point process stops by itself at
 *   its next epoch).
 */
import type { ChildProcess } from 'node:child_process';
import { availableParallelism, hostname } from 'node:os';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { z } from 'zod';
import { fmtSeconds } from '../util/progress.js';
import { checkQueueReachable, parseQueueUrl, POINT_QUEUE } from '../experiments/queue-connection.js';
import { checkPointJob, RefusedJob, type PointJobData } from '../experiments/queue-jobs.js';
import { isTrialJobData, type TrialJobData } from '../experiments/tune-jobs.js';
import { gridConfigPath } from '../store/registry-files.js';
import { forkPoint, pointFailure } from './grid-child.js';
import { parseOptions } from './options.js';
import { silentReporter, type Reporter } from './reporter.js';
import { runTrialJob, type TrialJobResult } from './tune-queue-worker.js';

/** The data of a job on the queue: a grid point's, or a tuning trial's (its kind says so). */
type QueueJobData = PointJobData | TrialJobData;

/** How long a job's lock lasts without renewal, in milliseconds. */
const LOCK_MS = 10_000;
/** How often workers look for stalled jobs (lock lost), in milliseconds. */
const STALLED_MS = 5_000;

/** Options of {@link queueWorker}: the queue URL, points at a time, BLAS threads per point. */
export const queueWorkerOptionsSchema = z
  .object({
    /** The queue's Redis: redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] or rediss://… (TLS). */
    queue: z.string().min(1),
    /** Points run at the same time (default 1). */
    concurrency: z.number().int().min(1).max(256).default(1),
    /** BLAS threads per point (default ⌊cores / concurrency⌋, at least 1). */
    threads: z.number().int().min(1).max(256).optional(),
  })
  .strict();

/** What {@link queueWorker} takes: `queue`, optionally `concurrency` and `threads`. */
export type QueueWorkerOptions = z.input<typeof queueWorkerOptionsSchema>;

/** What a point's job returns: the worker that ran it, why fine-tuning stopped and how many epochs ran. */
export interface PointJobResult {
  worker: string;
  stopReason: string | null;
  epochsRun: number | null;
}

/** A running queue worker: its name and layout, its counts so far, and how to stop it. */
export interface QueueWorkerHandle {
  /** HOST:PID, as the coordinator's lines name it. */
  readonly id: string;
  readonly concurrency: number;
  readonly threads: number;
  /** Jobs done, failed and refused so far. */
  readonly counts: { done: number; failed: number; refused: number };
  /**
   * Stops taking jobs. Running points are killed and their jobs left to stall, so that another
   * worker resumes them; resolves once the worker is closed.
   */
  stop(): Promise<void>;
}

/** Starts a worker on the queue at `queue` (checked reachable first: an Error naming the URL without its password). */
export async function queueWorker(
  options: QueueWorkerOptions,
  reporter: Reporter = silentReporter,
): Promise<QueueWorkerHandle> {
  const o = parseOptions(queueWorkerOptionsSchema, options);
  const conn = parseQueueUrl(o.queue);
  await checkQueueReachable(conn);
  const cores = Math.max(1, availableParallelism());
  const threads = o.threads ?? Math.max(1, Math.floor(cores / o.concurrency));
  if (threads * o.concurrency > cores)
    reporter.warn(
      `note: ${o.concurrency} point(s) × ${threads} BLAS thread(s) on ${cores} core(s): they will share cores`,
    );
  const id = `${hostname()}:${process.pid}`;
  const counts = { done: 0, failed: 0, refused: 0 };
  const children = new Set<ChildProcess>();
  const trialContext = { id, reporter, children, counts, redis: () => worker.client };
  const processor = (job: Job<QueueJobData>, token?: string) =>
    isTrialJobData(job.data)
      ? runTrialJob(job, token, trialContext)
      : runPointJob(job as Job<PointJobData>, { id, threads, reporter, children, counts });
  const worker = new Worker<QueueJobData, PointJobResult | TrialJobResult>(POINT_QUEUE, processor, {
    connection: conn.connection,
    concurrency: o.concurrency,
    lockDuration: LOCK_MS,
    stalledInterval: STALLED_MS,
    maxStalledCount: 3,
  });
  worker.on('error', (e) => reporter.warn(`worker ${id}: queue error: ${e.message}`));
  await worker.waitUntilReady();
  reporter.info(
    `worker ${id} on the queue ${conn.shown}: ${o.concurrency} point(s) at a time × ${threads} BLAS thread(s) ` +
      `on ${cores} core(s)`,
  );
  return {
    id,
    concurrency: o.concurrency,
    threads,
    counts,
    async stop() {
      for (const c of children) c.kill('SIGKILL');
      await worker.close(true);
    },
  };
}

/** What one job's run needs from its worker. */
interface JobContext {
  id: string;
  threads: number;
  reporter: Reporter;
  children: Set<ChildProcess>;
  counts: QueueWorkerHandle['counts'];
}

/** Checks and runs one point job in its own process; a failure throws (BullMQ retries), a refusal is final. */
async function runPointJob(job: Job<PointJobData>, c: JobContext): Promise<PointJobResult> {
  let data: PointJobData;
  try {
    data = checkPointJob(job.data);
  } catch (e) {
    if (!(e instanceof RefusedJob)) throw e;
    c.counts.refused++;
    c.reporter.warn(`job ${job.id}: ${e.message}`);
    throw new UnrecoverableError(e.message);
  }
  const started = Date.now();
  c.reporter.info(`start  ${data.point} (${data.run}), attempt ${job.attemptsStarted}`);
  const report = (phase: string, resumed: boolean) => {
    if (resumed) c.reporter.info(`resume ${data.point} from its last finished epoch`);
    job.updateProgress({ worker: c.id, phase, resumed }).catch(() => {});
  };
  report('finetune', false);
  const point = {
    run: data.run,
    name: data.point,
    configFile: gridConfigPath(data.run, data.point),
    keep: data.keep,
    threads: c.threads,
  };
  const { child, exited } = forkPoint(point, report);
  c.children.add(child);
  const exit = await exited;
  c.children.delete(child);
  const failure = pointFailure(exit);
  const secs = fmtSeconds((Date.now() - started) / 1000);
  if (failure !== undefined) {
    c.counts.failed++;
    c.reporter.warn(`FAILED ${data.point} after ${secs}: ${failure}`);
    throw new Error(failure);
  }
  c.counts.done++;
  c.reporter.info(`done   ${data.point} in ${secs}`);
  return { worker: c.id, stopReason: exit.stopReason ?? null, epochsRun: exit.epochsRun ?? null };
}
