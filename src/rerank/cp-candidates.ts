/**
 * CP's candidates (docs/numeric-contract.md §11 steps 1–2): base scores masked (`maskScores`),
 * min-max normalised over all finite scores in float32 (`minMaxNormalizeFinite`), then the
 * per-user top-m by normalised score, ties to the lower item id (`topCandidates`).
 * The greedy re-ranking of these candidates is in cp.ts, which re-exports this module.
 */
import type { Csr } from '../math/csr.js';
import { topkRows } from '../math/topk.js';
import { UserError } from '../util/errors.js';

/** Per-user top-m candidates: ids (−1 = none) and their normalised scores, row-major nUsers × m. */
export interface CpCandidates {
  readonly nUsers: number;
  readonly m: number;
  readonly ids: Int32Array;
  readonly scores: Float32Array;
}

/** Sets −∞ for user 0, item 0 and every (u, i) present in one of the mask matrices. */
export function maskScores(scores: Float32Array, nUsers: number, nItems: number, masks: readonly Csr[]): void {
  if (scores.length !== nUsers * nItems)
    throw new UserError(`scores have ${scores.length} entries, expected ${nUsers}×${nItems}`);
  scores.fill(-Infinity, 0, nItems);
  for (let u = 0; u < nUsers; u++) scores[u * nItems] = -Infinity;
  for (const m of masks) {
    if (m.nRows !== nUsers || m.nCols !== nItems)
      throw new UserError(`mask is ${m.nRows}×${m.nCols}, scores ${nUsers}×${nItems}`);
    for (let u = 0; u < nUsers; u++) {
      const off = u * nItems;
      for (let k = m.indptr[u]!; k < m.indptr[u + 1]!; k++) scores[off + m.indices[k]!] = -Infinity;
    }
  }
}

/**
 * In place: s ← (s − min) / max(s − min) over all finite entries (−∞ stays −∞), in float32
 * like the reference. NaN is treated as −∞. Returns the min and the (shifted) max used.
 */
export function minMaxNormalizeFinite(scores: Float32Array): { min: number; max: number } {
  let min = Infinity;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    if (Number.isNaN(s)) {
      scores[i] = -Infinity;
      continue;
    }
    if (s > -Infinity && s < min) min = s;
  }
  if (min === Infinity) throw new UserError('no finite score to normalise (every item is masked)');
  if (min === -Infinity || !Number.isFinite(min)) throw new UserError('scores contain +∞');
  let max = -Infinity;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    if (s > -Infinity) {
      const v = Math.fround(s - min);
      scores[i] = v;
      if (v > max) max = v;
    }
  }
  if (max > 0) for (let i = 0; i < scores.length; i++) scores[i] = scores[i]! / max; // stored as float32
  return { min, max };
}

/** Top-m candidates per user of already-normalised masked scores (ties: lower item id first). */
export function topCandidates(scores: Float32Array, nUsers: number, nItems: number, m: number): CpCandidates {
  if (scores.length !== nUsers * nItems)
    throw new UserError(`scores have ${scores.length} entries, expected ${nUsers}×${nItems}`);
  const ids = topkRows(scores, nUsers, nItems, m);
  const cs = new Float32Array(nUsers * m).fill(-Infinity);
  for (let u = 0; u < nUsers; u++) {
    for (let j = 0; j < m; j++) {
      const id = ids[u * m + j]!;
      if (id >= 0) cs[u * m + j] = scores[u * nItems + id]!;
    }
  }
  return { nUsers, m, ids, scores: cs };
}

/** Masked scores → normalised copy → top-m candidates (docs/numeric-contract.md §11 steps 1–2). */
export function prepareCpCandidates(
  maskedScores: Float32Array,
  nUsers: number,
  nItems: number,
  m: number,
): CpCandidates {
  const s = Float32Array.from(maskedScores);
  minMaxNormalizeFinite(s);
  return topCandidates(s, nUsers, nItems, m);
}
