/**
 * Quantiles of a sample, shared by the RBO summaries (eval) and the report's box plots, so both
 * give the same quartiles for the same values.
 */

/**
 * The q-quantile (0 ≤ q ≤ 1) of values sorted ascending, interpolating linearly between the two
 * order statistics around position q·(n − 1) (NumPy's default, `method='linear'`). The caller
 * sorts and leaves out NaN; an empty sample gives NaN.
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos),
    hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}
