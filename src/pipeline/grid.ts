/**
 * Grid search and the multi-experiment mode: every point (a configuration) is fine-tuned and
 * evaluated in its own worker process, resumable, recorded in the run's registry
 * (./grid-runner.ts).
 */
import { z } from 'zod';
import { KEEP_POLICIES, type KeepPolicy } from '../calibration/checkpoints.js';
import { loadExperimentsFile, loadGridFile } from '../experiments/grid.js';
import { runPlan, type RunPlanHooks, type RunPlanResult } from './grid-runner.js';
import { parseOptions } from './options.js';
import { silentReporter, type Reporter } from './reporter.js';

const runnerOptions = {
  /** Run directory with a backbone and 'prepare' done. */
  run: z.string().min(1),
  /** Worker processes (default: one per core, at most one per point). */
  workers: z.number().int().min(1).max(256).optional(),
  /** Checkpoint weights to keep per point (default: the file's 'keep', else frontier). */
  keep: z.enum(KEEP_POLICIES as [KeepPolicy, ...KeepPolicy[]]).optional(),
};

export const gridOptionsSchema = z.object({
  ...runnerOptions,
  /** Grid file: a base config and lists of values for config keys. */
  gridFile: z.string().min(1),
  /** Allow a grid of more than 10,000 points. */
  allowLarge: z.boolean().default(false),
}).strict();

export const experimentsOptionsSchema = z.object({
  ...runnerOptions,
  /** A list of named experiments, each a name and a config. */
  experimentsFile: z.string().min(1),
}).strict();

export type GridOptions = z.input<typeof gridOptionsSchema>;
export type ExperimentsOptions = z.input<typeof experimentsOptionsSchema>;
export type GridResult = RunPlanResult;

/** How a grid run shows itself beyond the reporter's lines. */
export interface GridView extends RunPlanHooks {
  /** Live per-worker status lines on stderr (default false). */
  showProgress?: boolean;
}

export async function grid(options: GridOptions, reporter: Reporter = silentReporter, view: GridView = {}): Promise<GridResult> {
  const o = parseOptions(gridOptionsSchema, options);
  const plan = loadGridFile(o.gridFile, { allowLarge: o.allowLarge });
  return runPlan({ run: o.run, plan, workers: o.workers, keep: o.keep, reporter, showProgress: view.showProgress, hooks: view });
}

export async function experiments(options: ExperimentsOptions, reporter: Reporter = silentReporter, view: GridView = {}): Promise<GridResult> {
  const o = parseOptions(experimentsOptionsSchema, options);
  const plan = loadExperimentsFile(o.experimentsFile);
  return runPlan({ run: o.run, plan, workers: o.workers, keep: o.keep, reporter, showProgress: view.showProgress, hooks: view });
}
