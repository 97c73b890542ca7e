/**
 * The top-k of one row of scores for the fine-tuner's candidates and validation lists:
 * src/math/topk.ts's topkRow (higher score first, ties to the lower index, −∞ and NaN never
 * returned, short rows padded with −1), run by the native binding when it has the kernel
 * (native/rows.cc). The order is total, so both give the same lists (tested); the kernel
 * scans eight scores per comparison against the heap's worst, and takes a hint: the k items
 * already in the output (a user's previous candidates, which mostly stay) bound the k-th best
 * score from below, so only the few items above that bound are sorted; the kernel checks that
 * the bound held and falls back to the heap otherwise, so any hint gives the same list.
 * CALITUNE_NATIVE_ROWS=0 forces the TypeScript loop, as for the other row kernels.
 */
import { loadNativeBlas, type NativeBlas } from '../math/native.js';
import { topkRow } from '../math/topk.js';

type TopkKernel = NonNullable<NativeBlas['topkRow']>;

let kernel: TopkKernel | null | undefined;

function nativeTopk(): TopkKernel | null {
  if (kernel !== undefined) return kernel;
  const nb = loadNativeBlas();
  const ok = process.env.CALITUNE_NATIVE_ROWS !== '0' && nb.ok && typeof nb.blas.topkRow === 'function';
  kernel = ok ? nb.blas.topkRow!.bind(nb.blas) : null;
  return kernel;
}

/** For tests and benchmarks: the native kernel (when the binding has it) or the TypeScript loop from now on. */
export function useNativeRowTopk(native: boolean): boolean {
  kernel = native ? undefined : null;
  return nativeTopk() !== null;
}

/**
 * The best k items of scores[offset .. offset+n) → out[outOff .. outOff+k) (see the module
 * comment). `hinted`: what out[outOff ..) holds may speed the native kernel up (never changes the list).
 */
export function rowTopk(
  scores: Float32Array,
  offset: number,
  n: number,
  k: number,
  out: Int32Array,
  outOff: number,
  hinted = false,
): void {
  const native = nativeTopk();
  if (native && Number.isInteger(k) && k >= 0) native(scores, offset, n, k, out, outOff, hinted);
  else topkRow(scores, offset, n, k, out, outOff);
}
