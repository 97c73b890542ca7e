/**
 * User groups (docs/numeric-contract.md §8): users 1..n sorted by their target's head share (group 0 of the
 * popularity groups), descending; the first round(0.2·n) are group 1 (mainstream), up to
 * round(0.8·n) group 2 (diverse), the rest group 3 (niche). Boundaries are the rounded
 * cumulative sums of the proportions, rounding half to even like the reference's Python
 * `round`; the last boundary is n.
 *
 * Ties in head share: `lowerIdFirst` (the default) or `higherIdFirst`. The reference
 * sorts with NumPy's unstable argsort, so its tie order is whatever its NumPy build
 * produced; on the oracle ML-100K run exactly one tie straddles a boundary (users 159 and
 * 318, head share 9/56 = 18/112, at the group 2/3 boundary) and it went higher id first —
 * `higherIdFirst` reproduces the oracle's per-group numbers exactly.
 */
import { UserError } from '../util/errors.js';

/** Names of the user groups, from the largest head share to the smallest. */
export const USER_GROUP_NAMES: readonly string[] = ['mainstream', 'diverse', 'niche'];

/** Order of users with equal head share at a group boundary. */
export type UserGroupTieBreak = 'lowerIdFirst' | 'higherIdFirst';

/** Users split into groups by head share: the group of each user and the members of each group. */
export interface UserGroups {
  /** Group index per user (0-based: 0 mainstream, 1 diverse, 2 niche); user 0 → −1. */
  readonly userGroup: Int32Array;
  readonly nGroups: number;
  /** Users (ids) of each group, in sorted order. */
  readonly members: Int32Array[];
}

function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * Splits users 1..nUsers−1 into groups by their target's head share, largest first (see the module
 * comment for the boundaries and ties).
 * @param targets row-major nUsers × G target distributions (row 0 = padding, ignored)
 * @param options group `proportions` (default 0.2 / 0.6 / 0.2), `tieBreak`, and `headGroup`: which
 *   target column is the head share (default 0)
 */
export function userGroups(
  targets: Float64Array,
  nUsers: number,
  G: number,
  options: { proportions?: readonly number[]; tieBreak?: UserGroupTieBreak; headGroup?: number } = {},
): UserGroups {
  const proportions = options.proportions ?? [0.2, 0.6, 0.2];
  const tieBreak = options.tieBreak ?? 'lowerIdFirst';
  const head = options.headGroup ?? 0;
  if (targets.length !== nUsers * G)
    throw new UserError(`targets have ${targets.length} values, expected ${nUsers}×${G}`);
  if (head < 0 || head >= G) throw new UserError(`head group ${head} out of range 0..${G - 1}`);
  if (proportions.length < 1 || proportions.some((p) => !(p > 0) || !Number.isFinite(p))) {
    throw new UserError(`user group proportions must be positive, got ${JSON.stringify(proportions)}`);
  }
  if (Math.abs(proportions.reduce((a, b) => a + b, 0) - 1) > 1e-9) {
    throw new UserError(`user group proportions must sum to 1, got ${JSON.stringify(proportions)}`);
  }
  if (tieBreak !== 'lowerIdFirst' && tieBreak !== 'higherIdFirst')
    throw new UserError(`unknown tie break '${String(tieBreak)}'`);
  const n = Math.max(0, nUsers - 1);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i + 1;
  const sign = tieBreak === 'lowerIdFirst' ? 1 : -1;
  order.sort((a, b) => {
    const d = targets[b * G + head]! - targets[a * G + head]!;
    return d !== 0 ? d : sign * (a - b);
  });
  const K = proportions.length;
  const bounds = [0];
  let acc = 0;
  for (const p of proportions) {
    acc += p * n;
    bounds.push(acc);
  }
  const ib = bounds.map(roundHalfEven);
  ib[K] = n;
  const userGroup = new Int32Array(nUsers).fill(-1);
  const members: Int32Array[] = [];
  for (let g = 0; g < K; g++) {
    const lo = Math.min(ib[g]!, n),
      hi = Math.min(Math.max(ib[g + 1]!, lo), n);
    members.push(order.slice(lo, hi));
    for (let r = lo; r < hi; r++) userGroup[order[r]!] = g;
  }
  return { userGroup, nGroups: K, members };
}
