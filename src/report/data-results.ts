/**
 * Reading evaluated results files for the report: metric values (non-finite ones become null and
 * are reported), and the backbone and CP re-ranking metrics from the run's newest results file.
 */
import { existsSync } from 'node:fs';
import type { ResultsFile } from '../eval/results-format.js';
import { BASE_RESULTS_NAME, resultsPaths } from '../store/results-files.js';
import { readCurrentResults } from '../store/results-provenance.js';
import { runPaths } from '../store/run.js';
import { UserError } from '../util/errors.js';
import type { ExperimentData, MetricSet, Num, ReportData } from './data-types.js';

/** x when it is a finite number, else null. */
export const finiteOrNull = (x: unknown): Num => (typeof x === 'number' && Number.isFinite(x) ? x : null);

/**
 * The metrics of one results-file entry (`raw`, found at `where`); keys present with a
 * non-finite value are added to `bad` as `where.key`.
 */
export function metricSet(raw: unknown, where: string, bad: string[]): MetricSet {
  const r = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const get = (key: string): Num => {
    const v = r[key];
    const f = finiteOrNull(v);
    if (f === null && key in r) bad.push(`${where}.${key}`);
    return f;
  };
  return {
    ndcg: get('ndcg'),
    jsd: get('jsd'),
    ndcgGroup: [1, 2, 3].map((g) => get(`ndcg_usergroup_${g}`)),
    jsdGroup: [1, 2, 3].map((g) => get(`jsd_usergroup_${g}`)),
  };
}

/** The warning for `bad` metric values of the file at `path` (they are drawn as gaps). */
export function badValuesWarning(path: string, bad: readonly string[]): string {
  return (
    `${path}: ${bad.length} metric value(s) are NaN or missing (${bad.slice(0, 4).join(', ')}` +
    `${bad.length > 4 ? ', …' : ''}); drawn as gaps`
  );
}

/**
 * Reads RUN/results/NAME.json written by 'calitune evaluate', tolerating NaN values (reported in `warnings`);
 * a stale file is refused (InputError naming evaluate), one without recorded inputs is noted in `warnings`.
 */
export function readResultsTolerant(run: string, name: string, warnings: string[]): ResultsFile {
  const path = resultsPaths(run, name).json;
  return readCurrentResults(run, name, {
    onNonFinite: (n) => warnings.push(`${path}: ${n} NaN/Infinity value(s) in the file (read as missing)`),
    onNote: (line) => warnings.push(line),
  });
}

/**
 * The newest evaluated results file of the run (by creation time): the experiments' and
 * RUN/results/base.json. Base and CP are the same in every results file of a run.
 */
function newestResults(
  run: string,
  experiments: readonly ExperimentData[],
  warnings: string[],
): { path: string; res: ResultsFile } | undefined {
  const candidates: { path: string; res: ResultsFile }[] = [];
  for (const e of experiments) if (e.results && e.resultsPath) candidates.push({ path: e.resultsPath, res: e.results });
  const bp = resultsPaths(run, BASE_RESULTS_NAME).json;
  if (existsSync(bp)) {
    try {
      candidates.push({ path: bp, res: readResultsTolerant(run, BASE_RESULTS_NAME, warnings) });
    } catch (err) {
      if (err instanceof UserError) warnings.push(`skipped: ${err.message}`);
      else throw err;
    }
  }
  candidates.sort((a, b) => String(b.res.calitune.created ?? '').localeCompare(String(a.res.calitune.created ?? '')));
  return candidates[0];
}

/**
 * Fills data's split, k, user groups, backbone (`base`) and CP metrics from the run's newest
 * results file, noting what is missing. `data.experiments` must be loaded already.
 */
export function loadBaseAndCp(data: ReportData): void {
  const { run, missing, warnings } = data;
  const src = newestResults(run, data.experiments, warnings);
  if (!src) {
    missing.push(
      `no evaluated results in ${runPaths(run).results}: ` +
        'run the evaluate step, with or without an experiment (the trade-off charts need them)',
    );
    return;
  }
  const res = src.res;
  data.baseSource = src.path;
  if (!data.sources.some((s) => s.file === src.path))
    data.sources.push({ file: src.path, inputs: res.calitune.inputs ?? null });
  data.split = res.calitune.split ?? 'test';
  data.k = res.calitune.k ?? 10;
  if (Array.isArray(res.calitune.user_group_names)) data.userGroupNames = res.calitune.user_group_names.map(String);
  if (Array.isArray(res.calitune.user_group_sizes)) data.userGroupSizes = res.calitune.user_group_sizes;
  const bad: string[] = [];
  data.base = metricSet(res.base_recommendations, 'base_recommendations', bad);
  for (const [lam, m] of Object.entries(res.postprocessed ?? {})) {
    data.cp.push({ lambda: lam, m: metricSet(m, `postprocessed.${lam}`, bad) });
  }
  data.cp.sort((a, b) => Number(a.lambda) - Number(b.lambda));
  if (bad.length) warnings.push(badValuesWarning(src.path, bad));
  if (!res.calitune.prepared) {
    missing.push(
      `results evaluated without popularity groups: no JSD@${data.k}. Run the prepare step and evaluate again`,
    );
  }
  if (data.cp.length === 0) {
    missing.push('no CP re-ranking results: run the postprocess step and evaluate again');
  }
  const splits = new Set(data.experiments.filter((e) => e.split).map((e) => e.split));
  if (splits.size > 1) {
    warnings.push(`experiments were evaluated on different splits (${[...splits].join(', ')}); the charts mix them`);
  }
}
