/**
 * Everything the report draws, gathered from a run directory (issue 7). Read-only.
 *
 * Sources:
 *   RUN/run.json, RUN/results/base_model.json      what the run is, the backbone's NDCG@10
 *   RUN/results/NAME.json (+ NAME_per_user.tsv)    'calitune evaluate' output per experiment
 *   RUN/results/base.json                          'calitune evaluate' without an experiment
 *   RUN/experiments/NAME/log.jsonl                 the fine-tuner's epoch log (valid NDCG, JSD)
 *   RUN/model/training_log.jsonl                   the backbone's training log (for an imported
 *                                                  backbone: backbone_training.json of the source)
 *   RUN/prepare/                                   item popularity and groups (long tail)
 *
 * Every file is found and read through the run store (src/store). Which experiments exist is
 * answered by one function, `listExperiments`.
 *
 * Bad values: a metric that is NaN / Infinity / null (or a bare `NaN` token, as Python's json
 * writes) becomes `null` here, is drawn as a gap, and is reported in `warnings`.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SELECTION_MODES, type SelectionModeName } from '../eval/results.js';
import type { ResultsFile } from '../eval/results-format.js';
import { readPerUserTable, type PerUserRows } from '../eval/per-user-table.js';
import { USER_GROUP_NAMES } from '../eval/user-groups.js';
import { closestCpLambda } from '../selection/cp-curve.js';
import { readNpyMatrixI32 } from '../data/npy.js';
import { rboPerUser } from '../eval/rbo.js';
import { InputError, UserError, type Naming } from '../util/errors.js';
import { paretoFront } from '../selection/pareto.js';
import { selectionModeOr } from '../selection/modes.js';
import { isRunDirectory, readRunInfo, runPaths, type RunInfo } from '../store/run.js';
import { hasPrepared, loadPrepared, preparePaths } from '../store/prepare-files.js';
import { experimentFolderNames, experimentPaths, experimentsDir, readExperimentConfig } from '../store/experiment-files.js';
import { readEpochLog } from '../store/epoch-log.js';
import { BASE_RESULTS_NAME, readResults, resultsExperimentNames, resultsPaths } from '../store/results-files.js';
import { findExperiment } from '../store/stored-experiment.js';
import { readBaseModelResults } from '../store/base-files.js';
import { readTrainingLog } from '../store/model-files.js';

export { parseJsonLenient } from '../store/json-files.js';

export type Num = number | null;

export interface MetricSet {
  ndcg: Num;
  jsd: Num;
  /** Per user group (mainstream, diverse, niche). */
  ndcgGroup: Num[];
  jsdGroup: Num[];
}

export interface LogPoint { epoch: number; validNdcg: Num; jsd: Num; tradeoff: Num }

export interface ExperimentData {
  name: string;
  /** Whether RUN/experiments/NAME exists (fine-tuning output). */
  hasDir: boolean;
  resultsPath?: string;
  perUserPath?: string;
  /** Evaluated split of the results file. */
  split?: string;
  /** Evaluated epochs (metrics on `split`), ascending. */
  epochs: { epoch: number; m: MetricSet }[];
  /** The fine-tuner's per-epoch validation log (epoch 0 = before fine-tuning, when logged). */
  log: LogPoint[];
  /** Validation-selected epoch per selection mode (from the results file). */
  selected: Partial<Record<SelectionModeName, number>>;
  /** The epoch the report compares: the experiment's target metric's selection, else 'any'. */
  primary?: { mode: SelectionModeName; epoch: number };
  /** Short description of the configuration (α, frozen item embeddings). */
  config?: string;
  results?: ResultsFile;
}

export interface CpPoint { lambda: string; m: MetricSet }

export interface LongTail {
  /** Popularity (distinct users) of items sorted most popular first (item 0 left out). */
  counts: number[];
  /** Popularity group per rank (0 head, 1 mid, 2 tail…). */
  groups: number[];
  groupNames: string[];
  /** Rank (1-based) of the last item of each group. */
  boundaries: number[];
  massShare: number[];
  source: string;
}

