/**
 * Compressed sparse row matrices of binary interactions (rows = users, cols = items): the type
 * and its helpers. Every builder returns rows whose column indices are sorted ascending and
 * distinct.
 */

/** Compressed sparse rows of a binary interaction matrix (rows = users, cols = items). */
export interface Csr {
  readonly nRows: number;
  readonly nCols: number;
  /** Row r's column indices are indices[indptr[r] .. indptr[r+1]), sorted ascending. */
  readonly indptr: Int32Array;
  readonly indices: Int32Array;
}

function checkDims(nRows: number, nCols: number): void {
  if (!Number.isInteger(nRows) || nRows < 0 || !Number.isInteger(nCols) || nCols < 0) {
    throw new RangeError(`csr: bad shape ${nRows} x ${nCols}`);
  }
}

/**
 * Builds a CSR matrix from coordinate pairs (rows[k], cols[k]). Duplicate pairs collapse
 * to one; each row's columns come out sorted ascending. O(nnz + nRows) plus the per-row sorts.
 */
export function csrFromCoo(rows: ArrayLike<number>, cols: ArrayLike<number>, nRows: number, nCols: number): Csr {
  checkDims(nRows, nCols);
  const n = rows.length;
  if (cols.length !== n) throw new RangeError(`csr: ${n} rows but ${cols.length} cols`);
  const counts = new Int32Array(nRows + 1);
  for (let k = 0; k < n; k++) {
    const r = rows[k]!;
    const c = cols[k]!;
    if (!(r >= 0 && r < nRows) || !(c >= 0 && c < nCols) || (r | 0) !== r || (c | 0) !== c) {
      throw new RangeError(`csr: entry ${k} = (${r}, ${c}) outside ${nRows} x ${nCols}`);
    }
    counts[r + 1]!++;
  }
  for (let r = 0; r < nRows; r++) counts[r + 1]! += counts[r]!;
  const fill = counts.slice(0, nRows);
  const tmp = new Int32Array(n);
  for (let k = 0; k < n; k++) tmp[fill[rows[k]!]!++] = cols[k]!;
  // Sort each row, then compact away duplicates in place.
  const indptr = new Int32Array(nRows + 1);
  let w = 0;
  for (let r = 0; r < nRows; r++) {
    const s = counts[r]!;
    const e = counts[r + 1]!;
    if (e - s > 1) tmp.subarray(s, e).sort();
    let prev = -1;
    for (let k = s; k < e; k++) {
      const c = tmp[k]!;
      if (c !== prev) {
        tmp[w++] = c;
        prev = c;
      }
    }
    indptr[r + 1] = w;
  }
  return { nRows, nCols, indptr, indices: w === n ? tmp : tmp.slice(0, w) };
}

/** An all-empty matrix. */
export function csrEmpty(nRows: number, nCols: number): Csr {
  checkDims(nRows, nCols);
  return { nRows, nCols, indptr: new Int32Array(nRows + 1), indices: new Int32Array(0) };
}

/** Number of stored entries. */
export function csrNnz(a: Csr): number {
  return a.indptr[a.nRows]!;
}

/** Length of row r. */
export function csrRowLength(a: Csr, r: number): number {
  return a.indptr[r + 1]! - a.indptr[r]!;
}

/** All row lengths (length nRows). */
export function csrRowLengths(a: Csr): Int32Array {
  const out = new Int32Array(a.nRows);
  for (let r = 0; r < a.nRows; r++) out[r] = a.indptr[r + 1]! - a.indptr[r]!;
  return out;
}

/** Number of entries in each column (length nCols). */
export function csrColCounts(a: Csr): Int32Array {
  const out = new Int32Array(a.nCols);
  const ind = a.indices;
  const nnz = a.indptr[a.nRows]!;
  for (let k = 0; k < nnz; k++) out[ind[k]!]!++;
  return out;
}

/** Row r's sorted column indices (a view, not a copy). */
export function csrRow(a: Csr, r: number): Int32Array {
  return a.indices.subarray(a.indptr[r]!, a.indptr[r + 1]!);
}

/** True when (r, c) is stored. Binary search over the sorted row. */
export function csrContains(a: Csr, r: number, c: number): boolean {
  if (r < 0 || r >= a.nRows) return false;
  let lo = a.indptr[r]!;
  let hi = a.indptr[r + 1]! - 1;
  const ind = a.indices;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = ind[mid]!;
    if (v === c) return true;
    if (v < c) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/** Transpose (items × users). Rows of the result are sorted because we walk rows in order. */
export function csrTranspose(a: Csr): Csr {
  const nnz = a.indptr[a.nRows]!;
  const indptr = new Int32Array(a.nCols + 1);
  const ind = a.indices;
  for (let k = 0; k < nnz; k++) indptr[ind[k]! + 1]!++;
  for (let c = 0; c < a.nCols; c++) indptr[c + 1]! += indptr[c]!;
  const fill = indptr.slice(0, a.nCols);
  const indices = new Int32Array(nnz);
  for (let r = 0; r < a.nRows; r++) {
    for (let k = a.indptr[r]!, e = a.indptr[r + 1]!; k < e; k++) indices[fill[ind[k]!]!++] = r;
  }
  return { nRows: a.nCols, nCols: a.nRows, indptr, indices };
}

/** Coordinate form (row-major order). */
export function csrToCoo(a: Csr): { rows: Int32Array; cols: Int32Array } {
  const nnz = a.indptr[a.nRows]!;
  const rows = new Int32Array(nnz);
  for (let r = 0; r < a.nRows; r++) rows.fill(r, a.indptr[r]!, a.indptr[r + 1]!);
  return { rows, cols: a.indices.slice(0, nnz) };
}

/** Entry-wise union of matrices of the same shape (e.g. train ∪ valid for test-time masking). */
export function csrUnion(...mats: Csr[]): Csr {
  if (mats.length === 0) throw new RangeError('csrUnion: no matrices');
  const { nRows, nCols } = mats[0]!;
  for (const m of mats) {
    if (m.nRows !== nRows || m.nCols !== nCols) {
      throw new RangeError(`csrUnion: shapes differ (${nRows} x ${nCols} vs ${m.nRows} x ${m.nCols})`);
    }
  }
  const indptr = new Int32Array(nRows + 1);
  let total = 0;
  for (const m of mats) total += m.indptr[nRows]!;
  const indices = new Int32Array(total);
  let w = 0;
  for (let r = 0; r < nRows; r++) {
    const s = w;
    for (const m of mats) {
      for (let k = m.indptr[r]!, e = m.indptr[r + 1]!; k < e; k++) indices[w++] = m.indices[k]!;
    }
    if (mats.length > 1 && w - s > 1) {
      indices.subarray(s, w).sort();
      let ww = s + 1;
      for (let k = s + 1; k < w; k++) if (indices[k] !== indices[ww - 1]) indices[ww++] = indices[k]!;
      w = ww;
    }
    indptr[r + 1] = w;
  }
  return { nRows, nCols, indptr, indices: w === total ? indices : indices.slice(0, w) };
}

/** Binary search in a sorted slice a[lo, hi) (CSR rows are sorted): true when x is there. */
export function sortedContains(a: Int32Array, lo: number, hi: number, x: number): boolean {
  hi--;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = a[mid]!;
    if (v === x) return true;
    if (v < x) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}
