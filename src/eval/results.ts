/**
 * The computation behind `evaluate`'s results of a run (docs/numeric-contract.md §5–§8, §10,
 * §12): the metrics of the base model's lists, of every stored CP λ and of every stored epoch
 * of a fine-tuning experiment on one split, their per-user blocks and the validation-selected
 * epochs. The pipeline (src/pipeline/evaluate-run.ts) reads the lists from the run store and
 * has it write RUN/results/NAME.json (format: src/eval/results-format.ts) and
 * RUN/results/NAME_per_user.tsv (src/eval/per-user-table.ts); NAME = the experiment's name, or
 * "base" without one. Without popularity groups (no prepare step) only the base model's `ndcg`
 * is computed (no JSD, no user groups).
 *
 * Selection (select on validation, report test): per stored epoch the validation metrics are
 * the fine-tuner's (checkpoint index or epoch log: valid NDCG@k with train masked, JSD@k of
 * the test-time list, trade-off vs before fine-tuning); when neither is present they are
 * recomputed from the stored lists with the same definitions (the base model standing for
 * "before"). Modes: ndcg (max valid NDCG), pop_jsd (min JSD), tradeoff (max), any (the
 * reference's rule: the last epoch that improved any of the three over its own best so far,
 * bests starting at 0 / 1 / 0). Ties: the earlier epoch.
 */
import type { SplitDataset } from '../data/types.js';
import type { Csr } from '../math/csr.js';
import { InputError, UserError } from '../util/errors.js';
import type { Prepared } from '../calibration/prepare.js';
import { evaluateLists, groupCountPerUser, type ReferenceMetrics } from './metrics.js';
import { meanNdcg } from './base-eval.js';
import { rboPerUser, summarizePerUser, type DistributionSummary } from './rbo.js';
import { USER_GROUP_NAMES } from './user-groups.js';
import { ndcgAtK } from './ndcg.js';
import { jsdMetric, listGroupDistribution } from './jsd.js';
import type { PerUserBlock, PerUserTableInput } from './per-user-table.js';
import {
  RESULTS_FORMAT_VERSION,
  type CalituneBlock,
  type EvalSplit,
  type RboEntry,
  type ResultsFile,
  type SelectedOut,
  type SelectionMetrics,
} from './results-format.js';

export {
  RESULTS_FORMAT_VERSION,
  type CalituneBlock,
  type EvalSplit,
  type RboEntry,
  type ResultsFile,
  type SelectedOut,
  type SelectionMetrics,
} from './results-format.js';

import { SELECTION_MODES, selectEpochs, type SelectionMode } from '../selection/index.js';
import { resultsCpCurve, selectedVsCp } from './cp-verdicts.js';

export { SELECTION_MODES };
/** A selection mode, as results files key the selected epochs. */
export type SelectionModeName = SelectionMode;

// ---------------------------------------------------------------- selection

/** A stored epoch's validation metrics and where they came from (the fine-tuner's record or its lists). */
export interface SelectionPoint {
  epoch: number;
  m: SelectionMetrics;
  source: 'recorded' | 'lists';
}

/**
 * The validation-selected stored epoch per mode (the one rule: src/selection); epochs with valid
 * NDCG@k below `minValidNdcg` (the accuracy floor) are never selected.
 */
export function selectStoredEpochs(
  points: readonly SelectionPoint[],
  minValidNdcg = 0,
): Record<SelectionModeName, SelectionPoint | null> {
  const chosen = selectEpochs(
    points.map((p) => ({ epoch: p.epoch, validNdcg: p.m.valid_ndcg, jsd: p.m.jsd, tradeoff: p.m.tradeoff, p })),
    { minValidNdcg },
  );
  const out = {} as Record<SelectionModeName, SelectionPoint | null>;
  for (const mode of SELECTION_MODES) out[mode] = chosen[mode]?.p ?? null;
  return out;
}

// ---------------------------------------------------------------- evaluation

/** What one evaluation of a run works on. */
export interface EvaluationInput {
  /** The run directory, recorded in the results. */
  run: string;
  ds: SplitDataset;
  prepared?: Prepared;
  /** Base lists per split (nUsers × k); test and valid needed. */
  baseLists: Record<EvalSplit, Int32Array>;
  experiment?: string;
  split?: EvalSplit;
  k?: number;
  rboP?: number;
  baseModel?: Record<string, unknown>;
}

/** What every step of one evaluation shares. */
export interface Evaluation {
  o: EvaluationInput;
  split: EvalSplit;
  k: number;
  rboP: number;
  nU: number;
  relevant: Csr;
  /** The base lists of the evaluated split. */
  baseL: Int32Array;
  calitune: CalituneBlock;
  blocks: PerUserBlock[];
  rbo: Record<string, RboEntry>;
  t0: number;
}

