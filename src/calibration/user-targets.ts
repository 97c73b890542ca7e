/**
 * Per-user target distribution (docs/numeric-contract.md §4): the fraction of the user's train items in each
 * popularity group. User 0 (padding) and users without train items get all zeros and are
 * listed in `emptyUsers` (they are left out of fine-tuning; in metrics their P is the zero
 * vector, which the ε of the JSD keeps finite).
 */
import type { Csr } from '../math/csr.js';
import { UserError } from '../util/errors.js';

/** Per-user target distributions P over the popularity groups, and the users who have none. */
export interface UserTargets {
  readonly nUsers: number;
  readonly nGroups: number;
  /** Row-major nUsers × nGroups. */
  readonly targets: Float64Array;
  /** Users ≥ 1 with no train items (their row is all zeros). */
  readonly emptyUsers: Int32Array;
}

/** Each user's share of train items per popularity group; users without train items get zeros. */
export function userTargets(train: Csr, itemGroup: Int32Array, nGroups: number): UserTargets {
  if (!Number.isInteger(nGroups) || nGroups < 1)
    throw new UserError(`nGroups must be a positive integer, got ${nGroups}`);
  if (itemGroup.length < train.nCols) {
    throw new UserError(`itemGroup has ${itemGroup.length} entries but the train matrix has ${train.nCols} items`);
  }
  const nUsers = train.nRows;
  const G = nGroups;
  const targets = new Float64Array(nUsers * G);
  const empty: number[] = [];
  for (let u = 1; u < nUsers; u++) {
    const start = train.indptr[u]!,
      end = train.indptr[u + 1]!;
    let n = 0;
    const off = u * G;
    for (let k = start; k < end; k++) {
      const item = train.indices[k]!;
      const g = itemGroup[item]!;
      if (g < 0) continue; // padding item: never a train item, ignore defensively
      if (g >= G) throw new UserError(`item ${item} has group ${g}, but there are only ${G} groups`);
      targets[off + g]!++;
      n++;
    }
    if (n === 0) {
      empty.push(u);
      continue;
    }
    for (let g = 0; g < G; g++) targets[off + g] = targets[off + g]! / n;
  }
  return { nUsers, nGroups: G, targets, emptyUsers: Int32Array.from(empty) };
}
