/**
 * The train split as the trainers see it: the size checks every trainer makes, the
 * (user, positive item) pairs of the pairwise and pointwise trainers, and their uniform
 * negative sampling.
 */
import { sortedContains, type Csr } from '../math/csr.js';
import type { Rng } from '../math/rng.js';
import { UserError } from '../util/errors.js';

/** Sizes (padding user and item 0 included) and the train and validation matrices. */
export interface TrainData {
  readonly nUsers: number;
  readonly nItems: number;
  readonly train: Csr;
  readonly valid: Csr;
}

/** Checks the matrices against the sizes; returns the number of train interactions. */
export function checkTrainData(data: TrainData, name: string): number {
  const { nUsers, nItems, train, valid } = data;
  if (nItems < 2) throw new UserError(`${name} needs at least one item besides padding`);
  if (train.nRows !== nUsers || train.nCols !== nItems)
    throw new UserError(`train matrix is ${train.nRows}×${train.nCols}, dataset ${nUsers}×${nItems}`);
  if (valid.nCols !== nItems) throw new UserError(`valid matrix has ${valid.nCols} items, dataset ${nItems}`);
  const nInter = train.indptr[nUsers]!;
  if (nInter === 0) throw new UserError('no training interactions');
  return nInter;
}

/**
 * Every train interaction as a (user, item) pair, in CSR order. Each user must leave at
 * least one item to draw as a negative.
 */
export function positivePairs(data: TrainData): { users: Int32Array; items: Int32Array } {
  const { nUsers, nItems, train } = data;
  const nInter = train.indptr[nUsers]!;
  const users = new Int32Array(nInter),
    items = new Int32Array(nInter);
  for (let u = 0; u < nUsers; u++) {
    const lo = train.indptr[u]!,
      hi = train.indptr[u + 1]!;
    if (hi - lo >= nItems - 1) throw new UserError(`user ${u} interacted with every item: no negative to sample`);
    for (let q = lo; q < hi; q++) {
      users[q] = u;
      items[q] = train.indices[q]!;
    }
  }
  return { users, items };
}

/**
 * Draws one negative per entry of `users` into `neg` (items 1..nItems−1, re-drawn while in
 * the user's train row).
 */
export function sampleNegatives(train: Csr, users: Int32Array, neg: Int32Array, nItems: number, rng: Rng): void {
  const ip = train.indptr,
    ix = train.indices;
  const span = nItems - 1;
  for (let t = 0; t < users.length; t++) {
    const u = users[t]!;
    const lo = ip[u]!,
      hi = ip[u + 1]!;
    let j = rng.nextInt(span) + 1;
    while (sortedContains(ix, lo, hi, j)) j = rng.nextInt(span) + 1;
    neg[t] = j;
  }
}
