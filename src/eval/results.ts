/**
 * Results of a run (issue 4 item 2, DESIGN §5): evaluation of the base model, every stored CP
 * λ and every stored epoch of a fine-tuning experiment on one split, written as
 *   RUN/results/NAME.json           the reference's shape + our `calitune` block
 *   RUN/results/NAME_per_user.tsv   see per-user-table.ts
 * NAME = the experiment's name, or "base" without one.
 *
 * Reference shape: `base_recommendations`, `postprocessed.{λ}`, `finetuned.epoch_N`, each with
 * ndcg, jsd, ndcg_usergroup_{1,2,3}, jsd_usergroup_{1,2,3} (means over every user 1..n−1,
 * as the reference; src/eval/metrics.ts). Without `calitune prepare` only the base model's
 * `ndcg` is written (no popularity groups → no JSD, no user groups).
 *
 * Our block `calitune`: format_version, split, k, user_group_names, the base model's valid and
 * test NDCG, the experiment's stored epochs, `selected` (per selection mode the epoch chosen on
 * VALIDATION metrics and its metrics on the evaluated split), `rbo` (per method vs the base
 * list: mean, quartiles, by user group) and file names.
 *
 * Selection (DESIGN §4: select on validation, report test): per stored epoch the validation
 * metrics are the fine-tuner's (checkpoint index or epoch log: valid NDCG@k with train
 * masked, JSD@k of the test-time list, trade-off vs before fine-tuning); when neither is
 * present they are recomputed from the stored lists with the same definitions (the base
 * model standing for "before"). Modes: ndcg (max valid NDCG), pop_jsd (min JSD), tradeoff
 * (max), any (the reference's rule: the last epoch that improved any of the three over its own
 * best so far, bests starting at 0 / 1 / 0). Ties: the earlier epoch.
 *
 * Stored epochs of experiment NAME are found in RUN/experiments/NAME (and its `checkpoints/`
 * subfolder), in either layout:
 *   epoch_N/{valid,test}_lists.npy (+ checkpoints.json, epoch_N/metrics.json) — CheckpointStore
 *   lists/epoch_N_{valid,test}.npy
 * with the epoch log in log.jsonl or epochs.jsonl and the fine-tuner's summary.json.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SplitDataset } from '../data/types.js';
import { readNpyMatrixI32 } from '../data/npy.js';
import { writeJsonAtomic } from '../util/atomic.js';
import { InputError, UserError } from '../util/errors.js';
import type { Prepared } from '../calibration/prepare.js';
import { evaluateLists, groupCountPerUser, type ReferenceMetrics } from './metrics.js';
import { meanNdcg } from './base-eval.js';
import { rboPerUser, summarizePerUser, type DistributionSummary } from './rbo.js';
import { USER_GROUP_NAMES } from './user-groups.js';
import { ndcgAtK } from './ndcg.js';
import { jsdMetric, listGroupDistribution } from './jsd.js';
import { writePerUserTable, type PerUserBlock } from './per-user-table.js';
import { postprocessPaths, storedCpLambdas } from '../rerank/postprocess.js';
import { experimentPaths } from '../experiments/experiment-dir.js';

export const RESULTS_FORMAT_VERSION = 1;
export type EvalSplit = 'test' | 'valid';
export const SELECTION_MODES = ['any', 'ndcg', 'pop_jsd', 'tradeoff'] as const;
export type SelectionModeName = (typeof SELECTION_MODES)[number];

export function resultsPaths(run: string, name: string) {
  return {
    json: join(run, 'results', `${name}.json`),
    perUser: join(run, 'results', `${name}_per_user.tsv`),
  };
}

export function experimentDir(run: string, name: string): string {
  return experimentPaths(run, name).dir;
}

// ---------------------------------------------------------------- stored epochs

export interface SelectionMetrics { valid_ndcg: number; jsd: number; tradeoff: number | null }

export interface StoredEpoch {
  epoch: number;
  lists: Partial<Record<EvalSplit, string>>;
  /** The fine-tuner's validation metrics, when recorded. */
  recorded?: SelectionMetrics;
}

export interface StoredExperiment {
  dir: string;
  layout: 'checkpoints' | 'lists' | 'none';
  epochs: StoredEpoch[];
  summary?: Record<string, unknown>;
  logFile?: string;
}

