/**
 * The sparse-input linear layer: the first layer of DMF's towers and MultiVAE's encoder. Its
 * input rows are (scaled) 0/1 interaction rows, so x·W is a sum of weight rows — a gather-sum —
 * and its weight gradient a scatter-add, both through src/math/sparse.ts (native C++ kernel on
 * 2 threads, TypeScript fallback). Its weight is stored [in, out] (rows = input features), the
 * transpose of PyTorch's nn.Linear layout, because the gather-sum reads whole rows.
 */
import { spmmRows, spmmRowsT, transposeRows } from '../math/sparse.js';
import { addBiasRows, colSumInto } from './dense.js';

/**
 * A batch of sparse input rows: row r's features are indices[indptr[r] .. indptr[r+1]) with
 * values (1 when `values` is absent — a 0/1 interaction row).
 */
export interface SparseRows {
  readonly n: number;
  readonly indptr: Int32Array;
  readonly indices: Int32Array;
  readonly values?: Float32Array;
  /** When set, row r is row rows[r] of the whole CSR matrix (indptr, indices, values): see csrRowsView. */
  readonly rows?: Int32Array;
}

/** The given rows of a CSR matrix as a SparseRows batch without copying (rows are checked). */
export function csrRowsView(
  csr: { indptr: Int32Array; indices: Int32Array; nRows: number },
  rows: Int32Array,
): SparseRows {
  for (let r = 0; r < rows.length; r++) {
    const u = rows[r]!;
    if (!(u >= 0 && u < csr.nRows)) throw new RangeError(`csrRowsView: row ${u} out of range`);
  }
  return { n: rows.length, indptr: csr.indptr, indices: csr.indices, rows };
}

/** Gathers the given rows of a CSR matrix into a SparseRows batch (copies the indices). */
export function gatherCsrRows(
  csr: { indptr: Int32Array; indices: Int32Array; nRows: number },
  rows: Int32Array,
): SparseRows {
  const indptr = new Int32Array(rows.length + 1);
  for (let r = 0; r < rows.length; r++) {
    const u = rows[r]!;
    if (u < 0 || u >= csr.nRows) throw new RangeError(`gatherCsrRows: row ${u} out of range`);
    indptr[r + 1] = indptr[r]! + csr.indptr[u + 1]! - csr.indptr[u]!;
  }
  const indices = new Int32Array(indptr[rows.length]!);
  for (let r = 0; r < rows.length; r++) {
    const u = rows[r]!;
    indices.set(csr.indices.subarray(csr.indptr[u]!, csr.indptr[u + 1]!), indptr[r]!);
  }
  return { n: rows.length, indptr, indices };
}

/**
 * y[n×out] = X·Wt (+ b), X sparse, Wt [in×out] (rows = input features): row r of y is
 * Σ_q values[q]·Wt[indices[q]]. Columns are processed in register blocks of 8 so each
 * weight row segment is read once per block.
 */
export function sparseLinearForward(
  x: SparseRows,
  Wt: Float32Array,
  outF: number,
  b: Float32Array | undefined,
  y: Float32Array,
): Float32Array {
  if (y.length < x.n * outF) throw new RangeError('sparseLinearForward: output too small');
  spmmRows(x, Wt, Math.floor(Wt.length / Math.max(1, outF)), outF, y);
  if (b) addBiasRows(y, x.n, outF, b);
  return y;
}

/**
 * Backward of sparseLinearForward: dWt[j] += Σ_{(r, j) ∈ X} value·dy[r] (a scatter-add),
 * db += Σ dy. Computed as the gather-sum Xᵀ·dy: the batch is transposed (O(nnz)) so every
 * touched weight row is accumulated in registers and written once.
 */
export function sparseLinearBackward(
  x: SparseRows,
  dy: Float32Array,
  outF: number,
  dWt: Float32Array,
  db: Float32Array | undefined,
): void {
  spmmRowsT(x, dy, outF, dWt, Math.floor(dWt.length / Math.max(1, outF)));
  if (db) colSumInto(dy, x.n, outF, db);
}

/** A sparse batch transposed to feature-major order: see transposeSparse. */
export interface TransposedSparseRows {
  /** The feature ids that occur in the batch. */
  features: Int32Array;
  indptr: Int32Array;
  indices: Int32Array;
  values: Float32Array;
}

/**
 * The transpose of a sparse batch restricted to the features that occur: features[k] is a
 * feature id, its (batch row, value) entries are indices/values[indptr[k] .. indptr[k+1]).
 */
export function transposeSparse(x: SparseRows, nFeatures: number): TransposedSparseRows {
  return transposeRows(x, nFeatures);
}
