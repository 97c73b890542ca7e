/**
 * Per-user data of one experiment for the report's RBO box plots and improvement tables: the
 * compared CaliTune epoch, the CP λ closest to it in JSD, and the per-user RBO of the three pairs
 * of lists (docs/numeric-contract.md §12).
 */
import { existsSync } from 'node:fs';
import { readNpyMatrixI32 } from '../data/npy.js';
import { readPerUserTable, type PerUserRows } from '../eval/per-user-table.js';
import { rboPerUser } from '../eval/rbo.js';
import type { ResultsFile } from '../eval/results-format.js';
import { USER_GROUP_NAMES } from '../eval/user-groups.js';
import { closestCpLambda } from '../selection/cp-curve.js';
import { findExperiment } from '../store/stored-experiment.js';
import { UserError } from '../util/errors.js';
import type { ExperimentData } from './data-types.js';

/** Per-user RBO of each pair of lists, for one experiment's compared epoch and CP λ. */
export interface RboUsers {
  /** Pair label → per-user RBO (index = user id; NaN = missing). */
  pairs: { label: string; values: Float64Array }[];
  userGroup: Int32Array;
  epoch: number;
  lambda: string;
}

/** One experiment's per-user table with the compared epoch, CP λ, user groups and RBO pairs. */
export interface PerUserComparison {
  table: PerUserRows;
  epoch: number;
  mode: string;
  lambda: string;
  userGroup: Int32Array;
  rbo: RboUsers;
}

/** The CP λ whose JSD is closest to the experiment's compared epoch's (undefined when none is finite). */
function closestLambda(res: ResultsFile, epoch: number): string | undefined {
  const ft = res.finetuned?.[`epoch_${epoch}`];
  const cp = res.postprocessed ?? {};
  if (!ft || typeof ft.jsd !== 'number' || !Number.isFinite(ft.jsd) || Object.keys(cp).length === 0) return undefined;
  const finiteCp: Record<string, { jsd: number }> = {};
  for (const [k, v] of Object.entries(cp)) {
    if (typeof v.jsd === 'number' && Number.isFinite(v.jsd)) finiteCp[k] = { jsd: v.jsd };
  }
  return closestCpLambda(finiteCp, ft.jsd);
}

/**
 * Per-user RBO of CP λ `lam`'s lists against the lists of `epoch` (index = user id, NaN where
 * missing), or undefined when either list file is not on disk or they do not fit.
 */
function cpVsCalitune(
  run: string,
  e: ExperimentData,
  res: ResultsFile,
  epoch: number,
  lam: string,
  nUsers: number,
): Float64Array | undefined {
  let cpVsCal: Float64Array | undefined;
  try {
    const exp = findExperiment(run, e.name);
    const split = res.calitune.split;
    const epPath = exp.epochs.find((x) => x.epoch === epoch)?.lists[split];
    const cpPath = res.calitune.postprocess?.files[lam];
    if (epPath && cpPath && existsSync(epPath) && existsSync(cpPath)) {
      const a = readNpyMatrixI32(epPath),
        b = readNpyMatrixI32(cpPath);
      const k = res.calitune.k;
      if (a.rows === b.rows && a.cols === k && b.cols === k) {
        const r = rboPerUser(b.data, a.data, a.rows, k, k, res.calitune.rbo_p);
        cpVsCal = new Float64Array(nUsers).fill(NaN);
        for (let u = 1; u < Math.min(r.length, nUsers); u++) cpVsCal[u] = r[u]!;
      }
    }
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
  }
  return cpVsCal;
}

/**
 * Per-user data for one experiment's compared epoch (its primary selection) and the CP λ whose
 * JSD is closest (as `calitune compare`): the three RBO pairs of docs/numeric-contract.md §12.
 */
export function loadPerUserComparison(
  run: string,
  e: ExperimentData,
  warnings: string[],
): PerUserComparison | undefined {
  if (!e.results || !e.perUserPath || !e.primary) return undefined;
  const res = e.results;
  const epoch = e.primary.epoch;
  const lam = closestLambda(res, epoch);
  if (lam === undefined) return undefined;
  let table: PerUserRows;
  try {
    // Only the rows the comparison uses: the table holds every evaluated epoch (users × epochs rows).
    const models = ['base_recommendations', `finetuned_epoch_${epoch}`, `postprocessed_${lam}`];
    table = readPerUserTable(e.perUserPath, { models });
  } catch (err) {
    if (err instanceof UserError) {
      warnings.push(`skipped: ${err.message}`);
      return undefined;
    }
    throw err;
  }
  const userGroup = new Int32Array(table.nUsers).fill(-1);
  const gn = res.calitune.user_group_names ?? [...USER_GROUP_NAMES];
  for (const [u, g] of table.userGroupByName) userGroup[u] = gn.indexOf(g);
  const cal = table.models.get(`finetuned_epoch_${epoch}`);
  const cpU = table.models.get(`postprocessed_${lam}`);
  if (!cal || !cpU) {
    warnings.push(`${e.perUserPath}: no rows for epoch ${epoch} or CP λ ${lam}; re-run evaluate`);
    return undefined;
  }
  const cpVsCal = cpVsCalitune(run, e, res, epoch, lam, table.nUsers);
  const pairs = [
    { label: 'backbone vs CaliTune', values: cal.rboVsBase },
    { label: 'backbone vs CP', values: cpU.rboVsBase },
  ];
  if (cpVsCal) pairs.push({ label: 'CP vs CaliTune', values: cpVsCal });
  else {
    warnings.push(
      `experiment '${e.name}': the lists of epoch ${epoch} or CP λ ${lam} are not on disk;` +
        ' the CP vs CaliTune RBO box is left out',
    );
  }
  return { table, epoch, mode: e.primary.mode, lambda: lam, userGroup, rbo: { pairs, userGroup, epoch, lambda: lam } };
}