/** Checks the input and opens the results' `calitune` block; `perUserTable` is where the per-user table goes. */
export function startEvaluation(o: EvaluationInput, perUserTable: string): Evaluation {
  const t0 = performance.now();
  const split = o.split ?? 'test';
  const k = o.k ?? 10;
  const rboP = o.rboP ?? 0.9;
  const nU = o.ds.nUsers;
  const name = o.experiment ?? 'base';
  if (!(rboP > 0 && rboP < 1))
    throw new InputError((n) => `${n.option('rboP')} must be in (0, 1), got ${rboP}`, { field: 'rboP' });
  const baseL = o.baseLists[split];
  if (baseL.length !== nU * k)
    throw new UserError(`base ${split} lists have ${baseL.length} entries, expected ${nU}×${k}`);
  const calitune: CalituneBlock = {
    format_version: RESULTS_FORMAT_VERSION,
    created: new Date().toISOString(),
    run: o.run,
    name,
    split,
    k,
    rbo_p: rboP,
    prepared: o.prepared !== undefined,
    user_group_names: [...USER_GROUP_NAMES],
    per_user_table: perUserTable,
    seconds: {},
  };
  if (o.baseModel) calitune.base_model = o.baseModel;
  const relevant = split === 'test' ? o.ds.test : o.ds.valid;
  return { o, split, k, rboP, nU, relevant, baseL, calitune, blocks: [], rbo: {}, t0 };
}

/** Without popularity groups: the base model's NDCG only. */
export function evaluateWithoutGroups(ev: Evaluation): ResultsFile {
  const { k, nU, baseL, relevant, calitune } = ev;
  const nd = meanNdcg(baseL, k, k, relevant);
  const perN = new Float64Array(nU);
  for (let u = 1; u < nU; u++)
    perN[u] = ndcgAtK(baseL, u * k, k, relevant.indices, relevant.indptr[u]!, relevant.indptr[u + 1]!);
  ev.blocks.push({
    model: 'base_recommendations',
    ndcg: perN,
    jsd: undefined,
    headItems: undefined,
    rboVsBase: undefined,
  });
  calitune.seconds.total = (performance.now() - ev.t0) / 1000;
  return { base_recommendations: { ndcg: nd.ndcg }, calitune };
}

/** The per-user table of the evaluation: one block per evaluated set of lists. */
export function perUserTable(ev: Evaluation, prep: Prepared | undefined): PerUserTableInput {
  const userGroupNames = USER_GROUP_NAMES;
  if (!prep)
    return { nUsers: ev.nU, nGroups: 0, targets: undefined, userGroup: undefined, userGroupNames, blocks: ev.blocks };
  const { nGroups, targets } = prep;
  return { nUsers: ev.nU, nGroups, targets, userGroup: prep.userGroups.userGroup, userGroupNames, blocks: ev.blocks };
}

function rboEntry(per: Float64Array, prep: Prepared): RboEntry {
  const s = summarizePerUser(per, prep.userGroups);
  const q = (d: DistributionSummary): [number, number, number] => [d.q1, d.median, d.q3];
  const by: RboEntry['by_group'] = {};
  s.byGroup.forEach((d, g) => {
    by[USER_GROUP_NAMES[g] ?? `group_${g + 1}`] = { mean: d.n ? d.mean : 0, quartiles: d.n ? q(d) : [0, 0, 0] };
  });
  return { mean: s.overall.mean, quartiles: q(s.overall), min: s.overall.min, max: s.overall.max, by_group: by };
}

/** Mean JSD@k of lists (train-masked targets) — for the selection fallback. */
function meanJsd(lists: Int32Array, width: number, k: number, prep: Prepared, nUsers: number): number {
  const G = prep.nGroups;
  const q = new Float64Array(G);
  let s = 0;
  for (let u = 1; u < nUsers; u++) {
    listGroupDistribution(lists, u * width, k, prep.itemGroup, G, q, 0);
    s += jsdMetric(prep.targets, u * G, q, 0, G);
  }
  return nUsers > 1 ? s / (nUsers - 1) : 0;
}

/** Evaluates one set of lists of the evaluated split under a model name; RBO vs the base lists when asked. */
export type ListEvaluator = (lists: Int32Array, model: string, withRbo: boolean) => ReferenceMetrics;

