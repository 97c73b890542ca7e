/**
 * A queue worker's side of a tuning trial (the coordinator's is tune-queue.ts): the job is
 * checked against the study's session file (src/experiments/tune-jobs.ts), then the trial runs
 * in the same process as a local trial (tune-worker.ts, forked with one BLAS thread). The
 * worker tells the coordinator what the trial did through the job's progress — the whole curve
 * and the rungs so far, and a token of this attempt — and at a rung reads the coordinator's
 * decision from Redis (polled: a restarted trial reads the same decision again) and passes it
 * to the trial's stdin. The job's return value is the trial's end: status, curve and rungs.
 *
 * - The coordinator gone (its heartbeat key expired): the trial is stopped and the job fails
 *   for good; a restarted coordinator runs the trial again under its own session.
 * - Asked to yield (the coordinator needs the slot for an earlier trial that was restarted, see
 *   tune-queue-tracker.ts): the trial is stopped and its job goes back to the queue unfailed.
 * - The trial's process fails: the job fails and BullMQ retries it (a user error: at once for good).
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { UnrecoverableError, WaitingError, type Job, type RedisClient } from 'bullmq';
import { RefusedJob } from '../experiments/queue-jobs.js';
import { checkTrialJob, tuneSessionKeys, type CheckedTrialJob } from '../experiments/tune-jobs.js';
import type { TrialRung } from '../experiments/registry-trials.js';
import { fmtSeconds } from '../util/progress.js';
import type { Reporter } from './reporter.js';
import { forkTrial, readTrialMessages } from './tune-trials.js';
import type { TrialMessage } from './tune-worker.js';

/** How often a trial waiting at a rung reads its decision, in milliseconds. */
const DECISION_POLL_MS = 100;
/** How often a running trial checks that its coordinator is alive, in milliseconds. */
const ALIVE_CHECK_MS = 2000;

/** What a trial's job reports as progress: the worker, this attempt's token, the curve and rungs so far. */
export interface TrialJobProgress {
  worker: string;
  attempt: string;
  curve: Array<number | null>;
  rungs: TrialRung[];
}

/** What a trial's job returns: its progress at the end and how the trial ended. */
export interface TrialJobResult extends TrialJobProgress {
  status: 'completed' | 'stopped';
}

/** What a trial job needs from its worker. */
export interface TrialJobContext {
  id: string;
  reporter: Reporter;
  children: Set<ChildProcess>;
  counts: { done: number; failed: number; refused: number };
  /** The worker's Redis connection (for the session's keys). */
  redis: () => Promise<RedisClient>;
}

/** One attempt of a trial in this worker. */
interface Attempt {
  job: CheckedTrialJob;
  progress: TrialJobProgress;
  child: ChildProcess;
  status?: 'completed' | 'stopped';
  error?: { message: string; userError: boolean };
  /** Why the worker stopped the trial itself. */
  interrupted?: 'yield' | 'gone';
  stderr: string;
}

/** Checks a trial job (a refusal fails it at once, for good). */
function checkedOrRefused(job: Job, c: TrialJobContext): CheckedTrialJob {
  try {
    return checkTrialJob(job.data);
  } catch (e) {
    if (!(e instanceof RefusedJob)) throw e;
    c.counts.refused++;
    c.reporter.warn(`job ${job.id}: ${e.message}`);
    throw new UnrecoverableError(e.message);
  }
}

/** Runs one trial job (see the file comment); `token` is the worker's lock token of the job. */
export async function runTrialJob(job: Job, token: string | undefined, c: TrialJobContext): Promise<TrialJobResult> {
  const checked = checkedOrRefused(job, c);
  const redis = await c.redis();
  const keys = tuneSessionKeys(checked.session);
  if ((await redis.get(keys.alive)) === null) {
    c.counts.failed++;
    throw new UnrecoverableError(`the coordinator of study '${checked.study}' is gone (session ${checked.session})`);
  }
  const started = Date.now();
  c.reporter.info(`start  ${checked.trial} (${checked.run}), attempt ${job.attemptsStarted}`);
  const child = forkTrial({ run: checked.run, model: checked.model, config: checked.config, rungs: checked.rungs });
  c.children.add(child);
  const a: Attempt = {
    job: checked,
    progress: { worker: c.id, attempt: randomUUID(), curve: [], rungs: [] },
    child,
    stderr: '',
  };
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => {
    child.on('close', (code, signal) => res({ code, signal }));
  });
  child.stderr?.on('data', (d: Buffer) => {
    a.stderr = (a.stderr + d.toString('utf8')).slice(-4000);
  });
  const report = () => job.updateProgress({ ...a.progress }).catch(() => {});
  await report();
  const watch = watchCoordinator(a, redis, keys.alive);
  readTrialMessages(child, (m) => onTrialMessage(a, m, report, redis));
  const exit = await exited;
  clearInterval(watch);
  c.children.delete(child);
  return endOfAttempt(job, token, a, exit, { c, secs: fmtSeconds((Date.now() - started) / 1000) });
}

