import { sortedContains } from '../math/csr.js';

/**
 * NDCG@k with binary relevance (docs/numeric-contract.md §6): DCG = Σ_{i≤k} rel_i / log2(i+1), ideal DCG
 * from min(|relevant|, k) ones. A user with no relevant items scores 0.
 * `list` holds internal item ids; −1 marks an empty slot (never relevant).
 */
export function ndcgAtK(
  list: ArrayLike<number>,
  listOff: number,
  k: number,
  relevant: Int32Array,
  relStart: number,
  relEnd: number,
): number {
  const nRel = relEnd - relStart;
  if (nRel === 0) return 0;
  let dcg = 0;
  for (let i = 0; i < k; i++) {
    const item = list[listOff + i]!;
    if (item < 0) continue;
    if (sortedContains(relevant, relStart, relEnd, item)) dcg += 1 / Math.log2(i + 2);
  }
  let idcg = 0;
  const m = Math.min(nRel, k);
  for (let i = 0; i < m; i++) idcg += 1 / Math.log2(i + 2);
  return dcg / idcg;
}
