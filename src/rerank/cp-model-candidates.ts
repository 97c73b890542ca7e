/**
 * CP candidates of a model (docs/numeric-contract.md §11) from one pass of scoring: scores are
 * never materialised as one users × items matrix, and at MovieLens-20M size (138k × 27k, dim
 * 256) a pass is most of CP's cost, so the users are scored once.
 *
 * The normalisation (s − min) / max needs the min and max of all finite masked scores, known
 * only after every block. The pass therefore records, besides the range of each mode, each
 * user's raw top-M (M = m + RAW_SLACK) in the order of src/math/topk.ts (higher score, then
 * lower item id). Normalising is monotone (never reverses two scores, but float32 rounding may
 * make two of them equal), so afterwards the normalised top-m is taken from those M
 * (normalised score, then lower item id). That is exact unless the user's M-th raw candidate
 * normalises to the same value as the m-th chosen one (an item outside the M could then tie
 * and win on its id): those few users are scored again and ranked on their full normalised
 * rows, exactly as before. The result equals `prepareCpCandidates` on the full matrix.
 *
 * Per row the pass ranks once for both modes (the top M plus the user's valid items, from
 * which the test-time top-M is the valid items filtered out) and takes the ranges with a tight
 * min/max over the row, looking item by item only at rows that could move the test-time range.
 */
import type { SplitDataset } from '../data/types.js';
import type { Csr } from '../math/csr.js';
import { maskBlock } from '../math/mask.js';
import { scoreTopKWith, type BlockScorer } from '../math/scoring.js';
import { topkRow, topkRows } from '../math/topk.js';
import type { Recommender } from '../models/recommender.js';
import { UserError } from '../util/errors.js';
import type { CpCandidates } from './cp-candidates.js';

/** Which candidates CP re-ranks: those of the test-time lists or of the valid-time lists. */
export type CpMode = 'test' | 'valid';

/** Raw candidates kept per user beyond m, so that ties made by the normalisation rarely need a rescoring. */
export const RAW_SLACK = 8;

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

/** Each user's raw top-M of one mode (row = user id, −1 / −Infinity past the finite ones). */
interface RawTop {
  ids: Int32Array;
  scores: Float32Array;
}

/** Candidate buffers of one mode (nUsers × m) and the normalisation it uses: (s − min) / max. */
interface ModeBuffers {
  ids: Int32Array;
  scores: Float32Array;
  min: number;
  max: number;
}

/**
 * The finite range of one row (NaN and −∞ left out; lo = Infinity, hi = −Infinity when none).
 * UserError at the row's first +∞ (the ranges could not normalise it).
 */
function rowRange(sb: Float32Array, off: number, nI: number, u: number): { lo: number; hi: number } {
  let lo = Infinity,
    hi = -Infinity;
  for (let p = off, end = off + nI; p < end; p++) {
    const s = sb[p]!;
    if (s > -Infinity) {
      if (s < lo) lo = s;
      if (s > hi) hi = s;
    }
  }
  if (hi === Infinity) {
    let i = 0;
    while (sb[off + i] !== Infinity) i++;
    throw new UserError(`the model scores item ${i} for user ${u} as +∞`);
  }
  return { lo, hi };
}

/**
 * Adds the finite scores of a train-masked block to the ranges (test-time also masks valid
 * items). A row's range over all its items bounds its range without the valid items, so the
 * test-time range needs the slower per-item pass only for rows that reach past it.
 */
function addRanges(ub: Int32Array, sb: Float32Array, nI: number, valid: ValidItemMarker, r: ScoreRanges): void {
  const { isValidItem, mark } = valid;
  for (let row = 0; row < ub.length; row++) {
    const u = ub[row]!,
      off = row * nI;
    const { lo, hi } = rowRange(sb, off, nI, u);
    if (lo < r.lo.valid) r.lo.valid = lo;
    if (hi > r.hi.valid) r.hi.valid = hi;
    if (!(lo < r.lo.test || hi > r.hi.test)) continue;
    mark(u, 1);
    for (let i = 0; i < nI; i++) {
      const s = sb[off + i]!;
      if (!(s > -Infinity) || isValidItem[i]) continue;
      if (s < r.lo.test) r.lo.test = s;
      if (s > r.hi.test) r.hi.test = s;
    }
    mark(u, 0);
  }
}

/**
 * Both modes' raw top-M of a train-masked block from one ranking per row: the top M + (the
 * user's valid items) in the order of src/math/topk.ts. Its first M are the valid-time top-M;
 * dropping the valid items leaves at least M, the first M of which are the test-time top-M
 * (masking only removes items from the order); a shorter list holds every finite score.
 */