/** Stops the trial when the coordinator's heartbeat is gone (checked every few seconds). */
function watchCoordinator(a: Attempt, redis: RedisClient, alive: string): NodeJS.Timeout {
  return setInterval(() => {
    redis.get(alive).then(
      (v) => {
        if (v === null) interrupt(a, 'gone');
      },
      () => {},
    );
  }, ALIVE_CHECK_MS);
}

function interrupt(a: Attempt, why: 'yield' | 'gone'): void {
  a.interrupted ??= why;
  a.child.kill('SIGKILL');
}

function onTrialMessage(a: Attempt, m: TrialMessage, report: () => Promise<void>, redis: RedisClient): void {
  switch (m.type) {
    case 'epoch':
      a.progress.curve.push(m.valid);
      void report();
      return;
    case 'rung': {
      a.progress.rungs.push({ epochs: m.epochs, metric: m.metric });
      const k = a.job.rungs.indexOf(m.epochs);
      void report().then(() => waitForDecision(a, k, redis));
      return;
    }
    case 'end':
      a.status = m.status;
      return;
    case 'error':
      a.error = { message: m.message, userError: m.userError };
      return;
  }
}

/** Reads the coordinator's decision at rung `k` until it is there (or the trial is interrupted) and passes it on. */
async function waitForDecision(a: Attempt, k: number, redis: RedisClient): Promise<void> {
  const keys = tuneSessionKeys(a.job.session);
  while (a.interrupted === undefined && a.child.exitCode === null && a.child.signalCode === null) {
    try {
      const decision = await redis.get(keys.decision(a.job.idx, k));
      if (decision === 'continue' || decision === 'stop') {
        a.child.stdin?.write(`${decision}\n`);
        return;
      }
      if ((await redis.get(keys.yield(a.job.idx))) === a.progress.attempt) interrupt(a, 'yield');
    } catch {
      /* Redis hiccup: read again */
    }
    await sleep(DECISION_POLL_MS);
  }
}

/** The job's end from the attempt's: a result, back to the queue (yield), or a failure (retried unless final). */
async function endOfAttempt(
  job: Job,
  token: string | undefined,
  a: Attempt,
  exit: { code: number | null; signal: NodeJS.Signals | null },
  o: { c: TrialJobContext; secs: string },
): Promise<TrialJobResult> {
  const { c, secs } = o;
  const trial = a.job.trial;
  if (a.interrupted === 'yield') {
    c.reporter.info(`yield  ${trial}: back in the queue for an earlier trial, after ${secs}`);
    await job.moveToWait(token);
    throw new WaitingError();
  }
  if (a.interrupted === 'gone') {
    c.counts.failed++;
    c.reporter.warn(`FAILED ${trial} after ${secs}: its coordinator is gone`);
    throw new UnrecoverableError(`the coordinator of study '${a.job.study}' is gone (session ${a.job.session})`);
  }
  if (a.status !== undefined && exit.code === 0) {
    c.counts.done++;
    c.reporter.info(`done   ${trial} in ${secs} (${a.status})`);
    return { ...a.progress, status: a.status };
  }
  c.counts.failed++;
  const why =
    a.error?.message ??
    `${exit.signal ? `trial process killed by ${exit.signal}` : `trial process exited with code ${exit.code}`}: ` +
      a.stderr.trim().split('\n').slice(-3).join(' | ');
  c.reporter.warn(`FAILED ${trial} after ${secs}: ${why}`);
  // A user error (a configuration the backbone refuses) fails the same way every time.
  throw a.error?.userError ? new UnrecoverableError(why) : new Error(why);
}
