/**
 * Tukey box-plot statistics for the report's RBO charts. The quartiles come from the same
 * quantile function as the RBO summaries of `calitune compare` (math/quantile.ts).
 */
import { quantileSorted } from '../math/quantile.js';

/** A Tukey box: count, quartiles, whisker ends and mean. */
export interface BoxStats {
  n: number;
  q1: number;
  median: number;
  q3: number;
  lo: number;
  hi: number;
  mean: number;
}

/**
 * Tukey box of the finite values: quartiles (linear interpolation), whiskers at the furthest
 * values within 1.5 IQR of the box; null when no value is finite.
 */
export function boxStats(values: number[]): BoxStats | null {
  const s = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return null;
  const q1 = quantileSorted(s, 0.25),
    median = quantileSorted(s, 0.5),
    q3 = quantileSorted(s, 0.75);
  const iqr = q3 - q1;
  const lo = s.find((x) => x >= q1 - 1.5 * iqr) ?? s[0]!;
  const hi = [...s].reverse().find((x) => x <= q3 + 1.5 * iqr) ?? s[s.length - 1]!;
  return { n: s.length, q1, median, q3, lo, hi, mean: s.reduce((a, b) => a + b, 0) / s.length };
}
