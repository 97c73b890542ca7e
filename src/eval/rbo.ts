/**
 * Extrapolated rank-biased overlap for equal-length lists (docs/numeric-contract.md §12), p = 0.9 by default:
 *   RBO = (X_k/k)·p^k + ((1−p)/p)·Σ_{d≤k} (X_d/d)·p^d,
 * X_d = size of the overlap of the two depth-d prefixes. Empty slots (−1) never match.
 * Lists are assumed to hold no duplicates. Identical lists → 1, disjoint → 0.
 */
import type { UserGroups } from './user-groups.js';
import { UserError } from '../util/errors.js';
import { quantileSorted } from '../math/quantile.js';

function checkP(p: number): void {
  if (!(p > 0 && p < 1)) throw new UserError(`RBO p must be in (0, 1), got ${p}`);
}

/** RBO of a[aOff..aOff+k) and b[bOff..bOff+k). */
export function rbo(
  a: ArrayLike<number>,
  aOff: number,
  b: ArrayLike<number>,
  bOff: number,
  k: number,
  p = 0.9,
): number {
  checkP(p);
  if (k <= 0) return 1;
  let x = 0,
    sum = 0,
    pd = 1;
  for (let d = 0; d < k; d++) {
    const ad = a[aOff + d]!,
      bd = b[bOff + d]!;
    if (ad >= 0 && ad === bd) x++;
    else {
      if (ad >= 0)
        for (let j = 0; j < d; j++)
          if (b[bOff + j] === ad) {
            x++;
            break;
          }
      if (bd >= 0)
        for (let j = 0; j < d; j++)
          if (a[aOff + j] === bd) {
            x++;
            break;
          }
    }
    pd *= p;
    sum += (x / (d + 1)) * pd;
  }
  return (x / k) * pd + ((1 - p) / p) * sum;
}

/** RBO for generic sequences (strings, token arrays), e.g. rboOf('abcdefg', 'bacdefg') = 0.9. */
export function rboOf<T>(a: ArrayLike<T>, b: ArrayLike<T>, p = 0.9): number {
  if (a.length !== b.length) throw new UserError(`RBO needs equal-length lists, got ${a.length} and ${b.length}`);
  const ids = new Map<T, number>();
  const enc = (s: ArrayLike<T>) =>
    Int32Array.from({ length: s.length }, (_, i) => {
      const v = s[i]!;
      let id = ids.get(v);
      if (id === undefined) {
        id = ids.size;
        ids.set(v, id);
      }
      return id;
    });
  const ea = enc(a),
    eb = enc(b);
  return rbo(ea, 0, eb, 0, a.length, p);
}

/** Per-user RBO of two nUsers × width list matrices over the first k columns (index 0 left 0). */
export function rboPerUser(
  a: Int32Array,
  b: Int32Array,
  nUsers: number,
  width: number,
  k = width,
  p = 0.9,
): Float64Array {
  checkP(p);
  if (a.length !== nUsers * width || b.length !== nUsers * width) {
    throw new UserError(`RBO list matrices must both be ${nUsers}×${width} (got ${a.length} and ${b.length} entries)`);
  }
  if (k > width || k < 1) throw new UserError(`RBO depth k = ${k} must be in 1..${width}`);
  const out = new Float64Array(nUsers);
  for (let u = 1; u < nUsers; u++) out[u] = rbo(a, u * width, b, u * width, k, p);
  return out;
}

/** Count, mean, extremes and quartiles of a set of values (NaN when empty). */
export interface DistributionSummary {
  readonly n: number;
  readonly mean: number;
  readonly min: number;
  readonly q1: number;
  readonly median: number;
  readonly q3: number;
  readonly max: number;
}

/** Count, mean, minimum, quartiles and maximum of `values` (NaN for each statistic when empty). */
export function summarize(values: Float64Array): DistributionSummary {
  const n = values.length;
  if (n === 0) return { n: 0, mean: NaN, min: NaN, q1: NaN, median: NaN, q3: NaN, max: NaN };
  const s = Float64Array.from(values).sort();
  let t = 0;
  for (let i = 0; i < n; i++) t += s[i]!;
  const q1 = quantileSorted(s, 0.25),
    median = quantileSorted(s, 0.5),
    q3 = quantileSorted(s, 0.75);
  return { n, mean: t / n, min: s[0]!, q1, median, q3, max: s[n - 1]! };
}

/** Summary of per-user values (users 1..n−1) overall and per user group. */
export function summarizePerUser(
  perUser: Float64Array,
  groups?: UserGroups,
): { overall: DistributionSummary; byGroup: DistributionSummary[] } {
  const overall = summarize(perUser.subarray(1));
  const byGroup: DistributionSummary[] = [];
  if (groups) {
    for (const m of groups.members) byGroup.push(summarize(Float64Array.from(m, (u) => perUser[u]!)));
  }
  return { overall, byGroup };
}
