/**
 * `calitune doctor`'s numbers: which GEMM path is active, how it is configured, and what it
 * actually delivers on this machine (measured, not assumed), next to the TypeScript fallback.
 */
import { gemmBackend } from './gemm.js';
import { tsSgemm } from './gemm-ts.js';
import { loadNativeBlas } from './native.js';
import { Rng } from './rng.js';
import { type NodeSupport, nodeSupport } from '../util/node-support.js';

type SgemmFn = typeof tsSgemm;

/** Throughput of one GEMM backend on one product shape. */
export interface GemmMeasurement {
  /** M × N × K of the product (row-major, op = NT: the scoring case). */
  readonly shape: readonly [number, number, number];
  readonly gflops: number;
  readonly seconds: number;
  readonly repeats: number;
}

/** What `doctor` tells about the GEMM seam: the active backend and why, and both backends' measured speed. */
export interface DoctorReport {
  readonly backend: 'openblas' | 'typescript';
  /** Why this backend (load error of the binding, or OpenBLAS's config and thread count). */
  readonly detail: string;
  /** OpenBLAS build configuration and threads, when the binding loaded. */
  readonly openblas?: { readonly config: string; readonly threads: number };
  /** The active backend on a representative product. */
  readonly active: GemmMeasurement;
  /** The TypeScript fallback on a smaller product (it is ~30–50× slower). */
  readonly fallback: GemmMeasurement;
  readonly node: string;
  /** The running Node against the supported lines (end of life, what to install). */
  readonly nodeSupport: NodeSupport;
}

/** Time budget and product shapes of {@link doctorReport}'s measurements. */
export interface DoctorOptions {
  /** Time to spend per measurement (default 0.5 s). */
  readonly seconds?: number;
  /** Active-backend shape (default 1024 × 1024 × 256). */
  readonly activeShape?: readonly [number, number, number];
  /** Fallback shape (default 256 × 256 × 256). */
  readonly fallbackShape?: readonly [number, number, number];
}

/** Repeats C = A·Bᵀ for at least `seconds` (after one warm-up call) and reports GFLOP/s. */
export function measureSgemm(
  f: SgemmFn,
  shape: readonly [number, number, number],
  seconds: number,
  seed = 1,
): GemmMeasurement {
  const [M, N, K] = shape;
  const rng = new Rng(seed);
  const fill = (n: number) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = rng.nextFloat() - 0.5;
    return a;
  };
  const A = fill(M * K),
    B = fill(N * K),
    C = new Float32Array(M * N);
  f(false, true, M, N, K, 1, A, K, B, K, 0, C, N); // warm-up: JIT, thread pool, page faults
  let repeats = 0;
  const t0 = performance.now();
  let elapsed = 0;
  do {
    f(false, true, M, N, K, 1, A, K, B, K, 0, C, N);
    repeats++;
    elapsed = (performance.now() - t0) / 1000;
  } while (elapsed < seconds);
  return { shape: [M, N, K], gflops: (2 * M * N * K * repeats) / elapsed / 1e9, seconds: elapsed, repeats };
}

/** Measures the active GEMM backend and the TypeScript fallback; a few seconds of CPU. */
export function doctorReport(opts: DoctorOptions = {}): DoctorReport {
  const seconds = opts.seconds ?? 0.5;
  const backend = gemmBackend();
  const native = loadNativeBlas();
  const openblas = native.ok ? { config: native.blas.config(), threads: native.blas.numThreads() } : undefined;
  const active = measureSgemm(backend.sgemm, opts.activeShape ?? [1024, 1024, 256], seconds);
  const fallback = measureSgemm(tsSgemm, opts.fallbackShape ?? [256, 256, 256], seconds);
  return {
    backend: backend.name,
    detail: backend.detail,
    ...(openblas ? { openblas } : {}),
    active,
    fallback,
    node: process.version,
    nodeSupport: nodeSupport(),
  };
}
