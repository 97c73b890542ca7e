/**
 * Evaluate a run: the backbone's lists, every stored CP λ and every stored epoch of an
 * experiment (./evaluate-run.ts writes RUN/results/NAME.json and NAME_per_user.tsv).
 */
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { loadRunData, runPaths } from '../store/run.js';
import { withRunLock } from '../store/run-locks.js';
import { BASE_RESULTS_NAME } from '../store/results-files.js';
import { experimentNameProblem, isValidExperimentName } from '../store/experiment-name.js';
import { evaluateBase, meanNdcg, type ListsNdcg } from '../eval/base-eval.js';
import { readNpyMatrixI32, writeNpy } from '../data/npy.js';
import { requireMeasuredPart } from '../data/split-checks.js';
import { checkListItems } from '../store/list-checks.js';
import { hasPrepared, loadPrepared } from '../store/prepare-files.js';
import { hasModel } from '../store/model-files.js';
import type { Prepared } from '../calibration/prepare.js';
import type { EvalSplit, ResultsFile } from '../eval/results.js';
import { evaluateRun } from './evaluate-run.js';
import type { SplitDataset } from '../data/types.js';
import { InputError, UserError } from '../util/errors.js';
import { parseOptions } from './options.js';
import { silentReporter, type Reporter } from './reporter.js';
import { loadRunModel } from './run-model.js';

/** Options of {@link evaluate}: the run, an optional experiment, the split, the list length `k` and RBO's `p`. */
export const evaluateOptionsSchema = z
  .object({
    run: z.string().min(1),
    /** Also evaluate every stored epoch of this experiment (needs prepare). */
    experiment: z.string().min(1).optional(),
    /** Which lists and relevant items are scored. */
    split: z.enum(['test', 'valid']).default('test'),
    /** Persistence of rank-biased overlap vs the base list, in (0, 1). */
    rboP: z
      .number()
      .refine(
        (p) => p > 0 && p < 1,
        (p) => ({ message: `must be in (0, 1), got ${p}` }),
      )
      .default(0.9),
    /** List length. */
    k: z.number().int().min(1).default(10),
  })
  .strict();

/** What {@link evaluate} takes: `run`, optionally `experiment`, `split` ('test'), `k` (10) and `rboP` (0.9). */
export type EvaluateOptions = z.input<typeof evaluateOptionsSchema>;

/** The base model's summary: model_type (when a model was scored), k, NDCG on valid and test, list files. */
export type BaseSummary = {
  model_type?: string;
  k: number;
  valid: ListsNdcg;
  test: ListsNdcg;
  lists: { valid: string; test: string };
};

/**
 * The backbone's NDCG summary, the paths written, and the results file's content (metrics of the backbone,
 * every CP λ and every stored epoch, the selected epochs and their verdicts against CP).
 */
export type EvaluateResult = { run: string } & BaseSummary & { results: string; per_user: string } & ResultsFile & {
    /** Users and items of the run (padding left out). */
    users: number;
    items: number;
  };

interface BaseLists {
  lists: Record<EvalSplit, Int32Array>;
  model?: Required<BaseSummary>;
}

/**
 * The base lists: recomputed from RUN/model, else the stored ones. The stored files belong to the
 * run (train and import write them under the run lock); evaluate holds only an experiment's lock,
 * so it writes them only where a run has none (made before they were kept), never over them.
 */
