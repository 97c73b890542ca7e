/**
 * Recommendation lists on disk: int32 .npy matrices of nUsers × width (row 0 = the padding
 * user, −1s). Base lists, CP lists and checkpoint lists all use it.
 */
import { writeNpy, readNpyMatrixI32 } from '../data/npy.js';
import { UserError } from '../util/errors.js';
import { checkListItems } from './list-checks.js';

/** Writes nUsers × k lists. */
export function writeListMatrix(path: string, lists: Int32Array, k: number): void {
  writeNpy(path, '<i4', [lists.length / k, k], lists);
}

/**
 * Reads lists that must have `nUsers` rows and at least `k` columns, every entry an item id below
 * `nItems` or −1 (src/store/list-checks.ts); keeps the first k.
 */
export function readListMatrix(path: string, nUsers: number, k: number, nItems: number): Int32Array {
  const a = readNpyMatrixI32(path);
  checkListItems(a.data, [a.rows, a.cols], nItems, path);
  if (a.rows !== nUsers)
    throw new UserError(`has ${a.rows} rows, the run has ${nUsers} users (padding included)`, path);
  if (a.cols < k) throw new UserError(`has ${a.cols} columns, fewer than k = ${k}`, path);
  if (a.cols === k) return a.data;
  const out = new Int32Array(nUsers * k);
  for (let u = 0; u < nUsers; u++) out.set(a.data.subarray(u * a.cols, u * a.cols + k), u * k);
  return out;
}
