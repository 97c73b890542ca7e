/**
 * `evaluate`'s results of a run (docs/numeric-contract.md §5–§8, §10, §12): the base model,
 * every stored CP λ and every stored epoch of a fine-tuning experiment on one split, written
 * by the run store as RUN/results/NAME.json (format: src/eval/results-format.ts) and
 * RUN/results/NAME_per_user.tsv (src/eval/per-user-table.ts); NAME = the experiment's name,
 * or "base" without one. Without popularity groups (no `prepare`) only the base model's
 * `ndcg` is written (no JSD, no user groups).
 *
 * Selection (select on validation, report test): per stored epoch the validation metrics are
 * the fine-tuner's (checkpoint index or epoch log: valid NDCG@k with train masked, JSD@k of
 * the test-time list, trade-off vs before fine-tuning); when neither is present they are
 * recomputed from the stored lists with the same definitions (the base model standing for
 * "before"). Modes: ndcg (max valid NDCG), pop_jsd (min JSD), tradeoff (max), any (the
 * reference's rule: the last epoch that improved any of the three over its own best so far,
 * bests starting at 0 / 1 / 0). Ties: the earlier epoch.
 */
import type { SplitDataset, Csr } from '../data/types.js';
import { InputError, UserError } from '../util/errors.js';
import type { Prepared } from '../calibration/prepare.js';
import { evaluateLists, groupCountPerUser, type ReferenceMetrics } from './metrics.js';
import { meanNdcg } from './base-eval.js';
import { rboPerUser, summarizePerUser, type DistributionSummary } from './rbo.js';
import { USER_GROUP_NAMES } from './user-groups.js';
import { ndcgAtK } from './ndcg.js';
import { jsdMetric, listGroupDistribution } from './jsd.js';
import type { PerUserBlock } from './per-user-table.js';
import {
  RESULTS_FORMAT_VERSION, type CalituneBlock, type EvalSplit, type RboEntry, type ResultsFile, type SelectedOut,
  type SelectionMetrics,
} from './results-format.js';
import { postprocessPaths, readCpList, storedCpLambdas } from '../store/postprocess-files.js';
import { findExperiment, type StoredEpoch, type StoredExperiment } from '../store/stored-experiment.js';
import { resultsPaths, writePerUserResults, writeResults } from '../store/results-files.js';
import { readListMatrix } from '../store/list-files.js';

export {
  RESULTS_FORMAT_VERSION, type CalituneBlock, type EvalSplit, type RboEntry, type ResultsFile, type SelectedOut, type SelectionMetrics,
} from './results-format.js';
// Moved to src/store; re-exported while callers move.
export { findExperiment, type StoredEpoch, type StoredExperiment } from '../store/stored-experiment.js';
export { readResults, resultsPaths } from '../store/results-files.js';

import { SELECTION_MODES, selectEpochs, type SelectionMode } from '../selection/index.js';
import { resultsCpCurve, selectedVsCp } from './cp-verdicts.js';

export { SELECTION_MODES };
/** A selection mode, as results files key the selected epochs. */
export type SelectionModeName = SelectionMode;

// ---------------------------------------------------------------- selection

/** A stored epoch's validation metrics and where they came from (the fine-tuner's record or its lists). */
export interface SelectionPoint { epoch: number; m: SelectionMetrics; source: 'recorded' | 'lists' }

/** The validation-selected stored epoch per mode (the one rule: src/selection). */
export function selectStoredEpochs(points: readonly SelectionPoint[]): Record<SelectionModeName, SelectionPoint | null> {
  const chosen = selectEpochs(points.map((p) => ({ epoch: p.epoch, validNdcg: p.m.valid_ndcg, jsd: p.m.jsd, tradeoff: p.m.tradeoff, p })));
  const out = {} as Record<SelectionModeName, SelectionPoint | null>;
  for (const mode of SELECTION_MODES) out[mode] = chosen[mode]?.p ?? null;
  return out;
}

// ---------------------------------------------------------------- evaluation

/** What {@link evaluateRun} scores: the run's split and preparation, the base lists, an optional experiment. */
export interface EvaluateRunOptions {
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
  warn?: (line: string) => void;
}

/** The results file's content and where it and the per-user TSV were written. */
export interface EvaluateRunResult {
  results: ResultsFile;
  paths: { json: string; perUser: string };
}

