/**
 * Row-wise top-k without a full sort: a size-k min-heap per row, O(n log k) worst case.
 * Order: higher score first; ties broken by lower item index first (deterministic).
 * −Infinity entries (masked items) are never returned; NaN is treated as −Infinity.
 * A row with fewer than k finite scores is padded with −1.
 *
 * Speed: items are scanned in ascending index, so once the heap is full a newcomer that only
 * ties the heap's worst score also loses the tie (higher index). One comparison against that
 * threshold therefore rejects almost every item of a row before any heap work; on
 * 6,040 × 3,706 random scores, k = 10, that (with the 4-wide check below) took the whole
 * pass from 85 ms to 32 ms.
 *
 * The binding's topkRows (native/topk.cc: the same order, so the same lists) takes over when it
 * is built: a row's scan tests 16 scores at a time against the threshold, and large blocks of
 * rows are split over two threads. A single row may come with a hint (the fine-tuner's
 * candidates): the k items outIdx already holds, say a user's previous candidates, bound the
 * k-th best score from below when they are k distinct items, so the binding ranks only the few
 * items scoring at or above their lowest score; it checks that the bound held and runs the heap
 * otherwise, so any hint gives the same list. CALITUNE_NATIVE_TOPK=0 (or
 * {@link useNativeTopk}(false)) keeps the TypeScript loop, which ignores hints.
 */
import { availableParallelism } from 'node:os';
import { loadNativeBlas, type NativeBlas } from './native.js';

interface NativeTopk {
  rows: NonNullable<NativeBlas['topkRows']>;
  row: NonNullable<NativeBlas['topkRow']>;
}

/** The native top-k when the binding has it and it is not switched off; null: the TypeScript loop. */
function resolveNativeTopk(): NativeTopk | null {
  if (process.env.CALITUNE_NATIVE_TOPK === '0') return null;
  const nb = loadNativeBlas();
  if (!nb.ok || typeof nb.blas.topkRows !== 'function' || typeof nb.blas.topkRow !== 'function') return null;
  return { rows: nb.blas.topkRows.bind(nb.blas), row: nb.blas.topkRow.bind(nb.blas) };
}

let nativeTopk: NativeTopk | null | undefined;
const TOPK_THREADS = Math.max(1, Math.min(2, availableParallelism()));
/** Rows shorter than this stay in TypeScript: the call into the binding would cost more than the scan. */
const NATIVE_MIN_ROW = 128;
/** Blocks of at least this many scores are split over two threads. */
const TWO_THREAD_SCORES = 1 << 17;

function native(): NativeTopk | null {
  if (nativeTopk === undefined) nativeTopk = resolveNativeTopk();
  return nativeTopk;
}

/**
 * Chooses the implementation from now on (tests and benchmarks): true, the binding's top-k when
 * it is built; false, the TypeScript loop. Returns whether the native top-k is now in use.
 */
export function useNativeTopk(on: boolean): boolean {
  nativeTopk = on ? resolveNativeTopk() : null;
  return nativeTopk !== null;
}

// Heap storage reused across rows and calls (grown on demand): no allocation per row.
let heapS = new Float64Array(16);
let heapI = new Int32Array(16);

/** True when (sa, ia) ranks below (sb, ib): lower score, or same score and higher index. */
function worse(sa: number, ia: number, sb: number, ib: number): boolean {
  return sa < sb || (sa === sb && ia > ib);
}

/** Replaces the heap root (the worst kept) by (s, j), sifts down, returns the new worst score. */
function replaceRoot(hs: Float64Array, hi: Int32Array, k: number, s: number, j: number): number {
  let c = 0;
  for (;;) {
    const l = 2 * c + 1;
    if (l >= k) break;
    const r = l + 1;
    let m = l;
    if (r < k && worse(hs[r]!, hi[r]!, hs[l]!, hi[l]!)) m = r;
    if (worse(hs[m]!, hi[m]!, s, j)) {
      hs[c] = hs[m]!;
      hi[c] = hi[m]!;
      c = m;
    } else break;
  }
  hs[c] = s;
  hi[c] = j;
  return hs[0]!;
}

function checkK(k: number): void {
  if (!Number.isInteger(k) || k < 0) throw new RangeError(`topk: k must be a non-negative integer, got ${k}`);
}