export interface BackbonePoint { epoch: number; validNdcg: Num; loss: Num }

export interface ReportData {
  run: string;
  info?: RunInfo;
  backbone?: { model?: string; validNdcg?: number; testNdcg?: number };
  /** Where base + CP came from. */
  baseSource?: string;
  split: string;
  k: number;
  base?: MetricSet;
  cp: CpPoint[];
  experiments: ExperimentData[];
  longTail?: LongTail;
  backboneLog?: { points: BackbonePoint[]; source: string; bestEpoch?: number };
  userGroupNames: string[];
  userGroupSizes?: number[];
  /** What the report could not draw and how to get it. */
  missing: string[];
  /** Problems found in the inputs (bad values, unreadable files). */
  warnings: string[];
}

// ------------------------------------------------------------------ reading helpers

const fin = (x: unknown): Num => (typeof x === 'number' && Number.isFinite(x) ? x : null);

function metricSet(raw: unknown, where: string, bad: string[]): MetricSet {
  const r = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const get = (key: string): Num => {
    const v = r[key];
    const f = fin(v);
    if (f === null && key in r) bad.push(`${where}.${key}`);
    return f;
  };
  return {
    ndcg: get('ndcg'), jsd: get('jsd'),
    ndcgGroup: [1, 2, 3].map((g) => get(`ndcg_usergroup_${g}`)),
    jsdGroup: [1, 2, 3].map((g) => get(`jsd_usergroup_${g}`)),
  };
}

/** Reads a results file written by 'calitune evaluate', tolerating NaN values (reported in `warnings`). */
function readResultsTolerant(path: string, warnings: string[]): ResultsFile {
  return readResults(path, { onNonFinite: (n) => warnings.push(`${path}: ${n} NaN/Infinity value(s) in the file (read as missing)`) });
}

// ------------------------------------------------------------------ experiments

/**
 * The experiments of a run: folders under RUN/experiments and evaluated results files
 * RUN/results/NAME.json (other than base_model.json / base.json). Sorted by name.
 */
