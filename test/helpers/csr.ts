/** Small hand-made interaction matrices shared by the model and trainer tests. */
import type { Csr } from '../../src/math/csr.js';
import { Rng } from '../../src/math/rng.js';

/** A CSR matrix from explicit rows (each row's items sorted). */
export function csr(nCols: number, rows: number[][]): Csr {
  const indptr = new Int32Array(rows.length + 1);
  const idx: number[] = [];
  rows.forEach((r, i) => {
    idx.push(...[...r].sort((a, b) => a - b));
    indptr[i + 1] = idx.length;
  });
  return { nRows: rows.length, nCols, indptr, indices: Int32Array.from(idx) };
}

/** Two taste clusters: users 1..40 like items 1..20, users 41..80 items 21..40; item 41 unseen. */
export function clusters() {
  const nUsers = 81,
    nItems = 42;
  const rng = new Rng(5);
  const train: number[][] = [[]],
    valid: number[][] = [[]];
  for (let u = 1; u < nUsers; u++) {
    const base = u <= 40 ? 1 : 21;
    const items = [...rng.permutation(20).subarray(0, 9)].map((i) => base + i);
    valid.push([items[0]!]);
    train.push(items.slice(1));
  }
  return { nUsers, nItems, train: csr(nItems, train), valid: csr(nItems, valid) };
}