/**
 * Top-k of scores[offset .. offset+n) → item indices (0-based within the row) written to
 * outIdx[outOff .. outOff+k), best first. `hinted`: the k items outIdx[outOff ..) holds may
 * speed the native top-k up (see the module comment); the list is the same either way.
 */
export function topkRow(
  scores: Float32Array,
  offset: number,
  n: number,
  k: number,
  outIdx: Int32Array,
  outOff: number,
  hinted = false,
): void {
  checkK(k);
  if (k === 0) return;
  const nat = hinted || n >= NATIVE_MIN_ROW ? native() : null;
  if (nat !== null) {
    nat.row(scores, offset, n, k, outIdx, outOff, hinted);
    return;
  }
  if (heapS.length < k) {
    heapS = new Float64Array(k);
    heapI = new Int32Array(k);
  }
  const hs = heapS,
    hi = heapI;
  let size = 0;
  let j = 0;
  // Fill phase: the first k finite scores (−Inf and NaN fail the comparison).
  for (; j < n && size < k; j++) {
    const s = scores[offset + j]!;
    if (!(s > -Infinity)) continue;
    let c = size++;
    while (c > 0) {
      const p = (c - 1) >> 1;
      if (worse(s, j, hs[p]!, hi[p]!)) {
        hs[c] = hs[p]!;
        hi[c] = hi[p]!;
        c = p;
      } else break;
    }
    hs[c] = s;
    hi[c] = j;
  }
  if (size === k) {
    // Scan phase: a score must beat the worst kept one to enter. Testing four at once before
    // looking closer measured ~1.5× faster than one at a time (the branch is almost never taken).
    let thr = hs[0]!;
    for (; j + 3 < n; j += 4) {
      const p = offset + j;
      if (scores[p]! > thr || scores[p + 1]! > thr || scores[p + 2]! > thr || scores[p + 3]! > thr) {
        for (let q = 0; q < 4; q++) {
          const s = scores[p + q]!;
          if (s > thr) thr = replaceRoot(hs, hi, k, s, j + q);
        }
      }
    }
    for (; j < n; j++) {
      const s = scores[offset + j]!;
      if (s > thr) thr = replaceRoot(hs, hi, k, s, j);
    }
  }
  popWorstFirst(hs, hi, size, k, outIdx, outOff);
}

/** Pops a heap of `heapSize` entries worst-first into the back of outIdx[outOff .. outOff+k); empty slots get −1. */
function popWorstFirst(
  hs: Float64Array,
  hi: Int32Array,
  heapSize: number,
  k: number,
  outIdx: Int32Array,
  outOff: number,
): void {
  let size = heapSize;
  for (let pos = k - 1; pos >= 0; pos--) {
    if (pos >= size) {
      outIdx[outOff + pos] = -1;
      continue;
    }
    const rootI = hi[0]!;
    const lastS = hs[size - 1]!,
      lastI = hi[size - 1]!;
    size--;
    let c = 0;
    for (;;) {
      const l = 2 * c + 1;
      if (l >= size) break;
      const r = l + 1;
      let m = l;
      if (r < size && worse(hs[r]!, hi[r]!, hs[l]!, hi[l]!)) m = r;
      if (worse(hs[m]!, hi[m]!, lastS, lastI)) {
        hs[c] = hs[m]!;
        hi[c] = hi[m]!;
        c = m;
      } else break;
    }
    hs[c] = lastS;
    hi[c] = lastI;
    outIdx[outOff + pos] = rootI;
  }
}

/** Top-k of every row of a rows × n score matrix → rows × k indices. */
export function topkRows(scores: Float32Array, rows: number, n: number, k: number, out?: Int32Array): Int32Array {
  checkK(k);
  if (scores.length < rows * n) throw new RangeError(`topkRows: ${scores.length} scores cannot hold ${rows}×${n}`);
  const res = out ?? new Int32Array(rows * k);
  if (res.length < rows * k) throw new RangeError(`topkRows: output of ${res.length} cannot hold ${rows}×${k}`);
  const nat = n >= NATIVE_MIN_ROW ? native() : null;
  if (nat !== null && k > 0) nat.rows(scores, 0, rows, n, k, res, 0, rows * n >= TWO_THREAD_SCORES ? TOPK_THREADS : 1);
  else for (let r = 0; r < rows; r++) topkRow(scores, r * n, n, k, res, r * k);
  return res;
}
