/**
 * Pure-TypeScript SGEMM (row-major), used when the OpenBLAS binding is not available.
 * C = alpha · op(A) · op(B) + beta · C. Loops are ordered so the innermost runs over
 * contiguous memory; accumulation is in float64 locals then stored as float32.
 */
export function tsSgemm(
  transA: boolean, transB: boolean, M: number, N: number, K: number,
  alpha: number, A: Float32Array, lda: number, B: Float32Array, ldb: number,
  beta: number, C: Float32Array, ldc: number,
): void {
  // Scale C by beta first (beta = 0 must overwrite NaN/garbage, as BLAS does).
  for (let i = 0; i < M; i++) {
    const c0 = i * ldc;
    if (beta === 0) C.fill(0, c0, c0 + N);
    else if (beta !== 1) for (let j = 0; j < N; j++) C[c0 + j]! *= beta;
  }
  if (K === 0 || alpha === 0) return;
  if (!transA && transB) {
    // C[i,j] += alpha · dot(A[i,:], B[j,:]) — the scoring case (users × items^T).
    for (let i = 0; i < M; i++) {
      const a0 = i * lda, c0 = i * ldc;
      for (let j = 0; j < N; j++) {
        const b0 = j * ldb;
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        let k = 0;
        for (; k + 3 < K; k += 4) {
          s0 += A[a0 + k]! * B[b0 + k]!;
          s1 += A[a0 + k + 1]! * B[b0 + k + 1]!;
          s2 += A[a0 + k + 2]! * B[b0 + k + 2]!;
          s3 += A[a0 + k + 3]! * B[b0 + k + 3]!;
        }
        for (; k < K; k++) s0 += A[a0 + k]! * B[b0 + k]!;
        C[c0 + j]! += alpha * (s0 + s1 + s2 + s3);
      }
    }
    return;
  }
  // General case: C[i,:] += alpha · Σ_k op(A)[i,k] · op(B)[k,:]
  for (let i = 0; i < M; i++) {
    const c0 = i * ldc;
    for (let k = 0; k < K; k++) {
      const a = alpha * (transA ? A[k * lda + i]! : A[i * lda + k]!);
      if (a === 0) continue;
      if (!transB) {
        const b0 = k * ldb;
        for (let j = 0; j < N; j++) C[c0 + j]! += a * B[b0 + j]!;
      } else {
        for (let j = 0; j < N; j++) C[c0 + j]! += a * B[j * ldb + k]!;
      }
    }
  }
}
