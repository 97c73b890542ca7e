/**
 * Listed rows of a row-major table ↔ a compact block: `gatherRows` copies the rows into
 * consecutive block rows, `scatterAddRows` adds block rows back into the listed rows. The
 * fine-tuner's candidate path uses them around its GEMMs (src/models/bpr.ts). Both run in the
 * native binding when it has them (native/rows.cc, the same bits: a float32 add equals the
 * float64 add rounded to float32), else in TypeScript; CALITUNE_NATIVE_ROWS=0 forces the
 * TypeScript loops.
 */
import { loadNativeBlas, type NativeBlas } from './native.js';

type RowKernels = { gather: NonNullable<NativeBlas['gatherRows']>; scatter: NonNullable<NativeBlas['scatterAddRows']> };

let kernels: RowKernels | null | undefined;

/** The binding's row kernels, or null (no binding, an older build, or CALITUNE_NATIVE_ROWS=0). */
function nativeRowKernels(): RowKernels | null {
  if (kernels !== undefined) return kernels;
  const nb = loadNativeBlas();
  const ok =
    process.env.CALITUNE_NATIVE_ROWS !== '0' &&
    nb.ok &&
    typeof nb.blas.gatherRows === 'function' &&
    typeof nb.blas.scatterAddRows === 'function';
  kernels = ok ? { gather: nb.blas.gatherRows!.bind(nb.blas), scatter: nb.blas.scatterAddRows!.bind(nb.blas) } : null;
  return kernels;
}

/** For tests and benchmarks: the native kernels (when the binding has them) or the TypeScript loops from now on. */
export function useNativeRowKernels(native: boolean): boolean {
  kernels = undefined;
  if (!native) kernels = null;
  return nativeRowKernels() !== null;
}

function checkRows(what: string, table: Float32Array, d: number, rows: Int32Array, count: number, block: Float32Array) {
  if (!(Number.isInteger(d) && d > 0 && table.length % d === 0)) {
    throw new RangeError(`${what}: d = ${d} must divide the table's ${table.length} values`);
  }
  if (!(Number.isInteger(count) && count >= 0 && count <= rows.length)) {
    throw new RangeError(`${what}: count ${count} exceeds the ${rows.length} rows listed`);
  }
  if (block.length < count * d)
    throw new RangeError(`${what}: the block holds ${block.length} values, needs ${count * d}`);
  const n = table.length / d;
  for (let k = 0; k < count; k++) {
    const r = rows[k]!;
    if (!(r >= 0 && r < n)) throw new RangeError(`${what}: row ${r} out of range [0, ${n})`);
  }
}

/** dst[k·d .. k·d+d) = src[rows[k]·d .. rows[k]·d+d) for k in [0, count). */
export function gatherRows(src: Float32Array, d: number, rows: Int32Array, count: number, dst: Float32Array): void {
  const nk = nativeRowKernels();
  if (nk) {
    nk.gather(src, d, rows, count, dst);
    return;
  }
  checkRows('gatherRows', src, d, rows, count, dst);
  for (let k = 0; k < count; k++) {
    const o = rows[k]! * d;
    dst.set(src.subarray(o, o + d), k * d);
  }
}

/** dst[rows[k]·d + j] += src[k·d + j] for k in [0, count) in order, j in [0, d): float32 sums. */
export function scatterAddRows(dst: Float32Array, d: number, rows: Int32Array, count: number, src: Float32Array): void {
  const nk = nativeRowKernels();
  if (nk) {
    nk.scatter(dst, d, rows, count, src);
    return;
  }
  checkRows('scatterAddRows', dst, d, rows, count, src);
  for (let k = 0; k < count; k++) {
    const o = rows[k]! * d,
      so = k * d;
    for (let j = 0; j < d; j++) dst[o + j]! += src[so + j]!;
  }
}
