/**
 * A grid point as a queue job. The job carries names only — the run directory, the point's name,
 * its resolved configuration and the checkpoint policy — never code or another path; its id is
 * a hash of the run, the point and its configuration, so enqueueing the same point twice adds
 * nothing. A worker accepts a job only when the store vouches for it (see {@link checkPointJob}).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { z } from 'zod';
import { KEEP_POLICIES, type KeepPolicy } from '../calibration/checkpoints.js';
import { experimentNameProblem } from '../store/experiment-name.js';
import { experimentsDir } from '../store/experiment-files.js';
import { gridConfigPath } from '../store/registry-files.js';
import { isRunDirectory } from '../store/run.js';

/** What a point's job carries: the run directory (absolute), the point's name, its configuration, the keep policy. */
export interface PointJobData {
  run: string;
  point: string;
  config: Record<string, unknown>;
  keep: KeepPolicy;
}

const pointJobSchema = z
  .object({
    run: z.string().min(1),
    point: z.string().min(1),
    config: z.record(z.unknown()),
    keep: z.enum(KEEP_POLICIES as [KeepPolicy, ...KeepPolicy[]]),
  })
  .strict();

/** The job id of a point: 'point-' and a SHA-256 of the absolute run path, the name and the configuration. */
export function pointJobId(run: string, point: string, config: unknown): string {
  const h = createHash('sha256')
    .update(`${resolve(run)}\0${point}\0${JSON.stringify(config)}`)
    .digest('hex');
  return `point-${h.slice(0, 40)}`;
}

/** A job the worker will not run, with the reason; it is recorded as the job's failure and never retried. */
export class RefusedJob extends Error {
  constructor(reason: string) {
    super(`refused: ${reason}`);
    this.name = 'RefusedJob';
  }
}

function insideOf(parent: string, child: string): boolean {
  const r = relative(parent, child);
  return r !== '' && !r.startsWith('..') && !isAbsolute(r) && !r.includes(`..${sep}`);
}

/**
 * Checks a job before anything runs: its data has the job's shape; the run is an absolute path
 * to a run directory; the point's name is a valid experiment name whose folder stays inside
 * the run, symbolic links resolved; and the run's store has the point's configuration file
 * (written by the coordinator) with exactly the job's configuration. Anything else → {@link RefusedJob}.
 */
export function checkPointJob(data: unknown): PointJobData {
  const parsed = pointJobSchema.safeParse(data);
  if (!parsed.success) throw new RefusedJob('the job is not a grid point (run, point, config, keep)');
  const job = parsed.data;
  if (!isAbsolute(job.run) || resolve(job.run) !== job.run)
    throw new RefusedJob('the run must be an absolute, normalised path');
  if (!isRunDirectory(job.run)) throw new RefusedJob(`${job.run} is not a run directory`);
  const bad = experimentNameProblem(job.point, 'point name');
  if (bad !== undefined) throw new RefusedJob(bad);
  const realRun = realpathSync(job.run);
  const dir = resolve(experimentsDir(job.run), job.point);
  const realDir = existsSync(dir) ? realpathSync(dir) : resolve(realpathSync(job.run), 'experiments', job.point);
  if (!insideOf(realRun, realDir)) throw new RefusedJob(`point '${job.point}' escapes the run directory`);
  const configFile = gridConfigPath(job.run, job.point);
  if (!existsSync(configFile)) throw new RefusedJob(`point '${job.point}' is not planned in ${job.run}`);
  let stored: unknown;
  try {
    stored = JSON.parse(readFileSync(configFile, 'utf8'));
  } catch {
    throw new RefusedJob(`the stored configuration of point '${job.point}' does not parse`);
  }
  if (JSON.stringify(stored) !== JSON.stringify(job.config))
    throw new RefusedJob(`the configuration of point '${job.point}' differs from the one planned in ${job.run}`);
  return job;
}