function keepRawTopBoth(ub: Int32Array, sb: Float32Array, nI: number, M: number, scratch: BothModesScratch): void {
  const { valid, raw } = scratch;
  const { isValidItem, mark } = valid;
  for (let r = 0; r < ub.length; r++) {
    const u = ub[r]!,
      off = r * nI;
    const nValid = scratch.validRows.indptr[u + 1]! - scratch.validRows.indptr[u]!;
    const kk = Math.min(M + nValid, nI);
    if (scratch.top.length < kk) scratch.top = new Int32Array(kk);
    const top = scratch.top;
    topkRow(sb, off, nI, kk, top, 0);
    const vRow = u * M;
    for (let j = 0; j < M; j++) {
      const id = top[j]!;
      raw.valid.ids[vRow + j] = id;
      raw.valid.scores[vRow + j] = id >= 0 ? sb[off + id]! : -Infinity;
    }
    mark(u, 1);
    let n = 0;
    for (let j = 0; j < kk && n < M; j++) {
      const id = top[j]!;
      if (id >= 0 && isValidItem[id]) continue;
      raw.test.ids[vRow + n] = id;
      raw.test.scores[vRow + n] = id >= 0 ? sb[off + id]! : -Infinity;
      n++;
    }
    for (; n < M; n++) {
      raw.test.ids[vRow + n] = -1;
      raw.test.scores[vRow + n] = -Infinity;
    }
    mark(u, 0);
  }
}

/** What {@link keepRawTopBoth} works with: the valid items, both modes' buffers, a ranking buffer. */
interface BothModesScratch {
  readonly valid: ValidItemMarker;
  readonly validRows: Csr;
  readonly raw: Record<CpMode, RawTop>;
  top: Int32Array;
}

/** Copies a block's raw top-M rows (and their scores) into the per-user buffers. */
function keepRawTop(ub: Int32Array, sb: Float32Array, nI: number, top: Int32Array, M: number, raw: RawTop): void {
  for (let r = 0; r < ub.length; r++) {
    const row = ub[r]! * M;
    for (let j = 0; j < M; j++) {
      const id = top[r * M + j]!;
      raw.ids[row + j] = id;
      raw.scores[row + j] = id >= 0 ? sb[r * nI + id]! : -Infinity;
    }
  }
}

/**
 * The one scoring pass: the ranges of both modes and, per requested mode, every user's raw
 * top-M (valid-time on the train-masked block; test-time after masking valid items as well).
 */
function scoreOnce(
  scorer: BlockScorer,
  ds: SplitDataset,
  users: Int32Array,
  M: number,
  modes: readonly CpMode[],
  blockRows: number,
): { ranges: ScoreRanges; raw: Partial<Record<CpMode, RawTop>> } {
  const nI = ds.nItems,
    nU = ds.nUsers;
  const ranges: ScoreRanges = { lo: { valid: Infinity, test: Infinity }, hi: { valid: -Infinity, test: -Infinity } };
  const raw: Partial<Record<CpMode, RawTop>> = {};
  for (const mode of modes) raw[mode] = { ids: new Int32Array(nU * M).fill(-1), scores: new Float32Array(nU * M) };
  const valid = validItemMarker(ds.valid, nI);
  const top = new Int32Array(Math.min(blockRows, Math.max(1, users.length)) * M);
  const both: BothModesScratch | undefined =
    raw.valid && raw.test
      ? { valid, validRows: ds.valid, raw: { valid: raw.valid, test: raw.test }, top: new Int32Array(M) }
      : undefined;
  scoreTopKWith(scorer, nI, users, 0, [ds.train], {
    blockRows,
    onBlock: (ub, sb) => {
      addRanges(ub, sb, nI, valid, ranges);
      if (both) {
        keepRawTopBoth(ub, sb, nI, M, both);
        return;
      }
      const tb = top.subarray(0, ub.length * M);
      if (raw.valid) {
        topkRows(sb, ub.length, nI, M, tb);
        keepRawTop(ub, sb, nI, tb, M, raw.valid);
      }
      if (raw.test) {
        maskBlock(sb, ub, nI, [ds.valid], { padding: false });
        topkRows(sb, ub.length, nI, M, tb);
        keepRawTop(ub, sb, nI, tb, M, raw.test);
      }
    },
  });
  return { ranges, raw };
}

/** (s − min) / max in float32, as every CP candidate score (max ≤ 0: s − min). */
function normalised(s: number, buf: ModeBuffers): number {
  const v = Math.fround(s - buf.min);
  return Math.fround(buf.max > 0 ? v / buf.max : v);
}

