/**
 * The values of RUN/prepare's arrays, checked on load (docs/numeric-contract.md §3, §4, §8):
 * every item but the padding one in a popularity group 0..G−1, popularity counts ≥ 0, user
 * targets finite, ≥ 0 and summing to 1 per row (or all 0), user groups −1 or 0..U−1. A bad value
 * is a UserError naming the file, the array and the first bad index.
 */
import { checkFinite, checkRange } from '../util/checks.js';
import { UserError } from '../util/errors.js';

/** How far a stored target row's sum may be from 1 (docs/numeric-contract.md §4). */
export const TARGET_SUM_TOLERANCE = 1e-9;

/** The arrays of RUN/prepare as read, with their files. */
export interface PreparedArrays {
  itemGroup: { data: Int32Array; file: string };
  popularity: { data: Int32Array; file: string };
  /** nUsers × nGroups, row-major. */
  targets: { data: Float64Array; file: string };
  userGroup: { data: Int32Array; file: string };
}

/** Checks the values of the prepared arrays for `nGroups` popularity groups and `nUserGroups` user groups. */
export function checkPreparedArrays(a: PreparedArrays, nGroups: number, nUserGroups: number): void {
  const nItems = a.itemGroup.data.length;
  if (a.popularity.data.length !== nItems) {
    const n = a.popularity.data.length;
    throw new UserError(`holds ${n} item counts, the item groups ${nItems} items`, a.popularity.file);
  }
  checkRange(
    a.itemGroup.data,
    { what: 'item popularity groups', shape: [nItems], file: a.itemGroup.file },
    { min: 0, max: nGroups - 1, from: 1, expected: `a popularity group 0..${nGroups - 1}` },
  );
  checkRange(
    a.popularity.data,
    { what: 'item popularity', shape: [a.popularity.data.length], file: a.popularity.file },
    { min: 0, max: Number.MAX_SAFE_INTEGER, expected: 'a count ≥ 0' },
  );
  checkTargets(a.targets.data, nGroups, a.targets.file);
  checkRange(
    a.userGroup.data,
    { what: 'user groups', shape: [a.userGroup.data.length], file: a.userGroup.file },
    { min: 0, max: nUserGroups - 1, allowed: [-1], expected: `a user group 0..${nUserGroups - 1} or -1` },
  );
}

/** Targets: finite, ≥ 0, each row summing to 1 within TARGET_SUM_TOLERANCE or all 0. */
function checkTargets(data: Float64Array, nGroups: number, file: string): void {
  const shape = [data.length / nGroups, nGroups];
  const label = { what: 'user targets', shape, file };
  checkFinite(data, label);
  checkRange(data, label, { min: 0, max: Number.MAX_VALUE, expected: 'a share ≥ 0' });
  for (let row = 0; row < shape[0]!; row++) {
    let sum = 0;
    for (let g = 0; g < nGroups; g++) sum += data[row * nGroups + g]!;
    if (sum !== 0 && Math.abs(sum - 1) > TARGET_SUM_TOLERANCE) {
      const expected = `shares summing to 1 (within ${TARGET_SUM_TOLERANCE}) or all 0`;
      throw new UserError(`user targets: row [${row}]: expected ${expected}, got a sum of ${sum}`, file);
    }
  }
}
