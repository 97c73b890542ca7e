/**
 * Loads our N-API OpenBLAS binding (native/gemm.cc, built by `npm run build:native` into
 * native/build/Release/calitune_blas.node). Absence is normal on a machine without
 * libopenblas-dev: the caller falls back to TypeScript and reports why.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The functions our N-API binding exports; the optional ones are absent from older builds. */
export interface NativeBlas {
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
  /** OpenBLAS's own description (openblas_get_config) and thread count. */
  config(): string;
  numThreads(): number;
  setNumThreads(n: number): void;
  /**
   * Sparse rows × dense (src/math/sparse.ts): for k < n, with r = rowSel ? rowSel[k] : k,
   * dst[map ? map[k] : k, :] (+)= Σ_{q ∈ [indptr[r], indptr[r+1])} (values ? values[q] : 1) ·
   * src[indices[q], :], on `threads` std::threads over nnz-balanced row ranges.
   * Absent in bindings built before it existed.
   */
  spmmRows?(
    n: number,
    indptr: Int32Array,
    indices: Int32Array,
    values: Float32Array | null,
    rowSel: Int32Array | null,
    src: Float32Array,
    srcRows: number,
    outF: number,
    dst: Float32Array,
    dstRows: number,
    map: Int32Array | null,
    accumulate: boolean,
    threads: number,
  ): void;
  /** dW[j, :] += Σ over the entries (k, j) of the n sparse rows of value · dy[k, :] (transposes internally). */
  spmmRowsT?(
    n: number,
    indptr: Int32Array,
    indices: Int32Array,
    values: Float32Array | null,
    rowSel: Int32Array | null,
    dy: Float32Array,
    outF: number,
    dW: Float32Array,
    nFeatures: number,
    threads: number,
  ): void;
  /**
   * One Adam step over a whole tensor (src/nn/adam.ts adamUpdate, bit-identical: float64
   * arithmetic, float32 storage): g = grad (+ g2) + weightDecay·p; m, v, p updated in place;
   * with `threads` ≥ 2 in chunks shared with the binding's helper thread (native/helper-thread.h,
   * the same bits); with `zeroGrads` the entries of g (and
   * g2) are set to 0 as they are read. Absent in bindings built before it existed; bindings built
   * before `zeroGrads` existed reject a 13th argument.
   */
  adamStep?(
    p: Float32Array,
    g: Float32Array,
    g2: Float32Array | null,
    m: Float32Array,
    v: Float32Array,
    beta1: number,
    beta2: number,
    stepSize: number,
    invBc2Sqrt: number,
    eps: number,
    weightDecay: number,
    threads: number,
    zeroGrads?: boolean,
  ): void;
  /**
   * Lazy Adam over listed rows of a (rows × cols) tensor (src/nn/sparse-adam.ts, bit-identical):
   * for k in [lo, hi), row rows[k] gets adamStep's element update (g = grad (+ g2) +
   * weightDecay·p; m, v, p in place); other rows are not read or written. With zeroGrads the
   * row's entries of g (and g2) are set to 0 as they are read. The rows must be distinct and in
   * range; with `threads` 2 they are shared with the binding's helper thread. With gradSlot (see
   * compactGrads) g and g2 are compact: row r's gradient is their row gradSlot[r]. Absent in older builds.
   */
  adamRows?(
    p: Float32Array,
    g: Float32Array,
    g2: Float32Array | null,
    m: Float32Array,
    v: Float32Array,
    cols: number,
    rows: Int32Array,
    lo: number,
    hi: number,
    beta1: number,
    beta2: number,
    stepSize: number,
    invBc2Sqrt: number,
    eps: number,
    weightDecay: number,
    zeroGrads: boolean,
    threads: number,
    gradSlot?: Int32Array | null,
  ): void;
  /**
   * Row-sparse RAdam's rectified step over `count` listed rows of a (rows × cols) tensor
   * (src/nn/row-sparse-radam.ts, bit-identical): row rows[k] with factors[3k..3k+2] = (S, β1^j,
   * β2^j) catches up on j skipped steps in closed form, or is already up to date when S is NaN;
   * then this step's update; with zeroGrads its gradient row is cleared. The rows must be
   * distinct: with `threads` 2 they are shared with the binding's helper thread. Absent in older builds.
   */
  radamRows?(
    p: Float32Array,
    g: Float32Array,
    m: Float32Array,
    v: Float32Array,
    cols: number,
    rows: Int32Array,
    count: number,
    factors: Float64Array,
    beta1: number,
    beta2: number,
    coef: number,
    eps: number,
    zeroGrads: boolean,
    threads: number,
  ): void;
  /**
   * BPR's fused kernel, first half (src/models/bpr-kernel.ts bprKernel, same arithmetic): for t in
   * [start, end), xs[t − start] = u·pos − u·neg of triple t, as bprKernel computes x. Absent in older builds.
   */
  bprScores?(
    U: Float32Array,
    I: Float32Array,
    d: number,
    users: Int32Array,
    pos: Int32Array,
    neg: Int32Array,
    start: number,
    end: number,
    xs: Float64Array,
  ): void;
  /**
   * BPR's fused kernel, second half: for t in [start, end) in order, with g = gs[t − start],
   * gU[u] += g·(I[pos] − I[neg]), gI[pos] += g·U[u], gI[neg] −= g·U[u] (bprKernel's arithmetic);
   * with uSlot / iSlot (see compactGrads) the gradient rows are uSlot[u], iSlot[pos], iSlot[neg];
   * with stamps (slot maps null; see gradStamps) a row whose stamp (uStamp[u], iStamp[i]) is not
   * `stamp` is cleared and stamped before its first addition.
   */
  bprGrads?(
    U: Float32Array,
    I: Float32Array,
    gU: Float32Array,
    gI: Float32Array,
    d: number,
    users: Int32Array,
    pos: Int32Array,
    neg: Int32Array,
    start: number,
    end: number,
    gs: Float64Array,
    uSlot?: Int32Array | null,
    iSlot?: Int32Array | null,
    uStamp?: Int32Array,
    iStamp?: Int32Array,
    stamp?: number,
  ): void;
  /**
   * One BPR epoch's triples (src/train/bpr-trainer.ts, bit for bit): with the xoroshiro128+
   * state of src/math/rng.ts (4 words, read and written back), a Fisher–Yates shuffle of
   * `order`, the pairs gathered in that order into users / pos, and per triple a uniform
   * negative in [1, nItems) redrawn while it is one of the user's train items. Absent in older builds.
   */
  bprDrawEpoch?(
    state: Int32Array,
    order: Int32Array,
    pairUsers: Int32Array,
    pairItems: Int32Array,
    users: Int32Array,
    pos: Int32Array,
    neg: Int32Array,
    indptr: Int32Array,
    indices: Int32Array,
    nItems: number,
    maxTrainBits?: number,
  ): void;
  /**
   * True when bprGrads takes the slot maps uSlot / iSlot (gradient rows of user u and item i at
   * rows uSlot[u], iSlot[i] of compact buffers) and adamRows takes gradSlot (listed row r's
   * gradient at row gradSlot[r] of g, g2). Absent in older builds.
   */
  compactGrads?: boolean;
  /**
   * Dense Adam over rows [rowLo, rowHi) of a (rows × cols) tensor whose two gradient buffers are
   * stamped, not cleared (src/nn/adam.ts adamStampedRowsUpdate, bit-identical): row r's gradient
   * in g (g2) counts only when stamp1[r] (stamp2[r]) equals `stamp`, else it is zero. Absent in
   * older builds (see gradStamps).
   */
  adamStampedRows?(
    p: Float32Array,
    g: Float32Array,
    g2: Float32Array,
    m: Float32Array,
    v: Float32Array,
    cols: number,
    rowLo: number,
    rowHi: number,
    stamp1: Int32Array,
    stamp2: Int32Array,
    stamp: number,
    beta1: number,
    beta2: number,
    stepSize: number,
    invBc2Sqrt: number,
    eps: number,
    weightDecay: number,
  ): void;
  /** True when bprGrads takes row stamps and adamStampedRows exists. Absent in older builds. */
  gradStamps?: boolean;
}

