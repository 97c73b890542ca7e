/** Row-wise L2 normalisation (PyTorch's F.normalize) with its backward pass. */

/** F.normalize's default ε: rows are divided by max(‖x‖₂, ε). */
export const L2_NORM_EPS = 1e-12;

/**
 * y = x / max(‖x_r‖₂, 1e-12) per row (PyTorch F.normalize(x, dim=1)); writes the divisor of
 * each row into `norms` (length n) for the backward pass.
 */
export function l2NormalizeRowsForward(
  x: Float32Array,
  n: number,
  m: number,
  y: Float32Array,
  norms: Float64Array,
): Float32Array {
  for (let r = 0; r < n; r++) {
    const o = r * m;
    let s = 0;
    for (let j = 0; j < m; j++) {
      const v = x[o + j]!;
      s += v * v;
    }
    const d = Math.max(Math.sqrt(s), L2_NORM_EPS);
    norms[r] = d;
    for (let j = 0; j < m; j++) y[o + j] = x[o + j]! / d;
  }
  return y;
}

/**
 * Backward of l2NormalizeRowsForward given the forward output y: for a row with
 * ‖x‖ > ε, dx = (dy − y·(y·dy)) / ‖x‖; for a clamped row (‖x‖ ≤ ε) the divisor is
 * constant, so dx = dy / ε.
 */
export function l2NormalizeRowsBackward(
  y: Float32Array,
  dy: Float32Array,
  n: number,
  m: number,
  norms: Float64Array,
  dx: Float32Array,
): Float32Array {
  for (let r = 0; r < n; r++) {
    const o = r * m,
      d = norms[r]!;
    if (d <= L2_NORM_EPS) {
      for (let j = 0; j < m; j++) dx[o + j] = dy[o + j]! / d;
      continue;
    }
    let dot = 0;
    for (let j = 0; j < m; j++) dot += y[o + j]! * dy[o + j]!;
    for (let j = 0; j < m; j++) dx[o + j] = (dy[o + j]! - y[o + j]! * dot) / d;
  }
  return dx;
}