/** What every step of one evaluation shares. */
interface Evaluation {
  o: EvaluateRunOptions;
  split: EvalSplit;
  k: number;
  rboP: number;
  nU: number;
  relevant: Csr;
  /** The base lists of the evaluated split. */
  baseL: Int32Array;
  paths: { json: string; perUser: string };
  warn: (line: string) => void;
  calitune: CalituneBlock;
  blocks: PerUserBlock[];
  rbo: Record<string, RboEntry>;
  t0: number;
}

function startEvaluation(o: EvaluateRunOptions): Evaluation {
  const t0 = performance.now();
  const split = o.split ?? 'test';
  const k = o.k ?? 10;
  const rboP = o.rboP ?? 0.9;
  const nU = o.ds.nUsers;
  const name = o.experiment ?? 'base';
  const paths = resultsPaths(o.run, name);
  if (!(rboP > 0 && rboP < 1)) throw new InputError((n) => `${n.option('rboP')} must be in (0, 1), got ${rboP}`, { field: 'rboP' });
  const baseL = o.baseLists[split];
  if (baseL.length !== nU * k) throw new UserError(`base ${split} lists have ${baseL.length} entries, expected ${nU}×${k}`);
  const calitune: CalituneBlock = {
    format_version: RESULTS_FORMAT_VERSION,
    created: new Date().toISOString(),
    run: o.run, name, split, k, rbo_p: rboP,
    prepared: o.prepared !== undefined,
    user_group_names: [...USER_GROUP_NAMES],
    per_user_table: paths.perUser,
    seconds: {},
  };
  if (o.baseModel) calitune.base_model = o.baseModel;
  const relevant = split === 'test' ? o.ds.test : o.ds.valid;
  return { o, split, k, rboP, nU, relevant, baseL, paths, warn: o.warn ?? (() => {}), calitune, blocks: [], rbo: {}, t0 };
}

/** Without popularity groups: the base model's NDCG only. */
function evaluateWithoutGroups(ev: Evaluation): EvaluateRunResult {
  const { o, k, nU, baseL, relevant, calitune, paths } = ev;
  if (o.experiment !== undefined) {
    const name = o.experiment;
    throw new InputError((n) => `evaluating experiment '${name}' needs JSD@${k} and user groups: run '${n.step('prepare', { run: o.run })}' first`,
      { field: 'experiment' });
  }
  if (storedCpLambdas(o.run, ev.split).length > 0) ev.warn(`note: CP lists in ${postprocessPaths(o.run).dir} are not evaluated without 'calitune prepare' (JSD needs popularity groups)`);
  const nd = meanNdcg(baseL, k, k, relevant);
  const perN = new Float64Array(nU);
  for (let u = 1; u < nU; u++) perN[u] = ndcgAtK(baseL, u * k, k, relevant.indices, relevant.indptr[u]!, relevant.indptr[u + 1]!);
  ev.blocks.push({ model: 'base_recommendations', ndcg: perN, jsd: undefined, headItems: undefined, rboVsBase: undefined });
  calitune.seconds.total = (performance.now() - ev.t0) / 1000;
  const results: ResultsFile = { base_recommendations: { ndcg: nd.ndcg }, calitune };
  writeResults(paths.json, results);
  writePerUserResults(paths.perUser, { nUsers: nU, nGroups: 0, targets: undefined, userGroup: undefined, userGroupNames: USER_GROUP_NAMES, blocks: ev.blocks });
  return { results, paths };
}

