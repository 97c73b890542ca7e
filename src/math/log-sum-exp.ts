/** log Σ exp over a row of scores, in float64. */

/**
 * log Σ exp(x[off .. off+n)), shifted by the row's maximum so that no exp overflows; NaN when a
 * value is not finite (the callers' losses then say which batch went wrong).
 */
export function logSumExp(x: Float32Array | Float64Array, off: number, n: number): number {
  let mx = -Infinity;
  for (let c = 0; c < n; c++) {
    const v = x[off + c]!;
    if (!Number.isFinite(v)) return NaN;
    if (v > mx) mx = v;
  }
  let sum = 0;
  for (let c = 0; c < n; c++) sum += Math.exp(x[off + c]! - mx);
  return mx + Math.log(sum);
}
