/**
 * Item popularity groups (docs/numeric-contract.md §3).
 *
 * Popularity of an item = number of distinct users who interacted with it, counted on the
 * train split only (our default) or on all splits (the reference's choice, a small leak).
 * Items are sorted most popular first, ties broken by lower internal id first, and the
 * cumulative count is walked: group 0 (head) is the shortest prefix whose cumulative count
 * reaches at least p₀·total (the item crossing the line is in the head); group g ends with
 * the item where the cumulative count first reaches (p₀+…+p_g)·total; the last group takes
 * the rest. Item 0 (padding) gets group −1.
 */
import type { Csr } from '../math/csr.js';
import { UserError } from '../util/errors.js';

/** Interactions counted for item popularity: the train split (default), or all three parts (the reference). */
export type PopularitySource = 'train' | 'all';

/** Shares of the interactions in the head, mid and tail groups. */
export const DEFAULT_PROPORTIONS: readonly number[] = [0.2, 0.6, 0.2];

/** Sizes of the popularity groups: items, interaction mass and popularity range per group. */
export interface PopularityGroupSummary {
  /** Number of groups G (≥ 2). */
  readonly nGroups: number;
  readonly proportions: readonly number[];
  /** Total interaction count (sum of item popularities, item 0 excluded). */
  readonly total: number;
  /** Items per group (item 0 excluded). */
  readonly itemsPerGroup: number[];
  /** Fraction of the total count that falls in each group. */
  readonly massPerGroup: number[];
  /** Smallest and largest item popularity in each group (0 / 0 for an empty group). */
  readonly minCount: number[];
  readonly maxCount: number[];
}

/** Items assigned to popularity groups (0 = head), with the popularity counts they came from. */
export interface PopularityGroups {
  /** Group index per item (length nItems); item 0 → −1. */
  readonly itemGroup: Int32Array;
  readonly nGroups: number;
  /** Popularity (distinct users) per item; item 0 → 0. */
  readonly popularity: Int32Array;
  readonly summary: PopularityGroupSummary;
}

/** Validates group proportions: at least two, each positive and finite, summing to 1 within 1e-9. */
export function validateProportions(proportions: readonly number[]): void {
  if (!Array.isArray(proportions) || proportions.length < 2) {
    throw new UserError(`popularity proportions need at least 2 groups, got ${JSON.stringify(proportions)}`);
  }
  let sum = 0;
  for (const p of proportions) {
    if (typeof p !== 'number' || !Number.isFinite(p) || p <= 0) {
      throw new UserError(`popularity proportions must be positive numbers, got ${JSON.stringify(proportions)}`);
    }
    sum += p;
  }
  if (Math.abs(sum - 1) > 1e-9) {
    throw new UserError(`popularity proportions must sum to 1, got ${JSON.stringify(proportions)} (sum ${sum})`);
  }
}

/**
 * Distinct users per item over one or more interaction matrices (e.g. [train] or
 * [train, valid, test]); a (user, item) pair present in several matrices counts once.
 */
export function itemPopularity(parts: readonly Csr[], nItems?: number): Int32Array {
  if (parts.length === 0) throw new UserError('itemPopularity needs at least one interaction matrix');
  const nCols = nItems ?? parts[0]!.nCols;
  const nRows = parts[0]!.nRows;
  for (const p of parts) {
    if (p.nCols !== nCols || p.nRows !== nRows) {
      throw new UserError(`interaction matrices disagree in shape: ${p.nRows}×${p.nCols} vs ${nRows}×${nCols}`);
    }
  }
  const pop = new Int32Array(nCols);
  const lastUser = new Int32Array(nCols).fill(-1);
  for (let u = 0; u < nRows; u++) {
    for (const p of parts) {
      const end = p.indptr[u + 1]!;
      for (let k = p.indptr[u]!; k < end; k++) {
        const i = p.indices[k]!;
        if (i < 0 || i >= nCols) throw new UserError(`item id ${i} out of range 0..${nCols - 1}`);
        if (lastUser[i] !== u) {
          lastUser[i] = u;
          pop[i]!++;
        }
      }
    }
  }
  pop[0] = 0; // padding item is never counted
  return pop;
}

/** Splits items into popularity groups from a per-item popularity vector (index 0 = padding). */
export function popularityGroups(
  popularity: Int32Array,
  proportions: readonly number[] = DEFAULT_PROPORTIONS,
): PopularityGroups {
  validateProportions(proportions);
  const nItems = popularity.length;
  const G = proportions.length;
  if (nItems < 2) throw new UserError('need at least one item (besides padding) to form popularity groups');
  const order = new Int32Array(nItems - 1);
  let total = 0;
  for (let i = 1; i < nItems; i++) {
    const c = popularity[i]!;
    if (c < 0) throw new UserError(`negative popularity ${c} for item ${i}`);
    order[i - 1] = i;
    total += c;
  }
  if (total === 0) throw new UserError('all item popularities are 0: no interactions to form popularity groups');
  // Most popular first; ties: lower internal id first.
  order.sort((a, b) => popularity[b]! - popularity[a]! || a - b);
  // Group g ends where the cumulative count first reaches thr[g]. Counts are integers, so a
  // 1e-9·total slack only matters for an exact hit (which counts as "reached").
  const thr = new Float64Array(G - 1);
  let acc = 0;
  for (let g = 0; g < G - 1; g++) {
    acc += proportions[g]!;
    thr[g] = acc * total - 1e-9 * total;
  }
  const itemGroup = new Int32Array(nItems);
  itemGroup[0] = -1;
  const itemsPerGroup = new Array<number>(G).fill(0);
  const massCount = new Array<number>(G).fill(0);
  const minCount = new Array<number>(G).fill(0);
  const maxCount = new Array<number>(G).fill(0);
  let prev = 0; // cumulative count before the current item
  let g = 0;
  for (let r = 0; r < order.length; r++) {
    const item = order[r]!;
    const c = popularity[item]!;
    while (g < G - 1 && prev >= thr[g]!) g++;
    itemGroup[item] = g;
    if (itemsPerGroup[g] === 0) maxCount[g] = c;
    minCount[g] = c;
    itemsPerGroup[g]!++;
    massCount[g]! += c;
    prev += c;
  }
  const popCopy = Int32Array.from(popularity);
  popCopy[0] = 0;
  return {
    itemGroup,
    nGroups: G,
    popularity: popCopy,
    summary: {
      nGroups: G,
      proportions: [...proportions],
      total,
      itemsPerGroup,
      massPerGroup: massCount.map((m) => m / total),
      minCount,
      maxCount,
    },
  };
}

/** Popularity groups straight from the split: `source` 'train' counts train only, 'all' train+valid+test. */
export function popularityGroupsFromSplit(
  split: { readonly train: Csr; readonly valid: Csr; readonly test: Csr },
  source: PopularitySource = 'train',
  proportions: readonly number[] = DEFAULT_PROPORTIONS,
): PopularityGroups {
  if (source !== 'train' && source !== 'all')
    throw new UserError(`popularity source must be 'train' or 'all', got '${String(source)}'`);
  const parts = source === 'train' ? [split.train] : [split.train, split.valid, split.test];
  return popularityGroups(itemPopularity(parts), proportions);
}
