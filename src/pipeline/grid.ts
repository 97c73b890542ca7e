/**
 * Grid search and the multi-experiment mode: every point (a configuration) is fine-tuned and
 * evaluated in its own worker process, resumable, recorded in the run's registry — local worker
 * processes (./grid-runner.ts), or jobs on a queue in Redis run by workers on any machine
 * (./grid-queue.ts, ./grid-queue-worker.ts).
 */
import { z } from 'zod';
import { KEEP_POLICIES, type KeepPolicy } from '../calibration/checkpoints.js';
import { loadExperimentsFile, loadGridFile } from '../experiments/grid.js';
import { InputError } from '../util/errors.js';
import type { Plan } from '../experiments/grid.js';
import { runPlan, type RunPlanHooks, type RunPlanResult } from './grid-runner.js';
import { runPlanOnQueue } from './grid-queue.js';
import { parseOptions } from './options.js';
import { silentReporter, type Reporter } from './reporter.js';

const runnerOptions = {
  /** Run directory with a backbone and 'prepare' done. */
  run: z.string().min(1),
  /** Worker processes (default: one per core, at most one per point). */
  workers: z.number().int().min(1).max(256).optional(),
  /** Checkpoint weights to keep per point (default: the file's 'keep', else frontier). */
  keep: z.enum(KEEP_POLICIES as [KeepPolicy, ...KeepPolicy[]]).optional(),
  /** Run the points as jobs on this queue (redis://… or rediss://…) instead of local worker processes. */
  queue: z.string().min(1).optional(),
  /** With a queue: attempts per point before it is recorded as failed (default 3). */
  attempts: z.number().int().min(1).max(100).optional(),
};

/** Options of {@link grid}: run, grid file, workers, checkpoint policy, and permission for more than 10,000 points. */
export const gridOptionsSchema = z
  .object({
    ...runnerOptions,
    /** Grid file: a base config and lists of values for config keys. */
    gridFile: z.string().min(1),
    /** Allow a grid of more than 10,000 points. */
    allowLarge: z.boolean().default(false),
  })
  .strict();

/** Options of {@link experiments}: run, experiments file, workers and checkpoint policy. */
export const experimentsOptionsSchema = z
  .object({
    ...runnerOptions,
    /** A list of named experiments, each a name and a config. */
    experimentsFile: z.string().min(1),
  })
  .strict();

/**
 * What {@link grid} takes: `run` and `gridFile`, optionally `workers` or `queue` (with
 * `attempts`), `keep`, `allowLarge`.
 */
export type GridOptions = z.input<typeof gridOptionsSchema>;
/**
 * What {@link experiments} takes: `run` and `experimentsFile`, optionally `workers` or `queue`
 * (with `attempts`), `keep`.
 */
export type ExperimentsOptions = z.input<typeof experimentsOptionsSchema>;
/** What a grid or experiment list did: points run, skipped, done and failed, each point's outcome, and the front. */
export type GridResult = RunPlanResult;

/** How a grid run shows itself beyond the reporter's lines. */
export interface GridView extends RunPlanHooks {
  /** Live per-worker status lines on stderr (default false). */
  showProgress?: boolean;
}

/**
 * Fine-tunes and evaluates every point of a grid file in worker processes, resumably, recording each in
 * the run's registry.
 */
export async function grid(
  options: GridOptions,
  reporter: Reporter = silentReporter,
  view: GridView = {},
): Promise<GridResult> {
  const o = parseOptions(gridOptionsSchema, options);
  const plan = loadGridFile(o.gridFile, { allowLarge: o.allowLarge });
  return runAnyPlan(o, plan, reporter, view);
}

/** Like {@link grid}, for an explicit list of named experiments. */
export async function experiments(
  options: ExperimentsOptions,
  reporter: Reporter = silentReporter,
  view: GridView = {},
): Promise<GridResult> {
  const o = parseOptions(experimentsOptionsSchema, options);
  const plan = loadExperimentsFile(o.experimentsFile);
  return runAnyPlan(o, plan, reporter, view);
}

/** The plan through local worker processes, or, given a queue, as jobs on it. */
function runAnyPlan(
  o: z.output<z.ZodObject<typeof runnerOptions>>,
  plan: Plan,
  reporter: Reporter,
  view: GridView,
): Promise<GridResult> {
  const common = { run: o.run, plan, keep: o.keep, reporter, showProgress: view.showProgress, hooks: view };
  if (o.queue === undefined) {
    if (o.attempts !== undefined)
      throw new InputError((n) => `${n.option('attempts')} needs ${n.option('queue')}`, { field: 'attempts' });
    return runPlan({ ...common, workers: o.workers });
  }
  if (o.workers !== undefined)
    throw new InputError(
      (n) => `${n.option('workers')} is for local runs: with ${n.option('queue')}, start workers on the queue instead`,
      { field: 'workers' },
    );
  return runPlanOnQueue({ ...common, queue: o.queue, attempts: o.attempts });
}