function readJson(path: string): unknown {
  try { return JSON.parse(readFileSync(path, 'utf8')); } catch (e) { throw new UserError(`not valid JSON (${(e as Error).message})`, path); }
}

function num(x: unknown): number | undefined {
  return typeof x === 'number' && Number.isFinite(x) ? x : undefined;
}

export function findExperiment(run: string, name: string): StoredExperiment {
  if (!/^[A-Za-z0-9._-]+$/.test(name) || name === 'base') throw new UserError(`experiment name '${name}' must use letters, digits, '.', '_' or '-' (and not be 'base')`);
  const dir = experimentDir(run, name);
  if (!existsSync(dir)) {
    const avail = existsSync(join(run, 'experiments')) ? readdirSync(join(run, 'experiments')) : [];
    throw new UserError(`no experiment '${name}' in ${run}/experiments${avail.length ? ` (found: ${avail.join(', ')})` : ''}; run 'calitune finetune --run ${run} --name ${name}' first`);
  }
  const byEpoch = new Map<number, StoredEpoch>();
  const get = (e: number) => { let s = byEpoch.get(e); if (!s) { s = { epoch: e, lists: {} }; byEpoch.set(e, s); } return s; };
  let layout: StoredExperiment['layout'] = 'none';
  for (const base of [dir, join(dir, 'checkpoints')]) {
    if (!existsSync(base)) continue;
    for (const f of readdirSync(base)) {
      const m = /^epoch_(\d+)$/.exec(f);
      if (!m) continue;
      const e = Number(m[1]);
      for (const split of ['valid', 'test'] as const) {
        const p = join(base, f, `${split}_lists.npy`);
        if (existsSync(p)) { get(e).lists[split] = p; layout = 'checkpoints'; }
      }
    }
    const idx = join(base, 'checkpoints.json');
    if (existsSync(idx)) {
      const recs = (readJson(idx) as { checkpoints?: Record<string, unknown>[] }).checkpoints ?? [];
      for (const r of recs) {
        const e = num(r.epoch), v = num(r.validNdcg), j = num(r.jsd);
        if (e !== undefined && v !== undefined && j !== undefined && byEpoch.has(e)) get(e).recorded = { valid_ndcg: v, jsd: j, tradeoff: num(r.tradeoff) ?? null };
      }
    }
  }
  const ld = join(dir, 'lists');
  if (existsSync(ld)) {
    for (const f of readdirSync(ld)) {
      const m = /^epoch_(\d+)_(valid|test)\.npy$/.exec(f);
      if (m) { get(Number(m[1])).lists[m[2] as EvalSplit] = join(ld, f); layout = layout === 'none' ? 'lists' : layout; }
    }
  }
  let logFile: string | undefined;
  for (const f of ['log.jsonl', 'epochs.jsonl']) if (existsSync(join(dir, f))) { logFile = join(dir, f); break; }
  if (logFile) {
    for (const line of readFileSync(logFile, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      let r: Record<string, unknown>;
      try { r = JSON.parse(line) as Record<string, unknown>; } catch { continue; } // a torn last line
      const e = num(r.epoch), v = num(r.valid_ndcg), j = num(r.jsd);
      if (e !== undefined && v !== undefined && j !== undefined && byEpoch.has(e)) {
        get(e).recorded = { valid_ndcg: v, jsd: j, tradeoff: num(r.tradeoff) ?? null };
      }
    }
  }
  const sp = join(dir, 'summary.json');
  const summary = existsSync(sp) ? readJson(sp) as Record<string, unknown> : undefined;
  const epochs = [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
  return { dir, layout, epochs, summary, logFile };
}

// ---------------------------------------------------------------- selection

export interface SelectionPoint { epoch: number; m: SelectionMetrics; source: 'recorded' | 'lists' }

export function selectStoredEpochs(points: readonly SelectionPoint[]): Record<SelectionModeName, SelectionPoint | null> {
  let bN: SelectionPoint | null = null, bJ: SelectionPoint | null = null, bT: SelectionPoint | null = null, any: SelectionPoint | null = null;
  let bestN = 0, bestJ = 1, bestT = 0;
  const sorted = [...points].sort((a, b) => a.epoch - b.epoch);
  for (const p of sorted) {
    const { valid_ndcg: n, jsd: j } = p.m;
    const t = p.m.tradeoff ?? -Infinity;
    if (Number.isFinite(n) && (!bN || n > bN.m.valid_ndcg)) bN = p;
    if (Number.isFinite(j) && (!bJ || j < bJ.m.jsd)) bJ = p;
    if (Number.isFinite(t) && (!bT || t > (bT.m.tradeoff ?? -Infinity))) bT = p;
    let imp = false;
    if (n > bestN) { bestN = n; imp = true; }
    if (j < bestJ) { bestJ = j; imp = true; }
    if (t > bestT) { bestT = t; imp = true; }
    if (imp) any = p;
  }
  return { any, ndcg: bN, pop_jsd: bJ, tradeoff: bT };
}

// ---------------------------------------------------------------- results file

export interface RboEntry { mean: number; quartiles: [number, number, number]; min: number; max: number; by_group: Record<string, { mean: number; quartiles: [number, number, number] }> }

export interface SelectedOut {
  epoch: number;
  source: 'recorded' | 'lists';
  valid: SelectionMetrics;
  /** Metrics of the epoch on the evaluated split (key = split name). */
  [split: string]: unknown;
}

export interface CalituneBlock {
  format_version: number;
  created: string;
  run: string;
  name: string;
  split: EvalSplit;
  k: number;
  rbo_p: number;
  prepared: boolean;
  user_group_names: string[];
  user_group_sizes?: number[];
  user_group_tie_break?: string;
  popularity_source?: string;
  empty_users?: number[];
  base_model?: Record<string, unknown>;
  postprocess?: { lambdas: string[]; files: Record<string, string> };
  experiment?: { dir: string; layout: string; epochs: number[]; skipped: number[]; log?: string; target_metric?: unknown };
  selected?: Record<string, SelectedOut | null>;
  rbo?: Record<string, RboEntry>;
  per_user_table: string;
  seconds: Record<string, number>;
  [extra: string]: unknown;
}

export interface ResultsFile {
  base_recommendations: ReferenceMetrics;
  postprocessed?: Record<string, ReferenceMetrics>;
  finetuned?: Record<string, ReferenceMetrics>;
  calitune: CalituneBlock;
}

/** Reads and checks a results file written by `calitune evaluate`. */
export function readResults(path: string): ResultsFile {
  if (!existsSync(path)) throw new UserError(`no results file; run 'calitune evaluate' first`, path);
  const r = readJson(path) as Partial<ResultsFile> & Record<string, unknown>;
  const v = (r.calitune as { format_version?: unknown } | undefined)?.format_version;
  if (typeof v !== 'number') {
    const what = r.base_recommendations ? 'the reference implementation or an older calitune' : 'an older calitune (before evaluate wrote the reference shape)';
    throw new UserError(`an older results format (no calitune.format_version; written by ${what}); re-run 'calitune evaluate' to rewrite it in format ${RESULTS_FORMAT_VERSION}`, path);
  }
  if (v < RESULTS_FORMAT_VERSION) throw new UserError(`an older results format (format_version ${v}, this calitune reads ${RESULTS_FORMAT_VERSION}); re-run 'calitune evaluate'`, path);
  if (v > RESULTS_FORMAT_VERSION) throw new UserError(`results format_version ${v} is newer than this calitune reads (${RESULTS_FORMAT_VERSION}); upgrade calitune`, path);
  if (!r.base_recommendations) throw new UserError('results file has no base_recommendations', path);
  return r as ResultsFile;
}

// ---------------------------------------------------------------- evaluation

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

export interface EvaluateRunResult {
  results: ResultsFile;
  paths: { json: string; perUser: string };
}

function loadLists(path: string, nUsers: number, k: number): { data: Int32Array; width: number } {
  const a = readNpyMatrixI32(path);
  if (a.rows !== nUsers) throw new UserError(`has ${a.rows} rows, the run has ${nUsers} users (padding included)`, path);
  if (a.cols < k) throw new UserError(`has ${a.cols} columns, fewer than k = ${k}`, path);
  if (a.cols === k) return { data: a.data, width: k };
  // keep only the first k columns
  const out = new Int32Array(nUsers * k);
  for (let u = 0; u < nUsers; u++) out.set(a.data.subarray(u * a.cols, u * a.cols + k), u * k);
  return { data: out, width: k };
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

export function evaluateRun(o: EvaluateRunOptions): EvaluateRunResult {
  const t0 = performance.now();
  const { run, ds, prepared: prep } = o;
  const split = o.split ?? 'test';
  const k = o.k ?? 10;
  const rboP = o.rboP ?? 0.9;
  const nU = ds.nUsers;
  const name = o.experiment ?? 'base';
  const relevant = split === 'test' ? ds.test : ds.valid;
  const paths = resultsPaths(run, name);
  const warn = o.warn ?? (() => {});
  if (!(rboP > 0 && rboP < 1)) throw new InputError((n) => `${n.option('rboP')} must be in (0, 1), got ${rboP}`, { field: 'rboP' });
  const baseL = o.baseLists[split];
  if (baseL.length !== nU * k) throw new UserError(`base ${split} lists have ${baseL.length} entries, expected ${nU}×${k}`);

  const blocks: PerUserBlock[] = [];
  const rbo: Record<string, RboEntry> = {};
  const calitune: CalituneBlock = {
    format_version: RESULTS_FORMAT_VERSION,
    created: new Date().toISOString(),
    run, name, split, k, rbo_p: rboP,
    prepared: prep !== undefined,
    user_group_names: [...USER_GROUP_NAMES],
    per_user_table: paths.perUser,
    seconds: {},
  };
  if (o.baseModel) calitune.base_model = o.baseModel;

  if (!prep) {
    if (o.experiment !== undefined) {
      const name = o.experiment;
      throw new InputError((n) => `evaluating experiment '${name}' needs JSD@${k} and user groups: run '${n.step('prepare', { run })}' first`,
        { field: 'experiment' });
    }
    if (storedCpLambdas(run, split).length > 0) warn(`note: CP lists in ${postprocessPaths(run).dir} are not evaluated without 'calitune prepare' (JSD needs popularity groups)`);
    const nd = meanNdcg(baseL, k, k, relevant);
    const perN = new Float64Array(nU);
    for (let u = 1; u < nU; u++) perN[u] = ndcgAtK(baseL, u * k, k, relevant.indices, relevant.indptr[u]!, relevant.indptr[u + 1]!);
    blocks.push({ model: 'base_recommendations', ndcg: perN, jsd: undefined, headItems: undefined, rboVsBase: undefined });
    calitune.seconds.total = (performance.now() - t0) / 1000;
    const results: ResultsFile = { base_recommendations: { ndcg: nd.ndcg }, calitune };
    writeJsonAtomic(paths.json, results);
    writePerUserTable(paths.perUser, { nUsers: nU, nGroups: 0, targets: undefined, userGroup: undefined, userGroupNames: USER_GROUP_NAMES, blocks });
    return { results, paths };
  }

  if (prep.targets.length !== nU * prep.nGroups || prep.itemGroup.length !== ds.nItems) {
    throw new InputError((n) => `the prepared groups do not match the run's ${nU} users × ${ds.nItems} items: re-run '${n.step('prepare', { run })}'`);
  }
  calitune.user_group_sizes = prep.userGroups.members.map((m) => m.length);
  calitune.user_group_tie_break = prep.summary.user_groups.tie_break;
  calitune.popularity_source = prep.summary.popularity_source;
  calitune.empty_users = prep.summary.empty_users;
  const G = prep.nGroups;
  const evalOne = (lists: Int32Array, model: string, withRbo: boolean) => {
    const e = evaluateLists({ lists, width: k, k, relevant, itemGroup: prep.itemGroup, targets: prep.targets, nGroups: G }, prep.userGroups);
    const head = groupCountPerUser(lists, nU, k, k, prep.itemGroup, 0);
    const r = withRbo ? rboPerUser(lists, baseL, nU, k, k, rboP) : undefined;
    blocks.push({ model, ndcg: e.perUser.ndcg, jsd: e.perUser.jsd, headItems: head, rboVsBase: r });
    if (r) rbo[model] = rboEntry(r, prep);
    return e.reference;
  };
  const base = evalOne(baseL, 'base_recommendations', false);
  {
    const self = new Float64Array(nU).fill(1);
    self[0] = 0;
    blocks[0]!.rboVsBase = self;
  }

  // CP
  const tCp = performance.now();
  const cpKeys = storedCpLambdas(run, split);
  const postprocessed: Record<string, ReferenceMetrics> = {};
  const cpFiles: Record<string, string> = {};
  for (const key of cpKeys) {
    const path = postprocessPaths(run).cpList(key, split);
    const l = loadLists(path, nU, k);
    postprocessed[key] = evalOne(l.data, `postprocessed_${key}`, true);
    cpFiles[key] = path;
  }
  if (cpKeys.length) calitune.postprocess = { lambdas: cpKeys, files: cpFiles };
  calitune.seconds.postprocessed = (performance.now() - tCp) / 1000;

  // experiment epochs
  const results: ResultsFile = { base_recommendations: base, calitune };
  if (cpKeys.length) results.postprocessed = postprocessed;
  if (o.experiment !== undefined) {
    const tFt = performance.now();
    const exp = findExperiment(run, o.experiment);
    if (exp.epochs.length === 0) warn(`note: experiment '${o.experiment}' has no stored epoch lists yet (${exp.dir})`);
    const finetuned: Record<string, ReferenceMetrics> = {};
    const points: SelectionPoint[] = [];
    const skipped: number[] = [];
    // "before fine-tuning" for the recomputed trade-off: the base model's valid NDCG and JSD of its test-time list
    const baseValidNdcg = meanNdcg(o.baseLists.valid, k, k, ds.valid).ndcg;
    const baseTestJsd = meanJsd(o.baseLists.test, k, k, prep, nU);
    const byEpoch = new Map<number, ReferenceMetrics>();
    for (const ep of exp.epochs) {
      const p = ep.lists[split];
      if (!p) { skipped.push(ep.epoch); continue; }
      const l = loadLists(p, nU, k);
      const ref = evalOne(l.data, `finetuned_epoch_${ep.epoch}`, true);
      finetuned[`epoch_${ep.epoch}`] = ref;
      byEpoch.set(ep.epoch, ref);
      if (ep.recorded) { points.push({ epoch: ep.epoch, m: ep.recorded, source: 'recorded' }); continue; }
      // recompute the validation metrics from the stored lists
      const vp = ep.lists.valid, tp = ep.lists.test;
      if (!vp || !tp) continue;
      const vl = split === 'valid' ? l.data : loadLists(vp, nU, k).data;
      const tl = split === 'test' ? l.data : loadLists(tp, nU, k).data;
      const vn = meanNdcg(vl, k, k, ds.valid).ndcg;
      const tj = split === 'test' ? ref.jsd! : meanJsd(tl, k, k, prep, nU);
      const trade = Math.sqrt(vn / baseValidNdcg) * Math.sqrt(baseTestJsd / tj);
      points.push({ epoch: ep.epoch, m: { valid_ndcg: vn, jsd: tj, tradeoff: Number.isFinite(trade) ? trade : null }, source: 'lists' });
    }
    if (skipped.length) warn(`note: ${skipped.length} stored epoch(s) have no ${split} lists and are skipped: ${skipped.slice(0, 10).join(', ')}${skipped.length > 10 ? ', …' : ''}`);
    results.finetuned = finetuned;
    const sel = selectStoredEpochs(points);
    const selected: Record<string, SelectedOut | null> = {};
    for (const mode of SELECTION_MODES) {
      const s = sel[mode];
      selected[mode] = s ? { epoch: s.epoch, source: s.source, valid: s.m, [split === 'test' ? 'test' : 'valid_lists']: byEpoch.get(s.epoch)! } : null;
    }
    calitune.selected = selected;
    calitune.experiment = {
      dir: exp.dir, layout: exp.layout, epochs: exp.epochs.map((e) => e.epoch).filter((e) => byEpoch.has(e)), skipped,
      ...(exp.logFile ? { log: exp.logFile } : {}),
      ...(exp.summary && 'targetMetric' in exp.summary ? { target_metric: exp.summary.targetMetric } : {}),
    };
    calitune.seconds.finetuned = (performance.now() - tFt) / 1000;
  }
  calitune.rbo = rbo;
  const tw = performance.now();
  writePerUserTable(paths.perUser, { nUsers: nU, nGroups: G, targets: prep.targets, userGroup: prep.userGroups.userGroup, userGroupNames: USER_GROUP_NAMES, blocks });
  calitune.seconds.per_user_table = (performance.now() - tw) / 1000;
  calitune.seconds.total = (performance.now() - t0) / 1000;
  writeJsonAtomic(paths.json, results);
  return { results, paths };
}
