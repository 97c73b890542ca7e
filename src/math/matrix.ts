/**
 * A dense row-major Float32 matrix with an explicit shape. Everything numeric in the project
 * passes data around as Float32Arrays; this type only pins the shape to the buffer so that a
 * wrong stride is caught where the matrix is made, not deep inside a kernel.
 */
export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float32Array;
}

/** A rows × cols matrix over `data` (its length must be rows·cols) or over a new zero buffer. */
export function matrix(rows: number, cols: number, data?: Float32Array): Matrix {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) {
    throw new RangeError(`matrix: invalid shape ${rows}×${cols}`);
  }
  const buf = data ?? new Float32Array(rows * cols);
  if (buf.length !== rows * cols) {
    throw new RangeError(`matrix: buffer of ${buf.length} values does not fit shape ${rows}×${cols}`);
  }
  return { rows, cols, data: buf };
}

/** A view (no copy) of row i. */
export function rowView(m: Matrix, i: number): Float32Array {
  return m.data.subarray(i * m.cols, (i + 1) * m.cols);
}

/** A deep copy: snapshots of weights must never alias the live tensors. */
export function cloneMatrix(m: Matrix): Matrix {
  return { rows: m.rows, cols: m.cols, data: m.data.slice() };
}

/** Rows selected by index into a new matrix (gather). */
export function gatherRows(m: Matrix, idx: ArrayLike<number>, out?: Matrix): Matrix {
  const res = out ?? matrix(idx.length, m.cols);
  if (res.rows !== idx.length || res.cols !== m.cols) throw new RangeError('gatherRows: output shape mismatch');
  const c = m.cols;
  for (let r = 0; r < idx.length; r++) {
    const src = idx[r]! * c;
    res.data.set(m.data.subarray(src, src + c), r * c);
  }
  return res;
}