/** The loaded binding, or why it could not be loaded. */
export type NativeLoad = { ok: true; blas: NativeBlas; detail: string } | { ok: false; detail: string };

/** The repository root, found from this file whether it runs from src/ (ts) or dist/src/ (js). */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = resolve(dir, '..');
  }
  return process.cwd();
}

let cached: NativeLoad | undefined;

/**
 * OpenBLAS's threads keep spinning for 2^28 cycles (about 0.1 s) after each GEMM before they
 * sleep (OPENBLAS_THREAD_TIMEOUT, read when the library loads). Our GEMMs come in bursts (a
 * validation, a block of candidates) between long stretches of other multi-threaded work (BPR's
 * two threads, the row kernels), which that spinning slows down on a 2-core machine. 2^4 cycles
 * makes them sleep at once: measured 15–25 % less CPU per BPR and CaliTune epoch, and no slower
 * DMF or MultiVAE epochs (README, Performance). A value set by the user is kept.
 */
function quietOpenBlasThreads(): void {
  if (process.env.OPENBLAS_THREAD_TIMEOUT === undefined) process.env.OPENBLAS_THREAD_TIMEOUT = '4';
}

/** The binding's file: CALITUNE_NATIVE_PATH, else the build's output under the project root. */
export function nativeBindingPath(): string {
  return process.env.CALITUNE_NATIVE_PATH ?? join(projectRoot(), 'native', 'build', 'Release', 'calitune_blas.node');
}

