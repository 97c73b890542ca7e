/**
 * The CaliTune experiments of a run for the report: which exist, each one's configuration,
 * fine-tuning log and evaluated epochs, and the validation Pareto front over all of them.
 */
import { existsSync } from 'node:fs';
import type { ResultsFile } from '../eval/results-format.js';
import { SELECTION_MODES, type SelectionModeName } from '../eval/results.js';
import { selectionModeOr } from '../selection/modes.js';
import { paretoFront } from '../selection/pareto.js';
import { readEpochLog } from '../store/epoch-log.js';
import { experimentFolderNames, experimentPaths, readExperimentConfig } from '../store/experiment-files.js';
import { perUserTableProblem, resultsExperimentNames, resultsPaths } from '../store/results-files.js';
import { InputError, UserError } from '../util/errors.js';
import { badValuesWarning, finiteOrNull, metricSet, readResultsTolerant } from './data-results.js';
import type { ExperimentData, LogPoint } from './data-types.js';

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
  } catch {
    return undefined;
  }
}

/** The fine-tuner's epoch log as chart points; a malformed log is reported and not drawn. */
function loadEpochLog(path: string, warnings: string[]): LogPoint[] {
  let records: ReturnType<typeof readEpochLog>;
  try {
    records = readEpochLog(path);
  } catch (err) {
    if (err instanceof UserError) {
      warnings.push(`skipped: ${err.message}`);
      return [];
    }
    throw err;
  }
  const bad: number[] = [];
  const log = records.map((r) => {
    const pt: LogPoint = {
      epoch: r.epoch,
      validNdcg: finiteOrNull(r.valid_ndcg),
      jsd: finiteOrNull(r.jsd),
      tradeoff: finiteOrNull(r.tradeoff),
    };
    if (pt.validNdcg === null || pt.jsd === null) bad.push(r.epoch);
    return pt;
  });
  log.sort((a, b) => a.epoch - b.epoch);
  if (bad.length) {
    warnings.push(
      `${path}: epoch(s) ${bad.slice(0, 8).join(', ')}${bad.length > 8 ? ', …' : ''}` +
        ' have no finite valid NDCG / JSD (drawn as gaps)',
    );
  }
  return log;
}

/** Fills e's evaluated epochs, selections and compared epoch from its results file `res` (read from `rp`). */
function applyResults(e: ExperimentData, res: ResultsFile, rp: string, warnings: string[], missing: string[]): void {
  const name = e.name;
  e.results = res;
  e.resultsPath = rp;
  e.split = res.calitune.split;
  const bad: string[] = [];
  for (const [key, m] of Object.entries(res.finetuned ?? {})) {
    const mm = /^epoch_(\d+)$/.exec(key);
    if (mm) e.epochs.push({ epoch: Number(mm[1]), m: metricSet(m, `finetuned.${key}`, bad) });
  }
  e.epochs.sort((a, b) => a.epoch - b.epoch);
  if (bad.length) warnings.push(badValuesWarning(rp, bad));
  if (e.epochs.length === 0) {
    missing.push(
      `experiment '${name}': the results file has no fine-tuned epochs` + ' (evaluated before fine-tuning finished?)',
    );
  }
  for (const mode of SELECTION_MODES) {
    const s = res.calitune.selected?.[mode];
    if (s && typeof s.epoch === 'number') e.selected[mode] = s.epoch;
  }
  const tm = res.calitune.experiment?.target_metric;
  const mode: SelectionModeName = selectionModeOr(tm);
  const pe = e.selected[mode] ?? e.selected.any;
  if (pe !== undefined) e.primary = { mode: e.selected[mode] !== undefined ? mode : 'any', epoch: pe };
}

/**
 * One experiment: its folder (configuration, epoch log) and its results file and per-user table,
 * noting in `missing` what is absent and in `warnings` what is unreadable.
 */
export function loadExperiment(run: string, name: string, warnings: string[], missing: string[]): ExperimentData {
  const ep = experimentPaths(run, name);
  const dir = ep.dir;
  const e: ExperimentData = { name, hasDir: existsSync(dir), epochs: [], log: [], selected: {} };
  if (e.hasDir) {
    e.config = describeConfig(run, name);
    e.log = loadEpochLog(ep.log, warnings);
    if (e.log.length === 0) {
      missing.push(`experiment '${name}': no epoch log (${ep.log}) — training curves not drawn`);
    }
  }
  const { json: rp, perUser: pu } = resultsPaths(run, name);
  if (!existsSync(rp)) {
    missing.push(`experiment '${name}' is not evaluated: run the evaluate step on it (trade-off, RBO, tables need it)`);
    return e;
  }
  let res: ResultsFile;
  try {
    res = readResultsTolerant(run, name, warnings);
  } catch (err) {
    if (err instanceof UserError) {
      warnings.push(`skipped: ${err.message}`);
      return e;
    }
    throw err;
  }
  applyResults(e, res, rp, warnings, missing);
  attachPerUserTable(e, res, pu, warnings, missing);
  return e;
}

/** The experiment's per-user table when it is the one its results file was written with (else a warning). */
function attachPerUserTable(e: ExperimentData, res: ResultsFile, pu: string, warnings: string[], missing: string[]) {
  if (!existsSync(pu)) {
    missing.push(
      `experiment '${e.name}': no per-user table (${pu}) — RBO box plot and improvement tables not drawn; ` +
        'run the evaluate step again',
    );
    return;
  }
  const problem = perUserTableProblem(res, pu);
  if (problem === undefined) e.perUserPath = pu;
  else warnings.push(`skipped: ${new InputError(problem, { file: pu }).message}`);
}

/** CaliTune epochs on the validation Pareto front over all experiments, sorted by JSD (src/selection). */
export function validationParetoFront(
  exps: readonly ExperimentData[],
): { experiment: string; epoch: number; validNdcg: number; jsd: number }[] {
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
