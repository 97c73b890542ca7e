/**
 * JSD@k as the evaluation metric defines it (docs/numeric-contract.md §7, the reference's `compute_jsd`):
 * add ε = 1e-10 to both distributions (no renormalisation), M = (P+Q)/2,
 * JSD = ½·KL(P‖M) + ½·KL(Q‖M) with log base 2.
 *
 * Q of a top-k list = its distribution over popularity groups. Empty slots (−1) and items
 * without a group are skipped: Q is normalised over the valid items. A list with no valid
 * item has Q = 0 (every group gets only ε), which keeps the value finite. A user with no
 * train items has P = 0 likewise — the metric is finite and documented, never NaN.
 */
export const JSD_EPS = 1e-10;

/** JSD (metric variant) of P = p[pOff..pOff+G) and Q = q[qOff..qOff+G). */
export function jsdMetric(p: ArrayLike<number>, pOff: number, q: ArrayLike<number>, qOff: number, G: number): number {
  let klP = 0,
    klQ = 0;
  for (let g = 0; g < G; g++) {
    const a = p[pOff + g]! + JSD_EPS;
    const b = q[qOff + g]! + JSD_EPS;
    const m = 0.5 * (a + b);
    klP += a * Math.log2(a / m);
    klQ += b * Math.log2(b / m);
  }
  return 0.5 * (klP + klQ);
}

/**
 * Group distribution of list[off..off+k) into out[outOff..outOff+G); returns the number of
 * valid items counted (0 → out is all zeros).
 */
export function listGroupDistribution(
  list: ArrayLike<number>,
  off: number,
  k: number,
  itemGroup: Int32Array,
  G: number,
  out: Float64Array,
  outOff = 0,
): number {
  for (let g = 0; g < G; g++) out[outOff + g] = 0;
  let n = 0;
  for (let i = 0; i < k; i++) {
    const item = list[off + i]!;
    if (item < 0 || item >= itemGroup.length) continue;
    const g = itemGroup[item]!;
    if (g < 0 || g >= G) continue;
    out[outOff + g]!++;
    n++;
  }
  if (n > 0) for (let g = 0; g < G; g++) out[outOff + g] = out[outOff + g]! / n;
  return n;
}