export function listExperiments(run: string): string[] {
  const names = new Set([...experimentFolderNames(run), ...resultsExperimentNames(run)]);
  return [...names].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

function describeConfig(run: string, name: string): string | undefined {
  try {
    const c = readExperimentConfig(run, name) as Record<string, unknown> | undefined;
    if (c === undefined) return undefined;
    const parts: string[] = [];
    const mode = c.finetuning_mode ?? c.finetuningMode;
    const alpha = c.combined_mode_alpha ?? c.combinedModeAlpha;
    if (typeof alpha === 'number' && (mode === undefined || mode === 'combined')) parts.push(`α ${alpha}`);
    else if (typeof mode === 'string') parts.push(mode);
    const fr = c.freeze_item_emb ?? c.freezeItemEmb;
    if (typeof fr === 'boolean') parts.push(fr ? 'item embeddings frozen' : 'all embeddings trained');
    return parts.length ? parts.join(', ') : undefined;
  } catch { return undefined; }
}

/** The fine-tuner's epoch log as chart points; a malformed log is reported and not drawn. */
function loadEpochLog(path: string, warnings: string[]): LogPoint[] {
  let records;
  try { records = readEpochLog(path); } catch (err) {
    if (err instanceof UserError) { warnings.push(`skipped: ${err.message}`); return []; }
    throw err;
  }
  const bad: number[] = [];
  const log = records.map((r) => {
    const pt: LogPoint = { epoch: r.epoch, validNdcg: fin(r.valid_ndcg), jsd: fin(r.jsd), tradeoff: fin(r.tradeoff) };
    if (pt.validNdcg === null || pt.jsd === null) bad.push(r.epoch);
    return pt;
  });
  log.sort((a, b) => a.epoch - b.epoch);
  if (bad.length) warnings.push(`${path}: epoch(s) ${bad.slice(0, 8).join(', ')}${bad.length > 8 ? ', …' : ''} have no finite valid NDCG / JSD (drawn as gaps)`);
  return log;
}

function loadExperiment(run: string, name: string, warnings: string[], missing: string[]): ExperimentData {
  const ep = experimentPaths(run, name);
  const dir = ep.dir;
  const e: ExperimentData = { name, hasDir: existsSync(dir), epochs: [], log: [], selected: {} };
  if (e.hasDir) {
    e.config = describeConfig(run, name);
    e.log = loadEpochLog(ep.log, warnings);
    if (e.log.length === 0) missing.push(`experiment '${name}': no epoch log (${ep.log}) — training curves not drawn`);
  }
  const { json: rp, perUser: pu } = resultsPaths(run, name);
  if (!existsSync(rp)) {
    missing.push(`experiment '${name}' is not evaluated: run the evaluate step on it (trade-off, RBO, tables need it)`);
    return e;
  }
  let res: ResultsFile;
  try {
    res = readResultsTolerant(rp, warnings);
  } catch (err) {
    if (err instanceof UserError) { warnings.push(`skipped: ${err.message}`); return e; }
    throw err;
  }
  e.results = res;
  e.resultsPath = rp;
  e.split = res.calitune.split;
  const bad: string[] = [];
  for (const [key, m] of Object.entries(res.finetuned ?? {})) {
    const mm = /^epoch_(\d+)$/.exec(key);
    if (mm) e.epochs.push({ epoch: Number(mm[1]), m: metricSet(m, `finetuned.${key}`, bad) });
  }
  e.epochs.sort((a, b) => a.epoch - b.epoch);
  if (bad.length) warnings.push(`${rp}: ${bad.length} metric value(s) are NaN or missing (${bad.slice(0, 4).join(', ')}${bad.length > 4 ? ', …' : ''}); drawn as gaps`);
  if (e.epochs.length === 0) missing.push(`experiment '${name}': the results file has no fine-tuned epochs (evaluated before fine-tuning finished?)`);
  for (const mode of SELECTION_MODES) {
    const s = res.calitune.selected?.[mode];
    if (s && typeof s.epoch === 'number') e.selected[mode] = s.epoch;
  }
  const tm = res.calitune.experiment?.target_metric;
  const mode: SelectionModeName = selectionModeOr(tm);
  const pe = e.selected[mode] ?? e.selected.any;
  if (pe !== undefined) e.primary = { mode: e.selected[mode] !== undefined ? mode : 'any', epoch: pe };
  if (existsSync(pu)) e.perUserPath = pu;
  else {
    missing.push(`experiment '${name}': no per-user table (${pu}) — RBO box plot and improvement tables not drawn; `
      + 'run the evaluate step again');
  }
  return e;
}

// ------------------------------------------------------------------ backbone and popularity

function loadLongTail(run: string, missing: string[], warnings: string[]): LongTail | undefined {
  if (!hasPrepared(run)) {
    missing.push('no popularity groups: run the prepare step (long-tail chart, JSD and user groups need it)');
    return undefined;
  }
  try {
    const { summary, popularity: pop, itemGroup: grp } = loadPrepared(run);
    const items: number[] = [];
    for (let i = 1; i < pop.length; i++) items.push(i);
    // DESIGN §3: most popular first, ties lower id first
    items.sort((a, b) => Number(pop[b]) - Number(pop[a]) || a - b);
    const counts = items.map((i) => Number(pop[i]));
    const groups = items.map((i) => Number(grp[i]));
    const G = summary.n_groups;
    const boundaries: number[] = [];
    for (let g = 0; g < G; g++) {
      let last = -1;
      groups.forEach((x, r) => { if (x === g) last = r; });
      boundaries.push(last + 1);
    }
    const total = counts.reduce((s, x) => s + x, 0);
    const massShare = Array.from({ length: G }, (_, g) => counts.reduce((s, x, r) => s + (groups[r] === g ? x : 0), 0) / (total || 1));
    return { counts, groups, groupNames: summary.group_names, boundaries, massShare, source: summary.popularity_source };
  } catch (e) {
    warnings.push(`cannot read the popularity groups in ${preparePaths(run).dir}: ${(e as Error).message}`);
    return undefined;
  }
}

function loadBackboneLog(run: string, info: RunInfo | undefined, missing: string[]): ReportData['backboneLog'] {
  const p = runPaths(run).trainingLog;
  let records: Record<string, unknown>[] = [];
  try { records = readTrainingLog(run); } catch (err) { if (!(err instanceof UserError)) throw err; }
  if (records.length) {
    const pts: BackbonePoint[] = [];
    let best: number | undefined, bestV = -Infinity;
    for (const r of records) {
      const ep = fin(r.epoch);
      if (ep === null) continue;
      const v = fin(r.valid_ndcg);
      pts.push({ epoch: ep, validNdcg: v, loss: fin(r.loss) });
      if (v !== null && v > bestV) { bestV = v; best = ep; }
    }
    if (pts.length) return { points: pts, source: p, ...(best !== undefined ? { bestEpoch: best } : {}) };
  }
  // An imported backbone: the reference's own log, when the source folder is still there.
  const src = info?.source.kind === 'import' && info.source.path ? join(info.source.path, 'backbone_training.json') : undefined;
  if (src && existsSync(src)) {
    try {
      const j = JSON.parse(readFileSync(src, 'utf8')) as { history?: Record<string, unknown>[]; best_epoch_0based?: number };
      const pts: BackbonePoint[] = (j.history ?? []).map((r) => ({ epoch: Number(r.epoch), validNdcg: fin(r['valid_ndcg@10']), loss: fin(r.loss_sum) }));
      if (pts.length) return { points: pts, source: src, ...(typeof j.best_epoch_0based === 'number' ? { bestEpoch: j.best_epoch_0based } : {}) };
    } catch { /* fall through */ }
  }
  missing.push(`no backbone training log (${p})${info?.source.kind === 'import' ? ' — the backbone was imported' : ''}: the backbone training curve is not drawn`);
  return undefined;
}

/** The backbone's type and NDCG@10 from results/base_model.json (optional: undefined when unreadable). */
function loadBackbone(run: string): ReportData['backbone'] {
  let j: Record<string, unknown> | undefined;
  try { j = readBaseModelResults(run); } catch { return undefined; }
  if (j === undefined) return undefined;
  const pick = (o: unknown): number | undefined => {
    if (typeof o === 'number') return o;
    if (o && typeof o === 'object') { const n = (o as Record<string, unknown>).ndcg ?? (o as Record<string, unknown>)['ndcg@10']; return typeof n === 'number' ? n : undefined; }
    return undefined;
  };
  const valid = pick(j.valid), test = pick(j.test);
  return {
    ...(typeof j.model_type === 'string' ? { model: j.model_type } : {}),
    ...(valid !== undefined ? { validNdcg: valid } : {}),
    ...(test !== undefined ? { testNdcg: test } : {}),
  };
}

// ------------------------------------------------------------------ the whole run

export function loadReportData(run: string): ReportData {
  if (!existsSync(run)) throw new UserError(`run directory ${run} does not exist`);
  if (!statSync(run).isDirectory()) throw new UserError(`${run} is not a directory`);
  const missing: string[] = [], warnings: string[] = [];
  let info: RunInfo | undefined;
  if (!isRunDirectory(run)) {
    const how = (n: Naming) => `create one with '${n.step('train')}' or '${n.step('import')}'`;
    throw new InputError((n) => `${run} is not a run directory (no run.json); ${how(n)}`, { field: 'run' });
  }
  try { info = readRunInfo(run); } catch (e) { if (e instanceof UserError) warnings.push(e.message); else throw e; }
  const data: ReportData = { run, ...(info ? { info } : {}), split: 'test', k: 10, cp: [], experiments: [], userGroupNames: [...USER_GROUP_NAMES], missing, warnings };

  const backbone = loadBackbone(run);
  if (backbone) data.backbone = backbone;

  const names = listExperiments(run);
  for (const n of names) data.experiments.push(loadExperiment(run, n, warnings, missing));
  if (names.length === 0) {
    missing.push(`no CaliTune experiments in ${experimentsDir(run)}: `
      + 'run the finetune step (e.g. with examples/ml-100k-finetune.yaml), then the evaluate step on the experiment');
  }

  // base + CP: from the newest evaluated results file (they are the same for every experiment of a run)
  const candidates: { path: string; res: ResultsFile }[] = [];
  for (const e of data.experiments) if (e.results && e.resultsPath) candidates.push({ path: e.resultsPath, res: e.results });
  const bp = resultsPaths(run, BASE_RESULTS_NAME).json;
  if (existsSync(bp)) {
    try { candidates.push({ path: bp, res: readResultsTolerant(bp, warnings) }); } catch (err) {
      if (err instanceof UserError) warnings.push(`skipped: ${err.message}`); else throw err;
    }
  }
  candidates.sort((a, b) => String(b.res.calitune.created ?? '').localeCompare(String(a.res.calitune.created ?? '')));
  const src = candidates[0];
  if (src) {
    const res = src.res;
    data.baseSource = src.path;
    data.split = res.calitune.split ?? 'test';
    data.k = res.calitune.k ?? 10;
    if (Array.isArray(res.calitune.user_group_names)) data.userGroupNames = res.calitune.user_group_names.map(String);
    if (Array.isArray(res.calitune.user_group_sizes)) data.userGroupSizes = res.calitune.user_group_sizes;
    const bad: string[] = [];
    data.base = metricSet(res.base_recommendations, 'base_recommendations', bad);
    for (const [lam, m] of Object.entries(res.postprocessed ?? {})) data.cp.push({ lambda: lam, m: metricSet(m, `postprocessed.${lam}`, bad) });
    data.cp.sort((a, b) => Number(a.lambda) - Number(b.lambda));
    if (bad.length) warnings.push(`${src.path}: ${bad.length} metric value(s) are NaN or missing (${bad.slice(0, 4).join(', ')}${bad.length > 4 ? ', …' : ''}); drawn as gaps`);
    if (!res.calitune.prepared) {
      missing.push(`results evaluated without popularity groups: no JSD@${data.k}. `
        + 'Run the prepare step and evaluate again');
    }
    if (data.cp.length === 0) missing.push('no CP re-ranking results: run the postprocess step and evaluate again');
    const splits = new Set(data.experiments.filter((e) => e.split).map((e) => e.split));
    if (splits.size > 1) warnings.push(`experiments were evaluated on different splits (${[...splits].join(', ')}); the charts mix them`);
  } else {
    const results = runPaths(run).results;
    missing.push(`no evaluated results in ${results}: `
      + 'run the evaluate step, with or without an experiment (the trade-off charts need them)');
  }

  data.longTail = loadLongTail(run, missing, warnings);
  data.backboneLog = loadBackboneLog(run, info, missing);
  return data;
}

// ------------------------------------------------------------------ per-user data (RBO, tables)

export interface RboUsers {
  /** Pair label → per-user RBO (index = user id; NaN = missing). */
  pairs: { label: string; values: Float64Array }[];
  userGroup: Int32Array;
  epoch: number;
  lambda: string;
}

export interface PerUserComparison {
  table: PerUserRows;
  epoch: number;
  mode: string;
  lambda: string;
  userGroup: Int32Array;
  rbo: RboUsers;
}

/**
 * Per-user data for one experiment's compared epoch (its primary selection) and the CP λ whose
 * JSD is closest (as `calitune compare`): the three RBO pairs of DESIGN §3b.
 */
export function loadPerUserComparison(run: string, e: ExperimentData, warnings: string[]): PerUserComparison | undefined {
  if (!e.results || !e.perUserPath || !e.primary) return undefined;
  const res = e.results;
  const ft = res.finetuned?.[`epoch_${e.primary.epoch}`];
  const cp = res.postprocessed ?? {};
  if (!ft || typeof ft.jsd !== 'number' || !Number.isFinite(ft.jsd) || Object.keys(cp).length === 0) return undefined;
  const finiteCp: Record<string, { jsd: number }> = {};
  for (const [k, v] of Object.entries(cp)) if (typeof v.jsd === 'number' && Number.isFinite(v.jsd)) finiteCp[k] = { jsd: v.jsd };
  const lam = closestCpLambda(finiteCp, ft.jsd);
  if (lam === undefined) return undefined;
  let table: PerUserRows;
  try { table = readPerUserTable(e.perUserPath); } catch (err) {
    if (err instanceof UserError) { warnings.push(`skipped: ${err.message}`); return undefined; }
    throw err;
  }
  const userGroup = new Int32Array(table.nUsers).fill(-1);
  const gn = res.calitune.user_group_names ?? [...USER_GROUP_NAMES];
  for (const [u, g] of table.userGroupByName) userGroup[u] = gn.indexOf(g);
  const cal = table.models.get(`finetuned_epoch_${e.primary.epoch}`);
  const cpU = table.models.get(`postprocessed_${lam}`);
  if (!cal || !cpU) {
    warnings.push(`${e.perUserPath}: no rows for epoch ${e.primary.epoch} or CP λ ${lam}; re-run evaluate`);
    return undefined;
  }
  let cpVsCal: Float64Array | undefined;
  try {
    const exp = findExperiment(run, e.name);
    const split = res.calitune.split;
    const epPath = exp.epochs.find((x) => x.epoch === e.primary!.epoch)?.lists[split];
    const cpPath = res.calitune.postprocess?.files[lam];
    if (epPath && cpPath && existsSync(epPath) && existsSync(cpPath)) {
      const a = readNpyMatrixI32(epPath), b = readNpyMatrixI32(cpPath);
      const k = res.calitune.k;
      if (a.rows === b.rows && a.cols === k && b.cols === k) {
        const r = rboPerUser(b.data, a.data, a.rows, k, k, res.calitune.rbo_p);
        cpVsCal = new Float64Array(table.nUsers).fill(NaN);
        for (let u = 1; u < Math.min(r.length, table.nUsers); u++) cpVsCal[u] = r[u]!;
      }
    }
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
  }
  const pairs = [
    { label: 'backbone vs CaliTune', values: cal.rboVsBase },
    { label: 'backbone vs CP', values: cpU.rboVsBase },
  ];
  if (cpVsCal) pairs.push({ label: 'CP vs CaliTune', values: cpVsCal });
  else warnings.push(`experiment '${e.name}': the lists of epoch ${e.primary.epoch} or CP λ ${lam} are not on disk; the CP vs CaliTune RBO box is left out`);
  return { table, epoch: e.primary.epoch, mode: e.primary.mode, lambda: lam, userGroup, rbo: { pairs, userGroup, epoch: e.primary.epoch, lambda: lam } };
}

/** CaliTune epochs on the validation Pareto front over all experiments, sorted by JSD (src/selection). */
export function validationParetoFront(exps: readonly ExperimentData[]): { experiment: string; epoch: number; validNdcg: number; jsd: number }[] {
  const pts: { experiment: string; epoch: number; validNdcg: number; jsd: number }[] = [];
  for (const e of exps) {
    const evaluated = new Set(e.epochs.map((x) => x.epoch));
    for (const l of e.log) {
      if (l.validNdcg === null || l.jsd === null || !evaluated.has(l.epoch)) continue;
      pts.push({ experiment: e.name, epoch: l.epoch, validNdcg: l.validNdcg, jsd: l.jsd });
    }
  }
  return paretoFront(pts.map((p) => ({ ...p, ndcg: p.validNdcg }))).map(({ ndcg: _n, ...p }) => p);
}