function baseLists(
  run: string,
  ds: SplitDataset,
  k: number,
  reporter: Reporter,
  info: ReturnType<typeof loadRunData>['info'],
): BaseLists {
  const rp = runPaths(run);
  // hasModel applies the model set's recovery rule (a kill between import's two renames leaves
  // the backbone in RUN/.model.old-*), as the readers of the backbone do
  if (hasModel(run)) {
    const { model, sidecar } = loadRunModel(run, info, ds, 'model');
    const e = evaluateBase(model, ds, k);
    for (const split of ['valid', 'test'] as const)
      if (!existsSync(rp.baseList(split))) writeNpy(rp.baseList(split), '<i4', [ds.nUsers, k], e.lists[split]);
    return {
      lists: e.lists,
      model: {
        model_type: sidecar.model_type,
        k,
        valid: e.valid,
        test: e.test,
        lists: { valid: rp.baseList('valid'), test: rp.baseList('test') },
      },
    };
  }
  const read = (s: EvalSplit) => {
    const p = rp.baseList(s);
    if (!existsSync(p)) throw new UserError(`${run} has neither a model (${rp.model}) nor base lists (${p})`);
    const a = readNpyMatrixI32(p);
    if (a.rows !== ds.nUsers || a.cols !== k)
      throw new UserError(`expected ${ds.nUsers}×${k} lists, got ${a.rows}×${a.cols}`, p);
    checkListItems(a.data, [a.rows, a.cols], ds.nItems, p);
    return a.data;
  };
  const lists = { valid: read('valid'), test: read('test') };
  reporter.warn(`note: no model in ${rp.model}; using the stored base lists`);
  return { lists };
}

function loadInputs(o: z.output<typeof evaluateOptionsSchema>) {
  const { info, ds } = loadRunData(o.run);
  requireMeasuredPart(ds, o.split, `evaluating on it (every NDCG would be 0)`, 'split');
  if (o.k >= ds.nItems) {
    throw new InputError((n) => `${n.option('k')} ${o.k} must be smaller than the number of items (${ds.nItems - 1})`, {
      field: 'k',
    });
  }
  const prepared: Prepared | undefined = hasPrepared(o.run)
    ? loadPrepared(o.run, { nUsers: ds.nUsers, nItems: ds.nItems })
    : undefined;
  if (!prepared && o.experiment !== undefined) {
    const name = o.experiment;
    throw new InputError(
      (n) =>
        `evaluating experiment '${name}' needs JSD@${o.k} and user groups: ` +
        `run '${n.step('prepare', { run: o.run })}' first`,
      { field: 'experiment' },
    );
  }
  return { info, ds, prepared };
}

/**
 * Evaluates a run's lists on one split and writes RUN/results/NAME.json and NAME_per_user.tsv (NAME is
 * the experiment, or 'base'); JSD, user groups and CaliTune epochs need {@link prepare}. Holds the lock of
 * NAME meanwhile: evaluations of different experiments run side by side.
 */
export async function evaluate(options: EvaluateOptions, reporter: Reporter = silentReporter): Promise<EvaluateResult> {
  const o = parseOptions(evaluateOptionsSchema, options);
  const name = o.experiment;
  if (name !== undefined && !isValidExperimentName(name)) {
    throw new InputError((n) => experimentNameProblem(name, n.option('experiment')) ?? '', { field: 'experiment' });
  }
  const target = { experiment: o.experiment ?? BASE_RESULTS_NAME };
  const note = (line: string) => reporter.warn(line);
  return withRunLock({ run: o.run, target, command: 'evaluate', note }, () => evaluateLocked(o, reporter));
}

/** evaluate once the lock of the experiment (or of the base results) is held. */
async function evaluateLocked(o: z.output<typeof evaluateOptionsSchema>, reporter: Reporter): Promise<EvaluateResult> {
  const { run, k, split, experiment } = o;
  const { info, ds, prepared } = loadInputs(o);
  const t0 = performance.now();
  const base = baseLists(run, ds, k, reporter, info);
  const baseS = (performance.now() - t0) / 1000;
  const { results, paths } = evaluateRun({
    run,
    ds,
    prepared,
    baseLists: base.lists,
    experiment,
    split,
    k,
    rboP: o.rboP,
    baseModel: base.model,
    warn: reporter.warn,
  });
  results.calitune.seconds.base_lists = baseS;
  // The base model's summary stays at the top level (model_type, k, valid, test, lists).
  const rp = runPaths(run);
  const baseSummary: BaseSummary = base.model ?? {
    k,
    valid: meanNdcg(base.lists.valid, k, k, ds.valid),
    test: meanNdcg(base.lists.test, k, k, ds.test),
    lists: { valid: rp.baseList('valid'), test: rp.baseList('test') },
  };
  return {
    run,
    ...baseSummary,
    results: paths.json,
    per_user: paths.perUser,
    ...results,
    users: ds.nUsers - 1,
    items: ds.nItems - 1,
  };
}
