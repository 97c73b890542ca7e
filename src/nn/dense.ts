/**
 * The dense linear layer. Its weight keeps PyTorch's layout [out, in], so y = x·Wᵀ + b is
 * sgemm(N, T); every batched product goes through the sgemm seam. Backward adds into the
 * parameter gradients (PyTorch accumulates) and writes the input gradient.
 */
import { sgemm } from '../math/gemm.js';

/** y[n×out] = x[n×in]·Wᵀ + b, W [out×in] (PyTorch layout); b may be undefined. */
export function linearForward(
  x: Float32Array,
  n: number,
  inF: number,
  W: Float32Array,
  b: Float32Array | undefined,
  outF: number,
  y: Float32Array,
): Float32Array {
  sgemm(false, true, n, outF, inF, 1, x, inF, W, inF, 0, y, outF);
  if (b) addBiasRows(y, n, outF, b);
  return y;
}

/**
 * Backward of linearForward: dW += dyᵀ·x, db += Σ_rows dy, and (when dx is given)
 * dx = dy·W.
 */
export function linearBackward(
  x: Float32Array,
  dy: Float32Array,
  n: number,
  inF: number,
  outF: number,
  W: Float32Array,
  dW: Float32Array | undefined,
  db: Float32Array | undefined,
  dx: Float32Array | undefined,
): void {
  if (dW) sgemm(true, false, outF, inF, n, 1, dy, outF, x, inF, 1, dW, inF);
  if (db) colSumInto(dy, n, outF, db);
  if (dx) sgemm(false, false, n, inF, outF, 1, dy, outF, W, inF, 0, dx, inF);
}

/** y[r, j] += b[j] for each of the n rows of the n × m matrix y. */
export function addBiasRows(y: Float32Array, n: number, m: number, b: Float32Array): void {
  for (let r = 0; r < n; r++) {
    const o = r * m;
    for (let j = 0; j < m; j++) y[o + j]! += b[j]!;
  }
}

/** acc[j] += Σ_r a[r, j] (float64 accumulation per column). */
export function colSumInto(a: Float32Array, n: number, m: number, acc: Float32Array): void {
  const tmp = new Float64Array(m);
  for (let r = 0; r < n; r++) {
    const o = r * m;
    for (let j = 0; j < m; j++) tmp[j]! += a[o + j]!;
  }
  for (let j = 0; j < m; j++) acc[j]! += tmp[j]!;
}
