/**
 * A study's trials as jobs on the BullMQ queue in Redis that grid points use (the grid's
 * coordinator is grid-queue.ts). The tune process stays the coordinator: it owns the registry,
 * the scheduler and the ordered decisions, exactly as in a local tune, so the same seed gives the
 * same trials, rung decisions and best configuration. Workers (`calitune worker`, see
 * grid-queue-worker.ts and tune-queue-worker.ts) run the trials and report through the jobs;
 * the coordinator follows them (tune-queue-tracker.ts) and writes each decision to Redis.
 *
 * - Session: each coordinator's life is a session (a random id) with a heartbeat key in Redis
 *   and a session file in the run (src/experiments/tune-jobs.ts) that vouches for its jobs.
 *   Killed and started again, the coordinator opens a new session: the old one's waiting jobs
 *   are removed, its running trials stop (their heartbeat is gone) and train again from the start
 *   in the new session, as a local tune restarts its interrupted trials; ended trials are replayed.
 * - Order: a job's priority is its trial's position, so workers take trials in trial order,
 *   as the no-deadlock argument of the ordered decisions needs (src/tune/ordered-decisions.ts).
 * - Attempts per trial job: {@link TRIAL_ATTEMPTS}, with exponential back-off; a stalled job
 *   (its worker died) is taken over by another worker and the trial starts again.
 */
import { randomBytes } from 'node:crypto';
import { Queue, QueueEvents } from 'bullmq';
import { POINT_QUEUE, type QueueConnection } from '../experiments/queue-connection.js';
import type { TrialRow } from '../experiments/registry-trials.js';
import type { Registry } from '../experiments/registry.js';
import {
  readTuneSession,
  trialJobId,
  tuneSessionKeys,
  writeTuneSession,
  type TrialJobData,
} from '../experiments/tune-jobs.js';
import type { OrderedDecisions } from '../tune/ordered-decisions.js';
import type { Reporter } from './reporter.js';
import { TrialTracker } from './tune-queue-tracker.js';

/** Attempts per trial job before the trial is recorded as failed. */
export const TRIAL_ATTEMPTS = 3;
/** First back-off delay after a failed attempt (doubling with each attempt), in milliseconds. */
const BACKOFF_MS = 2000;
/** The heartbeat's time to live and how often it is renewed, in milliseconds. */
const ALIVE_TTL_MS = 15_000;
const ALIVE_EVERY_MS = 3000;
/** How long finished trial jobs stay on the queue, in seconds. */
const KEEP_FINISHED_S = 86_400;

/** What the queue runner needs: the run (absolute), the study, the registry and the decision order. */
export interface QueueTrialContext {
  run: string;
  study: string;
  model: string;
  /** Rung epochs (empty without early stopping). */
  rungs: readonly number[];
  registry: Registry;
  decisions: OrderedDecisions;
  conn: QueueConnection;
  reporter: Reporter;
  /** Called when a trial ended and was recorded. */
  onTrialEnd: (row: TrialRow) => void;
}

/** The job of a trial in a session: its data (names only) and options (id, priority, attempts, back-off). */
function trialJob(ctx: QueueTrialContext, session: string, row: TrialRow) {
  const data: TrialJobData = { kind: 'trial', run: ctx.run, study: ctx.study, session, trial: row.id };
  const opts = {
    jobId: trialJobId(ctx.run, ctx.study, session, row.id),
    priority: row.idx + 1,
    attempts: TRIAL_ATTEMPTS,
    backoff: { type: 'exponential', delay: BACKOFF_MS },
    removeOnComplete: { age: KEEP_FINISHED_S },
    removeOnFail: { age: KEEP_FINISHED_S },
  };
  return { data, opts };
}

/** Ends an earlier coordinator's session: its heartbeat goes (its trials stop), its waiting jobs are removed. */
async function endOldSession(ctx: QueueTrialContext, queue: Queue, redis: Awaited<Queue['client']>): Promise<void> {
  const old = readTuneSession(ctx.run, ctx.study);
  if (old === undefined) return;
  await redis.del(tuneSessionKeys(old.session).alive);
  for (const t of old.trials) await queue.remove(trialJobId(ctx.run, ctx.study, old.session, t.id)).catch(() => 0);
}

/**
 * Runs `todo` (queued trials, in trial order) as jobs on the queue and resolves with the number
 * of workers that ran them once all have ended. The caller has replayed the ended trials into
 * `ctx.decisions` and checked that Redis answers.
 */
export async function runTrialsOnQueue(ctx: QueueTrialContext, todo: readonly TrialRow[]): Promise<number> {
  if (todo.length === 0) return 0;
  const { connection } = ctx.conn;
  const queue = new Queue<TrialJobData>(POINT_QUEUE, { connection });
  const events = new QueueEvents(POINT_QUEUE, { connection });
  // Only the message: an ioredis error object carries its command, AUTH's password included.
  const onError = (e: Error) => ctx.reporter.warn(`queue ${ctx.conn.shown}: ${e.message}`);
  queue.on('error', onError);
  events.on('error', onError);
  const session = randomBytes(12).toString('hex');
  const keys = tuneSessionKeys(session);
  let heartbeat: NodeJS.Timeout | undefined;
  let poll: NodeJS.Timeout | undefined;
  const redis = await queue.client;
  try {
    await endOldSession(ctx, queue, redis);
    const beat = () => redis.set(keys.alive, '1', { PX: ALIVE_TTL_MS });
    await beat();
    heartbeat = setInterval(() => void beat().catch(() => {}), ALIVE_EVERY_MS);
    const trials = todo.map((r) => ({ id: r.id, idx: r.idx, config: r.config }));
    writeTuneSession(ctx.run, ctx.study, { session, model: ctx.model, rungs: [...ctx.rungs], trials });
    const enqueue = async (row: TrialRow) => {
      const { data, opts } = trialJob(ctx, session, row);
      await queue.add(row.id, data, opts);
    };
    const tracked = todo.map((row) => ({ row, jobId: trialJob(ctx, session, row).opts.jobId }));
    const tracker = new TrialTracker({ ...ctx, queue, redis, keys, enqueue }, tracked);
    await events.waitUntilReady();
    for (const row of todo) await enqueue(row);
    for (const name of ['active', 'progress', 'completed', 'failed', 'waiting', 'delayed', 'stalled'] as const)
      events.on(name, (e: { jobId: string }) => tracker.poke(e.jobId));
    tracker.pollAll();
    poll = setInterval(() => tracker.pollAll(), 1000);
    await tracker.allSettled;
    await tracker.idle();
    return tracker.workersSeen.size;
  } finally {
    if (poll) clearInterval(poll);
    if (heartbeat) clearInterval(heartbeat);
    await redis.del(keys.alive).catch(() => 0);
    await events.close().catch(() => {});
    await queue.close().catch(() => {});
  }
}