/** Evaluates one set of lists: reference metrics, per-user block, RBO vs the base lists. */
export function listEvaluator(ev: Evaluation, prep: Prepared): ListEvaluator {
  const { k, nU, relevant, baseL, rboP } = ev;
  return (lists, model, withRbo) => {
    const e = evaluateLists(
      { lists, width: k, k, relevant, itemGroup: prep.itemGroup, targets: prep.targets, nGroups: prep.nGroups },
      prep.userGroups,
    );
    const head = groupCountPerUser(lists, nU, k, k, prep.itemGroup, 0);
    const r = withRbo ? rboPerUser(lists, baseL, nU, k, k, rboP) : undefined;
    ev.blocks.push({ model, ndcg: e.perUser.ndcg, jsd: e.perUser.jsd, headItems: head, rboVsBase: r });
    if (r) ev.rbo[model] = rboEntry(r, prep);
    return e.reference;
  };
}

/** Records the user groups, the popularity source and the empty users of the prepared groups. */
export function addGroupFacts(ev: Evaluation, prep: Prepared): void {
  const { o, nU, calitune } = ev;
  if (prep.targets.length !== nU * prep.nGroups || prep.itemGroup.length !== o.ds.nItems) {
    throw new InputError(
      (n) =>
        `the prepared groups do not match the run's ${nU} users × ${o.ds.nItems} items: ` +
        `re-run '${n.step('prepare', { run: o.run })}'`,
    );
  }
  calitune.user_group_sizes = prep.userGroups.members.map((m) => m.length);
  calitune.user_group_tie_break = prep.summary.user_groups.tie_break;
  calitune.popularity_source = prep.summary.popularity_source;
  calitune.empty_users = prep.summary.empty_users;
}

/** The base lists themselves; their RBO against the base is 1 for every user (user 0: 0). */
export function evaluateBaseLists(ev: Evaluation, evalOne: ListEvaluator): ReferenceMetrics {
  const base = evalOne(ev.baseL, 'base_recommendations', false);
  const self = new Float64Array(ev.nU).fill(1);
  self[0] = 0;
  ev.blocks[0]!.rboVsBase = self;
  return base;
}

/** "Before fine-tuning" for recomputed trade-offs: the base model's valid NDCG and the JSD of its test-time lists. */
export interface BeforeFinetuning {
  validNdcg: number;
  testJsd: number;
}

/** The base model's metrics that recomputed trade-offs compare with. */
export function beforeFinetuning(ev: Evaluation, prep: Prepared): BeforeFinetuning {
  const { o, k, nU } = ev;
  return {
    validNdcg: meanNdcg(o.baseLists.valid, k, k, o.ds.valid).ndcg,
    testJsd: meanJsd(o.baseLists.test, k, k, prep, nU),
  };
}

/**
 * An epoch's validation metrics recomputed from its lists of both splits; `ref` holds its
 * metrics on the evaluated split.
 */
export function recomputedPoint(
  ev: Evaluation,
  prep: Prepared,
  epoch: number,
  lists: Record<EvalSplit, Int32Array>,
  ref: ReferenceMetrics,
  before: BeforeFinetuning,
): SelectionPoint {
  const { o, split, k, nU } = ev;
  const vn = meanNdcg(lists.valid, k, k, o.ds.valid).ndcg;
  const tj = split === 'test' ? ref.jsd! : meanJsd(lists.test, k, k, prep, nU);
  const trade = Math.sqrt(vn / before.validNdcg) * Math.sqrt(before.testJsd / tj);
  return { epoch, m: { valid_ndcg: vn, jsd: tj, tradeoff: Number.isFinite(trade) ? trade : null }, source: 'lists' };
}

/** Per selection mode: the chosen epoch, its validation metrics and its metrics on the evaluated split. */
export function selectedPerMode(
  points: readonly SelectionPoint[],
  byEpoch: ReadonlyMap<number, ReferenceMetrics>,
  split: EvalSplit,
  minValidNdcg = 0,
): Record<string, SelectedOut | null> {
  const sel = selectStoredEpochs(points, minValidNdcg);
  const selected: Record<string, SelectedOut | null> = {};
  for (const mode of SELECTION_MODES) {
    const s = sel[mode];
    selected[mode] = s
      ? {
          epoch: s.epoch,
          source: s.source,
          valid: s.m,
          [split === 'test' ? 'test' : 'valid_lists']: byEpoch.get(s.epoch)!,
        }
      : null;
  }
  return selected;
}

/** The selected epochs against CP at the same JSD, when an experiment was evaluated. */
export function addVsCp(ev: Evaluation, results: ResultsFile): void {
  if (results.finetuned && ev.calitune.selected) {
    const curve = resultsCpCurve(results.base_recommendations, results.postprocessed);
    ev.calitune.vs_cp = selectedVsCp(curve, ev.calitune.selected, results.finetuned);
  }
}
