/**
 * Improvement tables of an evaluated experiment: CaliTune's selected (or a given) epoch vs the
 * backbone and vs CP at the closest JSD, per user group, and RBO between the three lists.
 */
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { readNpyMatrixI32 } from '../data/npy.js';
import { findExperiment } from '../store/stored-experiment.js';
import { perUserTableProblem, resultsPaths } from '../store/results-files.js';
import { readCurrentResults } from '../store/results-provenance.js';
import { SELECTION_MODES, type CalituneBlock, type ResultsFile, type SelectionModeName } from '../eval/results.js';
import { readPerUserTable } from '../eval/per-user-table.js';
import { improvementTables, type ImprovementTables, type MethodPerUser } from '../eval/improvement.js';
import { resultsCpCurve } from '../eval/cp-verdicts.js';
import { closestCpLambda, compareWithCp, selectionModeOr, type CpComparison } from '../selection/index.js';
import type { ReferenceMetrics } from '../eval/metrics.js';
import { rboPerUser, summarize, type DistributionSummary } from '../eval/rbo.js';
import { USER_GROUP_NAMES } from '../eval/user-groups.js';
import { InputError } from '../util/errors.js';
import { parseOptions } from './options.js';
import { silentReporter, type Reporter } from './reporter.js';

/**
 * Options of {@link compare}, with their defaults: the run, an evaluated experiment, and the selection mode
 * or the stored epoch to compare.
 */
export const compareOptionsSchema = z
  .object({
    run: z.string().min(1),
    /** An experiment evaluated with evaluate({ experiment }). */
    experiment: z.string().min(1),
    /** Which validation-selected epoch to compare (default: the experiment's target metric, else 'any'). */
    mode: z.enum(SELECTION_MODES).optional(),
    /** Or this stored epoch. */
    epoch: z.number().int().min(0).optional(),
  })
  .strict();

/** What {@link compare} takes: `run` and `experiment`, optionally `mode` or `epoch` (not both). */
export type CompareOptions = z.input<typeof compareOptionsSchema>;
type Options = z.output<typeof compareOptionsSchema>;

/** RBO over users of one pair of lists: overall and per user group (null when a list is missing). */
export type RboPairSummary = { overall: DistributionSummary; by_group: Record<string, DistributionSummary> } | null;

/**
 * One CaliTune epoch against the backbone and CP on the evaluated split: metrics, the verdict at equal JSD,
 * per-group improvement tables and RBO between the three lists.
 */
export interface CompareResult {
  run: string;
  experiment: string;
  split: CalituneBlock['split'];
  epoch: number;
  /** How the epoch was chosen: 'given' or 'selected on validation (MODE)'. */
  selection: string;
  cp_lambda: string;
  /** The epoch against CP's curve at the same JSD (interpolated; the headline verdict, src/selection). */
  vs_cp_curve: {
    cp_ndcg: number | null;
    delta: number | null;
    verdict: CpComparison['verdict'];
    where: CpComparison['where'];
  };
  metrics: { base: ReferenceMetrics; calitune: ReferenceMetrics; cp: ReferenceMetrics | undefined };
  tables: ImprovementTables;
  /** Keyed 'backbone vs CaliTune', 'backbone vs CP', 'CP vs CaliTune'. */
  rbo: Record<string, RboPairSummary>;
  /** List length and RBO persistence of the evaluation. */
  k: number;
  rbo_p: number;
}

/** The experiment's results file with JSD, fine-tuned epochs and CP results (refused when stale). */
function loadResults(o: Options, reporter: Reporter) {
  const { run, experiment: name } = o;
  const paths = resultsPaths(run, name);
  const res = readCurrentResults(run, name, { onNote: (line) => reporter.warn(line) });
  if (!res.calitune.prepared) {
    throw new InputError(
      (n) => `${paths.json} has no JSD (evaluated before '${n.step('prepare')}'); run prepare and evaluate again`,
    );
  }
  const ft = res.finetuned ?? {};
  const cp = res.postprocessed ?? {};
  if (Object.keys(ft).length === 0) {
    throw new InputError(
      (n) =>
        `${paths.json} has no fine-tuned epochs; ` +
        `run '${n.step('evaluate', { run, experiment: name })}' after fine-tuning`,
    );
  }
  if (Object.keys(cp).length === 0) {
    throw new InputError(
      (n) => `${paths.json} has no CP results; run '${n.step('postprocess', { run })}' and evaluate again`,
    );
  }
  return { paths, res, ft, cp };
}

function chooseEpoch(
  o: Options,
  c: CalituneBlock,
  ft: Record<string, ReferenceMetrics>,
  resultsFile: string,
): { epoch: number; how: string } {
  if (o.epoch !== undefined) {
    const e = o.epoch;
    if (!ft[`epoch_${e}`]) {
      throw new InputError(
        `epoch ${e} is not among the evaluated epochs (${Object.keys(ft).slice(0, 8).join(', ')}…)`,
        { field: 'epoch' },
      );
    }
    return { epoch: e, how: 'given' };
  }
  const tm = c.experiment?.target_metric;
  const m: SelectionModeName = o.mode ?? selectionModeOr(tm);
  const s = c.selected?.[m];
  if (!s) throw new InputError(`no epoch selected for mode '${m}' in ${resultsFile}`, { field: 'mode' });
  return { epoch: s.epoch, how: `selected on validation (${m})` };
}

