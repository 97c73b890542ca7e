/**
 * CP post-processing of a run's backbone: candidates from the model's scores
 * (docs/numeric-contract.md §11), then the greedy re-ranking of src/rerank/cp.ts per λ, for
 * test-time lists (train and valid masked) and valid-time lists (train masked).
 *
 * The candidates come from one blockwise pass of scoring (src/rerank/cp-model-candidates.ts);
 * the result equals `prepareCpCandidates` on the full matrix.
 *
 * The run store writes the lists and the summary (src/store/postprocess-files.ts). λ is
 * written with JavaScript's shortest number text (0.1, 0.25, 1): the key in the results'
 * `postprocessed` and in the lists' file names.
 */
import type { SplitDataset } from '../data/types.js';
import type { Recommender } from '../models/recommender.js';
import { InputError, type Naming } from '../util/errors.js';
import { cpRerank } from './cp.js';
import { cpCandidatesFromModel, type CpMode } from './cp-model-candidates.js';

export { cpCandidatesFromModel, type CpMode } from './cp-model-candidates.js';

/** CP's default trade-off weights λ. */
export const DEFAULT_LAMBDAS: readonly number[] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

/** The text of a λ in file names and result keys. */
export function lambdaKey(lambda: number): string {
  return String(lambda);
}

/**
 * Checks λ values, m and n (InputError naming the field): λ in [0, 1] without duplicates,
 * 1 ≤ n ≤ m, n below the item count.
 */
export function validateCpSettings(lambdas: readonly number[], m: number, n: number, nItems?: number): void {
  const fail = (field: string, message: (names: Naming) => string) => new InputError(message, { field });
  if (lambdas.length === 0) throw fail('lambdas', (o) => `${o.option('lambdas')} needs at least one value`);
  for (const l of lambdas)
    if (!(l >= 0 && l <= 1)) throw fail('lambdas', (o) => `${o.option('lambdas')}: λ must be in [0, 1], got ${l}`);
  if (new Set(lambdas.map(lambdaKey)).size !== lambdas.length) {
    throw fail('lambdas', (o) => `${o.option('lambdas')} has duplicates: ${lambdas.join(',')}`);
  }
  if (!Number.isInteger(n) || n < 1) throw fail('n', (o) => `${o.option('n')} must be a positive integer, got ${n}`);
  if (!Number.isInteger(m) || m < n)
    throw fail('m', (o) => `${o.option('m')} (${m}) must be an integer ≥ ${o.option('n')} (${n})`);
  if (nItems !== undefined && n > nItems - 1) {
    throw fail('n', (o) => `${o.option('n')} ${n} is more than the ${nItems - 1} items of the dataset`);
  }
}

/** Settings of {@link computeCpLists}: λ values, m, n, threads, modes, and the calibration inputs. */
export interface PostprocessOptions {
  lambdas: readonly number[];
  m: number;
  n: number;
  workers?: number;
  modes?: readonly CpMode[];
  itemGroup: Int32Array;
  targets: Float64Array;
  nGroups: number;
}

/** RUN/postprocess/summary.json: CP's settings, timings and the list files per λ and mode. */
export interface PostprocessSummary {
  format_version: number;
  created: string;
  method: 'cp';
  lambdas: number[];
  lambda_keys: string[];
  m: number;
  n: number;
  modes: CpMode[];
  workers_used: number;
  seconds: {
    candidates: number;
    rerank: Record<CpMode, number>;
    per_lambda: Record<CpMode, number>;
    write: number;
    total: number;
  };
  users: number;
  files: Record<string, Record<CpMode, string>>;
}

/** CP lists per mode and λ (index as in `lambdas`), with what they took. */
export interface CpListsResult {
  modes: CpMode[];
  lists: Partial<Record<CpMode, Int32Array[]>>;
  workersUsed: number;
  seconds: { candidates: number; rerank: Record<CpMode, number> };
}

/** CP re-ranking of a model's lists for every λ and mode (the settings checked first). */
export async function computeCpLists(
  model: Recommender,
  ds: SplitDataset,
  o: PostprocessOptions,
): Promise<CpListsResult> {
  validateCpSettings(o.lambdas, o.m, o.n, ds.nItems);
  const modes = [...(o.modes ?? (['test', 'valid'] as CpMode[]))];
  const t0 = performance.now();
  const cands = cpCandidatesFromModel(model, ds, o.m, modes);
  const tCand = (performance.now() - t0) / 1000;
  const rerankS: Record<CpMode, number> = { test: 0, valid: 0 };
  const lists: Partial<Record<CpMode, Int32Array[]>> = {};
  let workersUsed = 0;
  for (const mode of modes) {
    const t = performance.now();
    const r = await cpRerank({
      candidates: cands[mode]!,
      itemGroup: o.itemGroup,
      targets: o.targets,
      nGroups: o.nGroups,
      lambdas: o.lambdas,
      m: Math.min(o.m, cands[mode]!.m),
      n: o.n,
      workers: o.workers,
    });
    rerankS[mode] = (performance.now() - t) / 1000;
    workersUsed = Math.max(workersUsed, r.workersUsed);
    lists[mode] = r.lists;
  }
  return { modes, lists, workersUsed, seconds: { candidates: tCand, rerank: rerankS } };
}

/** The summary of a postprocess run (`files`: λ key → mode → path of the stored list). */
export function postprocessSummary(
  o: PostprocessOptions,
  r: CpListsResult,
  files: PostprocessSummary['files'],
  writeS: number,
  totalS: number,
  nUsers: number,
): PostprocessSummary {
  const rerankS = r.seconds.rerank;
  return {
    format_version: 1,
    created: new Date().toISOString(),
    method: 'cp',
    lambdas: [...o.lambdas],
    lambda_keys: o.lambdas.map(lambdaKey),
    m: o.m,
    n: o.n,
    modes: r.modes,
    workers_used: r.workersUsed,
    seconds: {
      candidates: r.seconds.candidates,
      rerank: rerankS,
      per_lambda: { test: rerankS.test / o.lambdas.length, valid: rerankS.valid / o.lambdas.length },
      write: writeS,
      total: totalS,
    },
    users: nUsers - 1,
    files,
  };
}
