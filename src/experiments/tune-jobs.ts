/**
 * A tuning trial as a queue job, beside the grid's point jobs (queue-jobs.ts) on the same queue.
 * The job carries names only — `kind: 'trial'`, the run directory, the study, the coordinator's
 * session and the trial's id — never code or a configuration: the worker reads the trial's
 * configuration, model and rungs from the session file the coordinator wrote in the run
 * (RUN/tune/STUDY/queue-session.json), and refuses a job that file does not vouch for (see
 * {@link checkTrialJob}). A session is one coordinator's life: a restarted coordinator starts a
 * new one, so the jobs of a dead one are refused and its running trials stop.
 *
 * Redis keys of a session (see {@link tuneSessionKeys}): the coordinator's heartbeat (a key
 * with a short time to live), and per trial and rung the coordinator's decision, which the
 * worker reads (not pops, so a restarted trial reads the same decision again).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { z } from 'zod';
import { isRunDirectory } from '../store/run.js';
import { writeFileAtomic } from '../util/atomic.js';
import { RefusedJob } from './queue-jobs.js';

/** What a trial's job carries: its kind, the run directory (absolute), the study, the session, the trial's id. */
export interface TrialJobData {
  kind: 'trial';
  run: string;
  study: string;
  session: string;
  trial: string;
}

/** What the coordinator writes for its workers: the session, the model, the rungs and the trials to run. */
export interface TuneSession {
  session: string;
  model: string;
  /** Rung epochs (empty without early stopping). */
  rungs: number[];
  trials: Array<{ id: string; idx: number; config: Record<string, unknown> }>;
}

/** A checked trial job: its data and what the session file says of it. */
export interface CheckedTrialJob extends TrialJobData {
  idx: number;
  model: string;
  config: Record<string, unknown>;
  rungs: number[];
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

const trialJobSchema = z
  .object({
    kind: z.literal('trial'),
    run: z.string().min(1),
    study: z.string().regex(NAME),
    session: z.string().regex(/^[0-9a-f]{16,64}$/),
    trial: z.string().regex(NAME),
  })
  .strict();

const sessionSchema = z
  .object({
    session: z.string(),
    model: z.string(),
    rungs: z.array(z.number().int()),
    trials: z.array(z.object({ id: z.string(), idx: z.number().int().min(0), config: z.record(z.unknown()) })),
  })
  .strict();

/** Whether a job's data is a trial's (its kind); anything else is taken for a grid point. */
export function isTrialJobData(data: unknown): boolean {
  return (data as { kind?: unknown } | null)?.kind === 'trial';
}

/** The session file of a study: RUN/tune/STUDY/queue-session.json. */
export function tuneSessionPath(run: string, study: string): string {
  return join(run, 'tune', study, 'queue-session.json');
}

/** Writes the session file (atomic). */
export function writeTuneSession(run: string, study: string, s: TuneSession): void {
  writeFileAtomic(tuneSessionPath(run, study), `${JSON.stringify(s)}\n`);
}

/** The session file of a study, or undefined when there is none or it does not parse. */
export function readTuneSession(run: string, study: string): TuneSession | undefined {
  try {
    const parsed = sessionSchema.safeParse(JSON.parse(readFileSync(tuneSessionPath(run, study), 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** The job id of a trial: 'trial-' and a SHA-256 of the absolute run path, the study, the session and the trial. */
export function trialJobId(run: string, study: string, session: string, trial: string): string {
  const h = createHash('sha256')
    .update(`${resolve(run)}\0${study}\0${session}\0${trial}`)
    .digest('hex');
  return `trial-${h.slice(0, 40)}`;
}

/** The Redis keys of a session: the heartbeat, a trial's decision at a rung, a request that a trial yield its slot. */
export function tuneSessionKeys(session: string) {
  const base = `calitune:tune:${session}`;
  return {
    alive: `${base}:alive`,
    decision: (idx: number, rung: number) => `${base}:decision:${idx}:${rung}`,
    yield: (idx: number) => `${base}:yield:${idx}`,
  };
}

function insideOf(parent: string, child: string): boolean {
  const r = relative(parent, child);
  return r !== '' && !r.startsWith('..') && !isAbsolute(r) && !r.includes(`..${sep}`);
}

/**
 * Checks a trial job before anything runs: its data has the job's shape; the run is an absolute
 * path to a run directory; the study's folder stays inside the run, symbolic links resolved;
 * and the study's session file names the job's session and trial. Anything else → {@link RefusedJob}.
 */
export function checkTrialJob(data: unknown): CheckedTrialJob {
  const parsed = trialJobSchema.safeParse(data);
  if (!parsed.success) throw new RefusedJob('the job is not a tuning trial (kind, run, study, session, trial)');
  const job = parsed.data;
  if (!isAbsolute(job.run) || resolve(job.run) !== job.run)
    throw new RefusedJob('the run must be an absolute, normalised path');
  if (!isRunDirectory(job.run)) throw new RefusedJob(`${job.run} is not a run directory`);
  const file = tuneSessionPath(job.run, job.study);
  if (!existsSync(file)) throw new RefusedJob(`study '${job.study}' has no queue session in ${job.run}`);
  if (!insideOf(realpathSync(job.run), realpathSync(file)))
    throw new RefusedJob(`study '${job.study}' escapes the run directory`);
  const s = readTuneSession(job.run, job.study);
  if (s === undefined) throw new RefusedJob(`the queue session of study '${job.study}' does not parse`);
  if (s.session !== job.session)
    throw new RefusedJob(`session ${job.session} of study '${job.study}' has ended (a newer coordinator runs it)`);
  const trial = s.trials.find((t) => t.id === job.trial);
  if (trial === undefined) throw new RefusedJob(`trial '${job.trial}' is not planned in study '${job.study}'`);
  return { ...job, idx: trial.idx, model: s.model, config: trial.config, rungs: s.rungs };
}
