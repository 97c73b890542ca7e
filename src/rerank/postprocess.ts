/**
 * CP post-processing of a run's backbone: candidates from the model's scores
 * (docs/numeric-contract.md §11), then the greedy re-ranking of src/rerank/cp.ts per λ, for
 * test-time lists (train and valid masked) and valid-time lists (train masked).
 *
 * Scores are never materialised as one users × items matrix: pass 1 scores users in blocks
 * and records the min and max of the finite masked scores of each mode; pass 2 scores again,
 * normalises each block exactly like `minMaxNormalizeFinite` (float32: (s − min) / max(s − min))
 * and keeps the per-user top-m. The result equals `prepareCpCandidates` on the full matrix.
 *
 * The run store writes the lists and the summary (src/store/postprocess-files.ts). λ is
 * written with JavaScript's shortest number text (0.1, 0.25, 1): the key in the results'
 * `postprocessed` and in the lists' file names.
 */
import type { SplitDataset } from '../data/types.js';
import type { Csr } from '../math/csr.js';
import type { Recommender } from '../models/recommender.js';
import { scoreTopKWith, type BlockScorer } from '../math/scoring.js';
import { topkRows } from '../math/topk.js';
import { InputError, UserError, type Naming } from '../util/errors.js';
import { cpRerank, type CpCandidates } from './cp.js';

/** Which candidates CP re-ranks: those of the test-time lists or of the valid-time lists. */
export type CpMode = 'test' | 'valid';
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

/** Per-item flags of one user's valid items: `mark(u, 1)` sets them, `mark(u, 0)` clears them again. */
interface ValidItemMarker {
  readonly isValidItem: Uint8Array;
  readonly mark: (u: number, on: number) => void;
}

function validItemMarker(valid: Csr, nItems: number): ValidItemMarker {
  const isValidItem = new Uint8Array(nItems);
  const mark = (u: number, on: number) => {
    for (let q = valid.indptr[u]!; q < valid.indptr[u + 1]!; q++) isValidItem[valid.indices[q]!] = on;
  };
  return { isValidItem, mark };
}

/** Range of the finite masked scores per mode (Infinity / −Infinity when there is none). */
interface ScoreRanges {
  lo: Record<CpMode, number>;
  hi: Record<CpMode, number>;
}

/** Candidate buffers of one mode (nUsers × m) and the normalisation it uses: (s − min) / max. */
interface ModeBuffers {
  ids: Int32Array;
  scores: Float32Array;
  min: number;
  max: number;
}

/** Pass 1: the min and max of the finite masked scores of each mode. */
function finiteScoreRanges(
  scorer: BlockScorer,
  ds: SplitDataset,
  users: Int32Array,
  blockRows: number,
  valid: ValidItemMarker,
): ScoreRanges {
  const nI = ds.nItems;
  // The block from scoreTopKWith is train-masked (valid-time); test-time also masks valid items.
  const lo = { valid: Infinity, test: Infinity },
    hi = { valid: -Infinity, test: -Infinity };
  const { isValidItem, mark: markValid } = valid;
  scoreTopKWith(scorer, nI, users, 0, [ds.train], {
    blockRows,
    onBlock: (ub, sb) => {
      for (let r = 0; r < ub.length; r++) {
        const u = ub[r]!,
          off = r * nI;
        markValid(u, 1);
        for (let i = 0; i < nI; i++) {
          let s = sb[off + i]!;
          if (Number.isNaN(s)) s = -Infinity;
          if (s === -Infinity) continue;
          if (s === Infinity) throw new UserError(`the model scores item ${i} for user ${u} as +∞`);
          if (s < lo.valid) lo.valid = s;
          if (s > hi.valid) hi.valid = s;
          if (isValidItem[i]) continue;
          if (s < lo.test) lo.test = s;
          if (s > hi.test) hi.test = s;
        }
        markValid(u, 0);
      }
    },
  });
  return { lo, hi };
}