/**
 * User u's normalised top-m from its raw top-M into the mode's buffers; false when that is not
 * certain to be exact (see the file comment) and the user must be ranked on its full row.
 */
function topFromRaw(u: number, raw: RawTop, M: number, mm: number, buf: ModeBuffers, order: number[]): boolean {
  const row = u * M;
  let finite = 0;
  while (finite < M && raw.ids[row + finite]! >= 0) finite++;
  const nv = (j: number) => normalised(raw.scores[row + j]!, buf);
  order.length = 0;
  for (let j = 0; j < finite; j++) order.push(j);
  const key = order.map(nv);
  order.sort((a, b) => key[b]! - key[a]! || raw.ids[row + a]! - raw.ids[row + b]!);
  const take = Math.min(mm, finite);
  // With M finite candidates, items outside them score ≤ the M-th; they may only tie with it.
  if (finite === M && take > 0 && !(key[M - 1]! < key[order[take - 1]!]!)) return false;
  for (let j = 0; j < take; j++) {
    buf.ids[u * mm + j] = raw.ids[row + order[j]!]!;
    buf.scores[u * mm + j] = key[order[j]!]!;
  }
  return true;
}

/** Ranks `users` on their full normalised rows (a second scoring of just them) into the mode's buffers. */
function rankFullRows(
  scorer: BlockScorer,
  ds: SplitDataset,
  users: Int32Array,
  mode: CpMode,
  mm: number,
  buf: ModeBuffers,
  blockRows: number,
): void {
  const nI = ds.nItems;
  const norm = new Float32Array(Math.min(blockRows, Math.max(1, users.length)) * nI);
  const top = new Int32Array(Math.min(blockRows, Math.max(1, users.length)) * mm);
  scoreTopKWith(scorer, nI, users, 0, mode === 'test' ? [ds.train, ds.valid] : [ds.train], {
    blockRows,
    onBlock: (ub, sb) => {
      const b = ub.length;
      const nb = norm.subarray(0, b * nI);
      for (let p = 0; p < b * nI; p++) {
        const s = sb[p]!;
        nb[p] = s > -Infinity ? normalised(s, buf) : -Infinity;
      }
      const tb = top.subarray(0, b * mm);
      topkRows(nb, b, nI, mm, tb);
      for (let r = 0; r < b; r++) {
        const row = ub[r]! * mm;
        for (let j = 0; j < mm; j++) {
          const id = tb[r * mm + j]!;
          if (id >= 0 && nb[r * nI + id]! > -Infinity) {
            buf.ids[row + j] = id;
            buf.scores[row + j] = nb[r * nI + id]!;
          }
        }
      }
    },
  });
}

/** The mode's normalisation from the ranges; UserError when every item is masked. */
function modeBuffers(mode: CpMode, ranges: ScoreRanges, nU: number, mm: number): ModeBuffers {
  if (ranges.lo[mode] === Infinity)
    throw new UserError(`no finite score to normalise for ${mode}-time CP lists (every item is masked)`);
  const min = ranges.lo[mode];
  const max = Math.fround(ranges.hi[mode] - min);
  return { ids: new Int32Array(nU * mm).fill(-1), scores: new Float32Array(nU * mm).fill(-Infinity), min, max };
}

/**
 * CP candidates for both modes from a model, from one scoring pass (see the file comment). Row
 * 0 (the padding user) has no candidates. `m` is capped at the number of items.
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
  const M = Math.min(mm + RAW_SLACK, nI);
  const users = new Int32Array(nU - 1);
  for (let i = 0; i < users.length; i++) users[i] = i + 1;
  const scorer: BlockScorer = (ub, out) => {
    model.scoreAll(ub, out);
  };
  const { ranges, raw } = scoreOnce(scorer, ds, users, M, modes, blockRows);
  const out: Record<CpMode, CpCandidates | undefined> = { valid: undefined, test: undefined };
  const order: number[] = [];
  for (const mode of modes) {
    const buf = modeBuffers(mode, ranges, nU, mm);
    const again: number[] = [];
    for (let u = 1; u < nU; u++) if (!topFromRaw(u, raw[mode]!, M, mm, buf, order)) again.push(u);
    if (again.length > 0) rankFullRows(scorer, ds, Int32Array.from(again), mode, mm, buf, blockRows);
    out[mode] = { nUsers: nU, m: mm, ids: buf.ids, scores: buf.scores };
  }
  return out;
}
