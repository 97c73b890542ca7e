/**
 * Sparse rows × dense matrix, the kernel of the sparse first layers (DMF's towers, MultiVAE's
 * encoder). One operation serves both directions:
 *
 *   spmmRows: for each sparse row k, dst[map ? map[k] : k, :] (+)= Σ_q v_q · src[indices[q], :]
 *
 * - forward of a sparse linear layer: rows = the batch's input rows, src = W [in × out];
 * - backward (dW += Xᵀ·dy): rows = the batch transposed (one row per feature that occurs),
 *   src = dy, map = the feature ids, accumulate — each weight row written once, no atomics.
 *
 * Backed by the native binding's `spmmRows` (C++, 2 std::threads splitting the output rows
 * into nnz-balanced ranges, AVX2 when the CPU has it) when it loads, else by the TypeScript
 * loop below (register blocks of 8 columns). CALITUNE_SPARSE=typescript (or CALITUNE_GEMM=
 * typescript) forces the fallback; both give the same sums up to float32 rounding order.
 */
import { loadNativeBlas, type NativeBlas } from './native.js';

/** Rows of a sparse matrix in CSR form, or a batch of selected rows of one. */
export interface SparseRowsLike {
  readonly n: number;
  readonly indptr: Int32Array;
  readonly indices: Int32Array;
  readonly values?: Float32Array | undefined;
  /**
   * When set, row k is row rows[k] of the CSR matrix (indptr, indices, values) — a batch that
   * reads selected rows of a whole matrix without copying them.
   */
  readonly rows?: Int32Array | undefined;
}

/** The implementation behind the sparse products: the native kernel or TypeScript, and why. */
export interface SpmmBackend {
  readonly name: 'native' | 'typescript';
  readonly detail: string;
}

type NativeSpmm = NonNullable<NativeBlas['spmmRows']>;
type NativeSpmmT = NonNullable<NativeBlas['spmmRowsT']>;

let nativeFn: NativeSpmm | null | undefined;
let nativeFnT: NativeSpmmT | null = null;
let forced: 'native' | 'typescript' | undefined;
let threads = 2;

function native(): NativeSpmm | null {
  if (forced === 'typescript') return null;
  if (
    forced !== 'native' &&
    (process.env.CALITUNE_SPARSE === 'typescript' || process.env.CALITUNE_GEMM === 'typescript')
  )
    return null;
  if (nativeFn === undefined) {
    const l = loadNativeBlas();
    const ok = l.ok && typeof l.blas.spmmRows === 'function' && typeof l.blas.spmmRowsT === 'function';
    nativeFn = ok ? l.blas.spmmRows!.bind(l.blas) : null;
    nativeFnT = ok ? l.blas.spmmRowsT!.bind(l.blas) : null;
  }
  return nativeFn;
}

/** Which implementation spmmRows uses. */
export function spmmBackend(): SpmmBackend {
  const n = native();
  return n
    ? { name: 'native', detail: `C++ kernel, ${threads} threads` }
    : {
        name: 'typescript',
        detail: forced === 'typescript' ? 'selected explicitly' : 'native spmmRows unavailable or disabled',
      };
}

/** For tests and benchmarks: force a backend ('native' throws when unavailable). */
export function setSpmmBackend(name: 'native' | 'typescript'): void {
  forced = name;
  if (name === 'native' && !native()) throw new Error('native spmmRows unavailable (run npm run build:native)');
}

/** Threads of the native kernel (default 2). */
export function setSpmmThreads(n: number): void {
  threads = Math.max(1, Math.floor(n));
}

/**
 * dst[map ? map[k] : k, :] = (or += with `accumulate`) Σ_q v_q · src[indices[q], :] for the
 * rows k of `x`; src is srcRows × outF, dst has at least (max destination row + 1) × outF values.
 */
export function spmmRows(
  x: SparseRowsLike,
  src: Float32Array,
  srcRows: number,
  outF: number,
  dst: Float32Array,
  opts: { map?: Int32Array; accumulate?: boolean } = {},
): Float32Array {
  const dstRows = Math.floor(dst.length / Math.max(1, outF));
  const acc = opts.accumulate ?? false;
  const nf = native();
  if (nf) {
    nf(
      x.n,
      x.indptr,
      x.indices,
      x.values ?? null,
      x.rows ?? null,
      src,
      srcRows,
      outF,
      dst,
      dstRows,
      opts.map ?? null,
      acc,
      threads,
    );
    return dst;
  }
  spmmRowsTs(x, src, srcRows, outF, dst, opts.map, acc);
  return dst;
}