/** Pass 2: scores again, normalises each block per mode and keeps each user's top-m in the mode's buffers. */
function fillNormalisedTopM(
  scorer: BlockScorer,
  ds: SplitDataset,
  users: Int32Array,
  blockRows: number,
  valid: ValidItemMarker,
  mm: number,
  modes: readonly CpMode[],
  bufs: Partial<Record<CpMode, ModeBuffers>>,
): void {
  const nI = ds.nItems;
  const { isValidItem, mark: markValid } = valid;
  const norm = new Float32Array(Math.min(blockRows, Math.max(1, users.length)) * nI);
  const top = new Int32Array(Math.min(blockRows, Math.max(1, users.length)) * mm);
  scoreTopKWith(scorer, nI, users, 0, [ds.train], {
    blockRows,
    onBlock: (ub, sb, _top, r0) => {
      const b = ub.length;
      for (const mode of modes) {
        const buf = bufs[mode]!;
        const nb = norm.subarray(0, b * nI);
        for (let r = 0; r < b; r++) {
          const u = ub[r]!,
            off = r * nI;
          if (mode === 'test') markValid(u, 1);
          for (let i = 0; i < nI; i++) {
            const s = sb[off + i]!;
            if (!(s > -Infinity) || (mode === 'test' && isValidItem[i])) {
              nb[off + i] = -Infinity;
              continue;
            }
            const v = Math.fround(s - buf.min);
            nb[off + i] = buf.max > 0 ? v / buf.max : v;
          }
          if (mode === 'test') markValid(u, 0);
        }
        const tb = top.subarray(0, b * mm);
        topkRows(nb, b, nI, mm, tb);
        for (let r = 0; r < b; r++) {
          const row = (r0 + r + 1) * mm; // users[r0 + r] = r0 + r + 1
          for (let j = 0; j < mm; j++) {
            const id = tb[r * mm + j]!;
            if (id >= 0 && nb[r * nI + id]! > -Infinity) {
              buf.ids[row + j] = id;
              buf.scores[row + j] = nb[r * nI + id]!;
            }
          }
        }
      }
    },
  });
}

/**
 * CP candidates for both modes from a model, blockwise (see the file comment). Row 0 (the
 * padding user) has no candidates. `m` is capped at the number of items.
 */
export function cpCandidatesFromModel(
  model: Recommender,
  ds: SplitDataset,
  m: number,
  modes: readonly CpMode[],
  blockRows = 256,
): Record<CpMode, CpCandidates | undefined> {
  const nU = ds.nUsers,
    nI = ds.nItems;
  const mm = Math.min(m, nI);
  const users = new Int32Array(nU - 1);
  for (let i = 0; i < users.length; i++) users[i] = i + 1;
  const scorer: BlockScorer = (ub, out) => {
    model.scoreAll(ub, out);
  };
  const valid = validItemMarker(ds.valid, nI);
  const { lo, hi } = finiteScoreRanges(scorer, ds, users, blockRows, valid);
  const out: Record<CpMode, CpCandidates | undefined> = { valid: undefined, test: undefined };
  const bufs: Partial<Record<CpMode, ModeBuffers>> = {};
  for (const mode of modes) {
    if (lo[mode] === Infinity)
      throw new UserError(`no finite score to normalise for ${mode}-time CP lists (every item is masked)`);
    const min = lo[mode];
    const max = Math.fround(hi[mode] - min);
    bufs[mode] = { ids: new Int32Array(nU * mm).fill(-1), scores: new Float32Array(nU * mm).fill(-Infinity), min, max };
  }
  fillNormalisedTopM(scorer, ds, users, blockRows, valid, mm, modes, bufs);
  for (const mode of modes) out[mode] = { nUsers: nU, m: mm, ids: bufs[mode]!.ids, scores: bufs[mode]!.scores };
  return out;
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