/** Loads the binding once (from nativeBindingPath()); never throws, says why on failure. */
export function loadNativeBlas(): NativeLoad {
  if (cached) return cached;
  const path = nativeBindingPath();
  if (!existsSync(path)) {
    cached = { ok: false, detail: `${path} not built (run npm run build:native; needs libopenblas-dev)` };
    return cached;
  }
  try {
    quietOpenBlasThreads();
    const req = createRequire(import.meta.url);
    const blas = req(path) as NativeBlas;
    cached = { ok: true, blas, detail: `${blas.config()} (${blas.numThreads()} threads)` };
  } catch (e) {
    cached = { ok: false, detail: `failed to load ${path}: ${(e as Error).message}` };
  }
  return cached;
}

// ---------------------------------------------------------------------------------------
// The fine-tuner's row kernels (native/rows.cc), declared apart from the kernels above.

/** The binding's row gathers and scatter-adds (src/math/row-blocks.ts); absent in older builds. */
export interface NativeBlas {
  /** dst[k·d .. k·d+d) = src[rows[k]·d ..) for k in [0, count). */
  gatherRows?(src: Float32Array, d: number, rows: Int32Array, count: number, dst: Float32Array): void;
  /** dst[rows[k]·d + j] += src[k·d + j] (float32 adds) for k in [0, count), in order. */
  scatterAddRows?(dst: Float32Array, d: number, rows: Int32Array, count: number, src: Float32Array): void;
  /**
   * topkRow of src/math/topk.ts (the same lists): the best k of scores[offset ..+n) → out[outOff ..+k).
   * `hinted`: the k items out holds on entry may narrow the search (checked; the list is the same).
   */
  topkRow?(
    scores: Float32Array,
    offset: number,
    n: number,
    k: number,
    out: Int32Array,
    outOff: number,
    hinted?: boolean,
  ): void;
  /**
   * Row-sparse RAdam's catch-up (src/nn/row-sparse-radam.ts, flush; bit-identical): listed row
   * rows[q] of a (rows × cols) tensor applies its skipped steps with factors[3q .. 3q+2] =
   * (S, β1^j, β2^j): p −= S·m/(√v + ε), m ·= β1^j, v ·= β2^j, elements with m = v = 0 untouched.
   */
  radamCatchUpRows?(
    p: Float32Array,
    m: Float32Array,
    v: Float32Array,
    cols: number,
    rows: Int32Array,
    count: number,
    factors: Float64Array,
    eps: number,
  ): void;
}

// ---------------------------------------------------------------------------------------
// Row-wise top-k (native/topk.cc), declared apart from the kernels above.

/** The binding's row-wise top-k (src/math/topk.ts); absent in older builds. */
export interface NativeBlas {
  /**
   * For r in [0, rows): the k best indices of row scores[offset + r·n .. + n) (higher score first,
   * then lower index; −∞ and NaN never; −1 padding) into out[outOff + r·k ..), with `threads` 2
   * the rows shared with the binding's helper thread — the lists of src/math/topk.ts topkRow.
   */
  topkRows?(
    scores: Float32Array,
    offset: number,
    rows: number,
    n: number,
    k: number,
    out: Int32Array,
    outOff: number,
    threads: number,
  ): void;
}
