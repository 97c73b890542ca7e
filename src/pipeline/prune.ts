/**
 * Pruning a run's completed experiments: their resume states (resume.safetensors, hundreds of MB
 * each at scale) are only needed to continue a fine-tuning, so a finished experiment can drop it
 * and keep everything that evaluate, report, serve and the registry read. An unfinished experiment
 * keeps its resume state (it is how it continues); each experiment is pruned under its own lock,
 * like finetune and evaluate, so a running one is refused.
 */
import { z } from 'zod';
import { experimentFolderNames, experimentPaths } from '../store/experiment-files.js';
import { experimentNameProblem, isValidExperimentName } from '../store/experiment-name.js';
import {
  experimentCompletion,
  pruneResumeState,
  readResumePruneRecord,
  resumeStateBytes,
} from '../store/resume-prune.js';
import { RunLockedError, withRunLock } from '../store/run-locks.js';
import { isRunDirectory } from '../store/run.js';
import { existsSync } from 'node:fs';
import { InputError } from '../util/errors.js';
import { parseOptions } from './options.js';
import { silentReporter, type Reporter } from './reporter.js';

/** Options of {@link prune}: the run, which experiments (all when empty), and whether to only say what it would do. */
export const pruneOptionsSchema = z
  .object({
    /** Run directory whose experiments are pruned. */
    run: z.string().min(1),
    /** Experiment names to prune; empty: every experiment of the run. */
    experiments: z.array(z.string().min(1)).default([]),
    /** Only report what would be removed. */
    dryRun: z.boolean().default(false),
  })
  .strict();

/** What {@link prune} takes: `run`, optionally `experiments` (names) and `dryRun`. */
export type PruneOptions = z.input<typeof pruneOptionsSchema>;
type Options = z.output<typeof pruneOptionsSchema>;

/**
 * One experiment's outcome: its resume state `removed` (or, with dryRun, `would_remove`), `kept`
 * (unfinished, `why` says how), `already_pruned`, `no_resume_state` (a folder whose fine-tuning
 * never wrote one), or `locked` (another command is writing it; `why` names it).
 */
export interface PruneOutcome {
  experiment: string;
  action: 'removed' | 'would_remove' | 'kept' | 'already_pruned' | 'no_resume_state' | 'locked';
  /** The resume state's path. */
  path: string;
  /** Bytes removed (or that would be) — 0 unless the action is removed / would_remove. */
  bytes: number;
  why?: string;
}

/** What {@link prune} did: one outcome per experiment (by name) and the bytes freed (or that would be). */
export interface PruneResult {
  run: string;
  dryRun: boolean;
  experiments: PruneOutcome[];
  bytesFreed: number;
}

/** The experiments to look at: the named ones (checked to exist), else every experiment folder, sorted. */
function chosenExperiments(o: Options): string[] {
  if (o.experiments.length === 0) return experimentFolderNames(o.run).sort();
  for (const name of o.experiments) {
    if (!isValidExperimentName(name)) {
      throw new InputError((n) => experimentNameProblem(name, n.option('experiments')) ?? '', {
        field: 'experiments',
      });
    }
    if (!existsSync(experimentPaths(o.run, name).dir)) {
      throw new InputError((n) => `${o.run} has no experiment '${name}' (${n.option('experiments')})`, {
        field: 'experiments',
      });
    }
  }
  return [...new Set(o.experiments)];
}

/** One experiment, its lock held: prune (or say it would) when completed, else say why it is kept. */
function pruneExperiment(o: Options, name: string): PruneOutcome {
  const path = experimentPaths(o.run, name).resume;
  const bytes = resumeStateBytes(o.run, name);
  if (bytes === undefined) {
    const pruned = readResumePruneRecord(o.run, name) !== undefined;
    return { experiment: name, action: pruned ? 'already_pruned' : 'no_resume_state', path, bytes: 0 };
  }
  const done = experimentCompletion(o.run, name);
  if (!done.completed) return { experiment: name, action: 'kept', path, bytes: 0, why: done.why };
  if (o.dryRun) return { experiment: name, action: 'would_remove', path, bytes };
  return { experiment: name, action: 'removed', path, bytes: pruneResumeState(o.run, name, done.epochsRun) };
}

/** The outcome as one line of text. */
export function pruneOutcomeLine(r: PruneOutcome): string {
  switch (r.action) {
    case 'removed':
      return `removed ${r.path} (${formatBytes(r.bytes)})`;
    case 'would_remove':
      return `would remove ${r.path} (${formatBytes(r.bytes)})`;
    case 'kept':
      return `kept ${r.path}: ${r.why}`;
    case 'already_pruned':
      return `${r.experiment}: resume state already pruned`;
    case 'no_resume_state':
      return `${r.experiment}: no resume state`;
    case 'locked':
      return `refused ${r.experiment}: ${r.why}`;
  }
}

/** Bytes as B / kB / MB / GB (powers of 1000) with the exact count. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = bytes,
    u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  const short = u === 0 ? `${bytes} B` : `${v.toFixed(1)} ${units[u]}`;
  return u === 0 ? short : `${short}, ${bytes} bytes`;
}

/**
 * Removes the resume state of each completed experiment of a run (all, or `experiments`), recording
 * the prune (resume-pruned.json) so that finetune and the grid still see the experiment as existing
 * and finished; with `dryRun` only reports. Each experiment is pruned under its lock; one that
 * another command holds is left alone, and once the others are done a RunLockedError names it.
 */
export async function prune(options: PruneOptions, reporter: Reporter = silentReporter): Promise<PruneResult> {
  const o = parseOptions(pruneOptionsSchema, options);
  if (!isRunDirectory(o.run)) {
    throw new InputError((n) => `${o.run} is not a run directory (no run.json); check ${n.option('run')}`, {
      field: 'run',
    });
  }
  const outcomes: PruneOutcome[] = [];
  const note = (line: string) => reporter.warn(line);
  for (const name of chosenExperiments(o)) {
    let outcome: PruneOutcome;
    try {
      const target = { experiment: name };
      outcome = await withRunLock({ run: o.run, target, command: 'prune', note }, () => pruneExperiment(o, name));
    } catch (e) {
      if (!(e instanceof RunLockedError)) throw e;
      outcome = { experiment: name, action: 'locked', path: experimentPaths(o.run, name).resume, bytes: 0 };
      outcome.why = e.message;
    }
    outcomes.push(outcome);
    reporter.info(pruneOutcomeLine(outcome));
  }
  const bytesFreed = outcomes.reduce((s, r) => s + r.bytes, 0);
  const verb = o.dryRun ? 'would free' : 'freed';
  reporter.info(`${verb} ${formatBytes(bytesFreed)} in ${outcomes.filter((r) => r.bytes > 0).length} experiment(s)`);
  const locked = outcomes.filter((r) => r.action === 'locked');
  if (locked.length > 0) {
    throw new RunLockedError(
      `not pruned, being written by another command: ${locked.map((r) => `'${r.experiment}'`).join(', ')} ` +
        `(${locked[0]!.why})`,
    );
  }
  return { run: o.run, dryRun: o.dryRun, experiments: outcomes, bytesFreed };
}