function rboEntry(per: Float64Array, prep: Prepared): RboEntry {
  const s = summarizePerUser(per, prep.userGroups);
  const q = (d: DistributionSummary): [number, number, number] => [d.q1, d.median, d.q3];
  const by: RboEntry['by_group'] = {};
  s.byGroup.forEach((d, g) => { by[USER_GROUP_NAMES[g] ?? `group_${g + 1}`] = { mean: d.n ? d.mean : 0, quartiles: d.n ? q(d) : [0, 0, 0] }; });
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

type ListEvaluator = (lists: Int32Array, model: string, withRbo: boolean) => ReferenceMetrics;

/** Evaluates one set of lists: reference metrics, per-user block, RBO vs the base lists. */
function listEvaluator(ev: Evaluation, prep: Prepared): ListEvaluator {
  const { k, nU, relevant, baseL, rboP } = ev;
  return (lists, model, withRbo) => {
    const e = evaluateLists({ lists, width: k, k, relevant, itemGroup: prep.itemGroup, targets: prep.targets, nGroups: prep.nGroups }, prep.userGroups);
    const head = groupCountPerUser(lists, nU, k, k, prep.itemGroup, 0);
    const r = withRbo ? rboPerUser(lists, baseL, nU, k, k, rboP) : undefined;
    ev.blocks.push({ model, ndcg: e.perUser.ndcg, jsd: e.perUser.jsd, headItems: head, rboVsBase: r });
    if (r) ev.rbo[model] = rboEntry(r, prep);
    return e.reference;
  };
}

function addGroupFacts(ev: Evaluation, prep: Prepared): void {
  const { o, nU, calitune } = ev;
  if (prep.targets.length !== nU * prep.nGroups || prep.itemGroup.length !== o.ds.nItems) {
    throw new InputError((n) => `the prepared groups do not match the run's ${nU} users × ${o.ds.nItems} items: re-run '${n.step('prepare', { run: o.run })}'`);
  }
  calitune.user_group_sizes = prep.userGroups.members.map((m) => m.length);
  calitune.user_group_tie_break = prep.summary.user_groups.tie_break;
  calitune.popularity_source = prep.summary.popularity_source;
  calitune.empty_users = prep.summary.empty_users;
}

/** Every stored CP λ of the evaluated split. */
function evaluateCp(ev: Evaluation, evalOne: ListEvaluator): Record<string, ReferenceMetrics> {
  const tCp = performance.now();
  const { o, split, nU, k } = ev;
  const postprocessed: Record<string, ReferenceMetrics> = {};
  const files: Record<string, string> = {};
  const keys = storedCpLambdas(o.run, split);
  for (const key of keys) {
    postprocessed[key] = evalOne(readCpList(o.run, key, split, nU, k), `postprocessed_${key}`, true);
    files[key] = postprocessPaths(o.run).cpList(key, split);
  }
  if (keys.length) ev.calitune.postprocess = { lambdas: keys, files };
  ev.calitune.seconds.postprocessed = (performance.now() - tCp) / 1000;
  return postprocessed;
}

/** The base lists themselves; their RBO against the base is 1 for every user (user 0: 0). */
function evaluateBaseLists(ev: Evaluation, evalOne: ListEvaluator): ReferenceMetrics {
  const base = evalOne(ev.baseL, 'base_recommendations', false);
  const self = new Float64Array(ev.nU).fill(1);
  self[0] = 0;
  ev.blocks[0]!.rboVsBase = self;
  return base;
}

/** "Before fine-tuning" for recomputed trade-offs: the base model's valid NDCG and the JSD of its test-time lists. */
interface BeforeFinetuning { validNdcg: number; testJsd: number }

/** An epoch's validation metrics recomputed from its stored lists (both splits needed). */
function recomputedPoint(ev: Evaluation, prep: Prepared, ep: StoredEpoch, evaluated: Int32Array, ref: ReferenceMetrics, before: BeforeFinetuning): SelectionPoint | undefined {
  const { o, split, k, nU } = ev;
  const vp = ep.lists.valid, tp = ep.lists.test;
  if (!vp || !tp) return undefined;
  const vl = split === 'valid' ? evaluated : readListMatrix(vp, nU, k);
  const tl = split === 'test' ? evaluated : readListMatrix(tp, nU, k);
  const vn = meanNdcg(vl, k, k, o.ds.valid).ndcg;
  const tj = split === 'test' ? ref.jsd! : meanJsd(tl, k, k, prep, nU);
  const trade = Math.sqrt(vn / before.validNdcg) * Math.sqrt(before.testJsd / tj);
  return { epoch: ep.epoch, m: { valid_ndcg: vn, jsd: tj, tradeoff: Number.isFinite(trade) ? trade : null }, source: 'lists' };
}

/** Per selection mode: the chosen epoch, its validation metrics and its metrics on the evaluated split. */
function selectedPerMode(points: readonly SelectionPoint[], byEpoch: ReadonlyMap<number, ReferenceMetrics>, split: EvalSplit): Record<string, SelectedOut | null> {
  const sel = selectStoredEpochs(points);
  const selected: Record<string, SelectedOut | null> = {};
  for (const mode of SELECTION_MODES) {
    const s = sel[mode];
    selected[mode] = s ? { epoch: s.epoch, source: s.source, valid: s.m, [split === 'test' ? 'test' : 'valid_lists']: byEpoch.get(s.epoch)! } : null;
  }
  return selected;
}

/** Every stored epoch of the experiment with lists of the evaluated split, and the selection over them. */
function evaluateExperiment(ev: Evaluation, prep: Prepared, evalOne: ListEvaluator, name: string): Record<string, ReferenceMetrics> {
  const tFt = performance.now();
  const { o, split, k, nU, calitune } = ev;
  const exp = findExperiment(o.run, name);
  if (exp.epochs.length === 0) ev.warn(`note: experiment '${name}' has no stored epoch lists yet (${exp.dir})`);
  const finetuned: Record<string, ReferenceMetrics> = {};
  const points: SelectionPoint[] = [];
  const skipped: number[] = [];
  const before: BeforeFinetuning = { validNdcg: meanNdcg(o.baseLists.valid, k, k, o.ds.valid).ndcg, testJsd: meanJsd(o.baseLists.test, k, k, prep, nU) };
  const byEpoch = new Map<number, ReferenceMetrics>();
  for (const ep of exp.epochs) {
    const p = ep.lists[split];
    if (!p) { skipped.push(ep.epoch); continue; }
    const lists = readListMatrix(p, nU, k);
    const ref = evalOne(lists, `finetuned_epoch_${ep.epoch}`, true);
    finetuned[`epoch_${ep.epoch}`] = ref;
    byEpoch.set(ep.epoch, ref);
    const point = ep.recorded ? { epoch: ep.epoch, m: ep.recorded, source: 'recorded' as const } : recomputedPoint(ev, prep, ep, lists, ref, before);
    if (point) points.push(point);
  }
  if (skipped.length) ev.warn(`note: ${skipped.length} stored epoch(s) have no ${split} lists and are skipped: ${skipped.slice(0, 10).join(', ')}${skipped.length > 10 ? ', …' : ''}`);
  calitune.selected = selectedPerMode(points, byEpoch, split);
  calitune.experiment = experimentFacts(exp, byEpoch, skipped);
  calitune.seconds.finetuned = (performance.now() - tFt) / 1000;
  return finetuned;
}

function experimentFacts(exp: StoredExperiment, evaluated: ReadonlyMap<number, unknown>, skipped: number[]): NonNullable<CalituneBlock['experiment']> {
  return {
    dir: exp.dir, layout: exp.layout, epochs: exp.epochs.map((e) => e.epoch).filter((e) => evaluated.has(e)), skipped,
    ...(exp.logFile ? { log: exp.logFile } : {}),
    ...(exp.summary && 'targetMetric' in exp.summary ? { target_metric: exp.summary.targetMetric } : {}),
  };
}

function writeEvaluation(ev: Evaluation, prep: Prepared, results: ResultsFile): EvaluateRunResult {
  const { calitune, paths, nU } = ev;
  calitune.rbo = ev.rbo;
  const tw = performance.now();
  writePerUserResults(paths.perUser, { nUsers: nU, nGroups: prep.nGroups, targets: prep.targets, userGroup: prep.userGroups.userGroup, userGroupNames: USER_GROUP_NAMES, blocks: ev.blocks });
  calitune.seconds.per_user_table = (performance.now() - tw) / 1000;
  calitune.seconds.total = (performance.now() - ev.t0) / 1000;
  writeResults(paths.json, results);
  return { results, paths };
}

/** Evaluates the run on one split and writes its results files (see the file comment). */
export function evaluateRun(o: EvaluateRunOptions): EvaluateRunResult {
  const ev = startEvaluation(o);
  const prep = o.prepared;
  if (!prep) return evaluateWithoutGroups(ev);
  addGroupFacts(ev, prep);
  const evalOne = listEvaluator(ev, prep);
  const base = evaluateBaseLists(ev, evalOne);
  const postprocessed = evaluateCp(ev, evalOne);
  const results: ResultsFile = { base_recommendations: base, calitune: ev.calitune };
  if (Object.keys(postprocessed).length) results.postprocessed = postprocessed;
  if (o.experiment !== undefined) results.finetuned = evaluateExperiment(ev, prep, evalOne, o.experiment);
  if (results.finetuned && ev.calitune.selected) {
    ev.calitune.vs_cp = selectedVsCp(resultsCpCurve(base, results.postprocessed), ev.calitune.selected, results.finetuned);
  }
  return writeEvaluation(ev, prep, results);
}
