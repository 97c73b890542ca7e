/**
 * The RecBole "RS" split of docs/numeric-contract.md §2: one seeded shuffle of the whole log, then group by user
 * (keeping the shuffled order) and cut each user's sequence into train, valid, test — in that
 * order — with sizes from splitSizes.
 */
import { Rng } from '../math/rng.js';
import { UserError } from '../util/errors.js';
import { csrFromCoo } from '../math/csr.js';
import type { InteractionLog, SplitDataset } from './types.js';

/**
 * [train, valid, test] sizes for a user with n interactions (RecBole's _calcu_split_ids with
 * ratios 0.8/0.1/0.1): valid = test = floor(0.1·n), train = rest; then for test and then valid,
 * if train > 1 and 0 < 0.1·n < 1, one interaction moves from train to that part.
 */
export function splitSizes(n: number): [number, number, number] {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`splitSizes: bad count ${n}`);
  const r = 0.1 * n;
  let valid = Math.floor(r);
  let test = valid;
  let train = n - valid - test;
  if (train > 1 && r > 0 && r < 1) {
    test++;
    train--;
  }
  if (train > 1 && r > 0 && r < 1) {
    valid++;
    train--;
  }
  return [train, valid, test];
}

/** Which part each interaction of the log went to. */
export enum Part {
  Train = 0,
  Valid = 1,
  Test = 2,
}

/**
 * Assigns every interaction of the log to train (0), valid (1) or test (2).
 * The shuffle is Rng(seed).permutation over interaction indices.
 */
export function assignSplit(log: InteractionLog, seed: number): Uint8Array {
  const n = log.users.length;
  const nUsers = log.userMap.tokens.length;
  const perm = new Rng(seed).permutation(n);
  // Stable counting sort of the shuffled order by user.
  const start = new Int32Array(nUsers + 1);
  const users = log.users;
  for (let k = 0; k < n; k++) {
    const u = users[k]!;
    if (!(u > 0 && u < nUsers))
      throw new RangeError(`split: interaction ${k} has user id ${u} outside 1..${nUsers - 1}`);
    start[u + 1]!++;
  }
  for (let u = 0; u < nUsers; u++) start[u + 1]! += start[u]!;
  const fill = start.slice(0, nUsers);
  const grouped = new Int32Array(n);
  for (let p = 0; p < n; p++) {
    const k = perm[p]!;
    grouped[fill[users[k]!]!++] = k;
  }
  const part = new Uint8Array(n);
  for (let u = 1; u < nUsers; u++) {
    const s = start[u]!;
    const e = start[u + 1]!;
    const [tr, va] = splitSizes(e - s);
    for (let p = s + tr; p < s + tr + va; p++) part[grouped[p]!] = Part.Valid;
    for (let p = s + tr + va; p < e; p++) part[grouped[p]!] = Part.Test;
  }
  return part;
}

/** Builds the train/valid/test CSR matrices from a log and a part assignment. */
export function splitFromAssignment(log: InteractionLog, part: Uint8Array): SplitDataset {
  const n = log.users.length;
  if (part.length !== n) throw new RangeError(`split: ${part.length} assignments for ${n} interactions`);
  const nUsers = log.userMap.tokens.length;
  const nItems = log.itemMap.tokens.length;
  const counts = [0, 0, 0];
  for (let k = 0; k < n; k++) counts[part[k]!]!++;
  const rows = counts.map((c) => new Int32Array(c));
  const cols = counts.map((c) => new Int32Array(c));
  const w = [0, 0, 0];
  for (let k = 0; k < n; k++) {
    const p = part[k]!;
    rows[p]![w[p]!] = log.users[k]!;
    cols[p]![w[p]!++] = log.items[k]!;
  }
  const mk = (p: number) => csrFromCoo(rows[p]!, cols[p]!, nUsers, nItems);
  return {
    nUsers,
    nItems,
    train: mk(Part.Train),
    valid: mk(Part.Valid),
    test: mk(Part.Test),
    userMap: log.userMap,
    itemMap: log.itemMap,
  };
}

/** The seeded RS split of docs/numeric-contract.md §2. */
export function randomSplit(log: InteractionLog, seed: number): SplitDataset {
  if (!Number.isInteger(seed)) throw new UserError(`seed must be an integer, got ${seed}`);
  if (log.users.length === 0) throw new UserError('cannot split an empty interaction log', log.source);
  return splitFromAssignment(log, assignSplit(log, seed));
}