/** The TypeScript implementation (also the reference in tests). */
export function spmmRowsTs(
  x: SparseRowsLike,
  src: Float32Array,
  srcRows: number,
  outF: number,
  dst: Float32Array,
  map: Int32Array | undefined,
  accumulate: boolean,
): Float32Array {
  const { n, indptr, indices, values, rows } = x;
  const dstRows = Math.floor(dst.length / Math.max(1, outF));
  if (src.length < srcRows * outF) throw new RangeError('spmmRows: src too small');
  const c8 = outF - (outF % 8);
  for (let k = 0; k < n; k++) {
    const rr = rows ? rows[k]! : k;
    const d = map ? map[k]! : k;
    checkSparseRow(x, rr, d, dstRows, srcRows);
    const lo = indptr[rr]!,
      hi = indptr[rr + 1]!;
    const yo = d * outF;
    for (let c = 0; c < c8; c += 8) {
      let a0 = 0,
        a1 = 0,
        a2 = 0,
        a3 = 0,
        a4 = 0,
        a5 = 0,
        a6 = 0,
        a7 = 0;
      if (values) {
        for (let q = lo; q < hi; q++) {
          const v = values[q]!,
            o = indices[q]! * outF + c;
          a0 += v * src[o]!;
          a1 += v * src[o + 1]!;
          a2 += v * src[o + 2]!;
          a3 += v * src[o + 3]!;
          a4 += v * src[o + 4]!;
          a5 += v * src[o + 5]!;
          a6 += v * src[o + 6]!;
          a7 += v * src[o + 7]!;
        }
      } else {
        for (let q = lo; q < hi; q++) {
          const o = indices[q]! * outF + c;
          a0 += src[o]!;
          a1 += src[o + 1]!;
          a2 += src[o + 2]!;
          a3 += src[o + 3]!;
          a4 += src[o + 4]!;
          a5 += src[o + 5]!;
          a6 += src[o + 6]!;
          a7 += src[o + 7]!;
        }
      }
      store4(dst, yo + c, accumulate, a0, a1, a2, a3);
      store4(dst, yo + c + 4, accumulate, a4, a5, a6, a7);
    }
    for (let c = c8; c < outF; c++) {
      let a = 0;
      for (let q = lo; q < hi; q++) a += (values ? values[q]! : 1) * src[indices[q]! * outF + c]!;
      if (accumulate) dst[yo + c]! += a;
      else dst[yo + c] = a;
    }
  }
  return dst;
}

/**
 * The range checks of spmmRowsTs for its sparse row k: the CSR row rr it reads, the destination
 * row d it writes and every column index of that row (RangeError naming the first bad one).
 */
function checkSparseRow(x: SparseRowsLike, rr: number, d: number, dstRows: number, srcRows: number): void {
  const { indptr, indices } = x;
  if (!(rr >= 0 && rr + 1 < indptr.length)) throw new RangeError(`spmmRows: row ${rr} out of range`);
  if (!(d >= 0 && d < dstRows)) throw new RangeError(`spmmRows: destination row ${d} out of range`);
  for (let q = indptr[rr]!, hi = indptr[rr + 1]!; q < hi; q++) {
    const j = indices[q]!;
    if (!(j >= 0 && j < srcRows)) throw new RangeError(`spmmRows: index ${j} out of range`);
  }
}

/** dst[o..o+3] = (or += with `accumulate`) the four sums of a register block. */
function store4(
  dst: Float32Array,
  o: number,
  accumulate: boolean,
  a0: number,
  a1: number,
  a2: number,
  a3: number,
): void {
  if (accumulate) {
    dst[o]! += a0;
    dst[o + 1]! += a1;
    dst[o + 2]! += a2;
    dst[o + 3]! += a3;
  } else {
    dst[o] = a0;
    dst[o + 1] = a1;
    dst[o + 2] = a2;
    dst[o + 3] = a3;
  }
}

/**
 * dW[j, :] += Σ over the entries (k, j) of the sparse rows x of value · dy[k, :] — the weight
 * gradient Xᵀ·dy of a sparse linear layer (dy is x.n × outF, dW nFeatures × outF). Native: the
 * batch is transposed in C++ and each thread owns a range of weight rows (no atomics).
 */
export function spmmRowsT(
  x: SparseRowsLike,
  dy: Float32Array,
  outF: number,
  dW: Float32Array,
  nFeatures: number,
): Float32Array {
  const nf = native();
  if (nf && nativeFnT) {
    nativeFnT(x.n, x.indptr, x.indices, x.values ?? null, x.rows ?? null, dy, outF, dW, nFeatures, threads);
    return dW;
  }
  const t = transposeRows(x, nFeatures);
  return spmmRowsTs(
    { n: t.features.length, indptr: t.indptr, indices: t.indices, values: x.values ? t.values : undefined },
    dy,
    x.n,
    outF,
    dW,
    t.features,
    true,
  );
}

/**
 * The transpose of sparse rows restricted to the features that occur: features[k] is a
 * feature id, its (row, value) entries are indices/values[indptr[k] .. indptr[k+1]).
 */
export function transposeRows(
  x: SparseRowsLike,
  nFeatures: number,
): { features: Int32Array; indptr: Int32Array; indices: Int32Array; values: Float32Array } {
  const { n, indptr: ip, indices: ix, values: xv, rows } = x;
  const count = new Int32Array(nFeatures + 1);
  let nnz = 0;
  for (let k = 0; k < n; k++) {
    const r = rows ? rows[k]! : k;
    if (!(r >= 0 && r + 1 < ip.length)) throw new RangeError(`sparse row ${r} out of range`);
    for (let q = ip[r]!; q < ip[r + 1]!; q++) {
      const j = ix[q]!;
      if (!(j >= 0 && j < nFeatures)) throw new RangeError(`sparse input feature ${j} out of range`);
      count[j + 1]!++;
    }
    nnz += ip[r + 1]! - ip[r]!;
  }
  let nf = 0;
  for (let j = 0; j < nFeatures; j++) if (count[j + 1]! > 0) nf++;
  for (let j = 0; j < nFeatures; j++) count[j + 1]! += count[j]!;
  const indices = new Int32Array(nnz),
    values = new Float32Array(nnz);
  const pos = count.slice(0, nFeatures);
  for (let k = 0; k < n; k++) {
    const r = rows ? rows[k]! : k;
    for (let q = ip[r]!; q < ip[r + 1]!; q++) {
      const p = pos[ix[q]!]!++;
      indices[p] = k;
      values[p] = xv ? xv[q]! : 1;
    }
  }
  const features = new Int32Array(nf),
    indptr = new Int32Array(nf + 1);
  let k = 0;
  for (let j = 0; j < nFeatures; j++) {
    if (count[j + 1]! > count[j]!) {
      features[k] = j;
      indptr[k + 1] = count[j + 1]!;
      k++;
    }
  }
  return { features, indptr, indices, values };
}
