/**
 * The one GEMM seam. Every dense product in the project goes through `sgemm`.
 * Row-major: C[M×N] = alpha · op(A)[M×K] · op(B)[K×N] + beta · C.
 * Backed by OpenBLAS through our N-API binding when it loads, else by the TypeScript kernel.
 */
import { tsSgemm } from './gemm-ts.js';
import { loadNativeBlas, type NativeBlas } from './native.js';

/** The implementation behind {@link sgemm}: OpenBLAS through the native binding, or the TypeScript kernel. */
export interface GemmBackend {
  readonly name: 'openblas' | 'typescript';
  /** Why this backend was chosen (e.g. the load error of the native binding). */
  readonly detail: string;
  sgemm(
    transA: boolean,
    transB: boolean,
    M: number,
    N: number,
    K: number,
    alpha: number,
    A: Float32Array,
    lda: number,
    B: Float32Array,
    ldb: number,
    beta: number,
    C: Float32Array,
    ldc: number,
  ): void;
}

const tsBackend = (detail: string): GemmBackend => ({ name: 'typescript', detail, sgemm: tsSgemm });

function nativeBackend(n: NativeBlas, detail: string): GemmBackend {
  return { name: 'openblas', detail, sgemm: n.sgemm };
}

let active: GemmBackend | undefined;

/** Picks the backend once: CALITUNE_GEMM=typescript forces the fallback. */
export function gemmBackend(): GemmBackend {
  if (active) return active;
  if (process.env.CALITUNE_GEMM === 'typescript') {
    active = tsBackend('forced by CALITUNE_GEMM=typescript');
    return active;
  }
  const loaded = loadNativeBlas();
  active = loaded.ok
    ? nativeBackend(loaded.blas, loaded.detail)
    : tsBackend(`native binding unavailable: ${loaded.detail}`);
  return active;
}

/** For tests and benchmarks: use a specific backend from now on. */
export function setGemmBackend(name: 'openblas' | 'typescript'): GemmBackend {
  if (name === 'typescript') {
    active = tsBackend('selected explicitly');
    return active;
  }
  const loaded = loadNativeBlas();
  if (!loaded.ok) throw new Error(`OpenBLAS binding unavailable: ${loaded.detail}`);
  active = nativeBackend(loaded.blas, loaded.detail);
  return active;
}

function checkArgs(
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  A: Float32Array,
  lda: number,
  B: Float32Array,
  ldb: number,
  C: Float32Array,
  ldc: number,
): void {
  const aRows = transA ? K : M,
    aCols = transA ? M : K;
  const bRows = transB ? N : K,
    bCols = transB ? K : N;
  if (lda < Math.max(1, aCols) || ldb < Math.max(1, bCols) || ldc < Math.max(1, N)) {
    throw new RangeError(`sgemm: leading dimensions too small (lda ${lda}, ldb ${ldb}, ldc ${ldc})`);
  }
  if (
    (aRows > 0 && A.length < (aRows - 1) * lda + aCols) ||
    (bRows > 0 && B.length < (bRows - 1) * ldb + bCols) ||
    (M > 0 && C.length < (M - 1) * ldc + N)
  ) {
    throw new RangeError(`sgemm: buffer too small for ${M}×${N}×${K}`);
  }
}

/** Row-major C[M×N] = α·op(A)·op(B) + β·C with the active backend; the shapes and buffer sizes are checked. */
export function sgemm(
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  alpha: number,
  A: Float32Array,
  lda: number,
  B: Float32Array,
  ldb: number,
  beta: number,
  C: Float32Array,
  ldc: number,
): void {
  for (const [name, v] of [
    ['M', M],
    ['N', N],
    ['K', K],
  ] as const) {
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`sgemm: ${name} must be a non-negative integer, got ${v}`);
  }
  if (M === 0 || N === 0) return;
  checkArgs(transA, transB, M, N, K, A, lda, B, ldb, C, ldc);
  gemmBackend().sgemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

/**
 * Runs `fn` with OpenBLAS limited to one thread, then restores the thread count. Small
 * per-batch products (e.g. 16 × 500 × 256 in fine-tuning) are too small for threads: the
 * hand-off costs more than it saves, and on a loaded machine spinning threads made them up to
 * 10× slower. A no-op on the TypeScript fallback.
 */
export function withSingleBlasThread<T>(fn: () => T): T {
  const native = gemmBackend().name === 'openblas' ? loadNativeBlas() : undefined;
  if (!native || !native.ok) return fn();
  const n = native.blas.numThreads();
  if (n <= 1) return fn();
  native.blas.setNumThreads(1);
  try {
    return fn();
  } finally {
    native.blas.setNumThreads(n);
  }
}