/** Per-user metrics of the backbone, the epoch and CP λ, and every user's group. */
function perUserMethods(o: Options, res: ResultsFile, perUserFile: string, ftKey: string, lam: string) {
  if (!existsSync(perUserFile)) {
    throw new InputError(
      (n) => `missing per-user table; re-run '${n.step('evaluate', { run: o.run, experiment: o.experiment })}'`,
      { file: perUserFile },
    );
  }
  const problem = perUserTableProblem(res, perUserFile);
  if (problem !== undefined) throw new InputError(problem, { file: perUserFile });
  const tab = readPerUserTable(perUserFile);
  const pick = (model: string): MethodPerUser & { rbo: Float64Array } => {
    const r = tab.models.get(model);
    if (!r) throw new InputError(`per-user table has no rows for '${model}'; re-run evaluate`, { file: perUserFile });
    return { ndcg: r.ndcg, jsd: r.jsd, head: r.headItems, rbo: r.rboVsBase };
  };
  const userGroup = new Int32Array(tab.nUsers).fill(-1);
  for (const [u, g] of tab.userGroupByName) userGroup[u] = USER_GROUP_NAMES.indexOf(g);
  return {
    base: pick('base_recommendations'),
    cal: pick(`finetuned_${ftKey}`),
    cp: pick(`postprocessed_${lam}`),
    userGroup,
  };
}

/** RBO of the CP lists vs the epoch's lists, per user, when both are on disk. */
function cpVsCalitune(o: Options, c: CalituneBlock, epoch: number, lam: string): Float64Array | undefined {
  const exp = findExperiment(o.run, o.experiment);
  const epPath = exp.epochs.find((e) => e.epoch === epoch)?.lists[c.split];
  const cpPath = c.postprocess?.files[lam];
  if (!epPath || !cpPath || !existsSync(epPath) || !existsSync(cpPath)) return undefined;
  const a = readNpyMatrixI32(epPath),
    b = readNpyMatrixI32(cpPath);
  if (a.rows !== b.rows || a.cols !== c.k || b.cols !== c.k) return undefined;
  return rboPerUser(b.data, a.data, a.rows, c.k, c.k, c.rbo_p);
}

/** Summary of per-user RBO values (NaN left out), overall and per user group. */
function rboSummary(perUser: Float64Array, userGroup: Int32Array): RboPairSummary {
  const overall = summarize(Float64Array.from(perUser.subarray(1)).filter((x) => !Number.isNaN(x)));
  const byGroup: Record<string, DistributionSummary> = {};
  USER_GROUP_NAMES.forEach((n, g) => {
    const vals: number[] = [];
    for (let u = 1; u < perUser.length; u++)
      if (userGroup[u] === g && !Number.isNaN(perUser[u]!)) vals.push(perUser[u]!);
    byGroup[n] = summarize(Float64Array.from(vals));
  });
  return { overall, by_group: byGroup };
}

/**
 * Compares an evaluated experiment's epoch with the backbone and with CP; reads only the results files
 * that {@link evaluate} wrote (InputError when they lack JSD, fine-tuned epochs or CP).
 */
export async function compare(options: CompareOptions, reporter: Reporter = silentReporter): Promise<CompareResult> {
  const o = parseOptions(compareOptionsSchema, options);
  if (o.mode !== undefined && o.epoch !== undefined) {
    throw new InputError((n) => `give either ${n.option('mode')} or ${n.option('epoch')}, not both`, {
      field: 'epoch',
    });
  }
  const { paths, res, ft, cp } = loadResults(o, reporter);
  const c = res.calitune;
  const { epoch, how } = chooseEpoch(o, c, ft, paths.json);
  const ftKey = `epoch_${epoch}`;
  const ftM = ft[ftKey]!;
  // The per-user tables pair the epoch with one stored CP list; the verdict interpolates along CP's curve.
  const lam = closestCpLambda(cp as Record<string, { jsd: number }>, ftM.jsd!)!;
  const vs = compareWithCp({ ndcg: ftM.ndcg!, jsd: ftM.jsd! }, resultsCpCurve(res.base_recommendations, cp));
  const m = perUserMethods(o, res, paths.perUser, ftKey, lam);
  const tables = improvementTables({
    base: m.base,
    calitune: m.cal,
    cp: m.cp,
    userGroup: m.userGroup,
    groupNames: USER_GROUP_NAMES,
    calituneLabel: `CaliTune epoch ${epoch}`,
    cpLabel: `CP λ=${lam}`,
  });
  const pairs: [string, Float64Array | undefined][] = [
    ['backbone vs CaliTune', m.cal.rbo],
    ['backbone vs CP', m.cp.rbo],
    ['CP vs CaliTune', cpVsCalitune(o, c, epoch, lam)],
  ];
  const rbo: Record<string, RboPairSummary> = {};
  for (const [label, perUser] of pairs) rbo[label] = perUser ? rboSummary(perUser, m.userGroup) : null;
  return {
    run: o.run,
    experiment: o.experiment,
    split: c.split,
    epoch,
    selection: how,
    cp_lambda: lam,
    vs_cp_curve: { cp_ndcg: vs.ndcg, delta: vs.delta, verdict: vs.verdict, where: vs.where },
    metrics: { base: res.base_recommendations, calitune: ftM, cp: cp[lam] },
    tables,
    rbo,
    k: c.k,
    rbo_p: c.rbo_p,
  };
}
