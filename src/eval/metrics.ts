/**
 * Per-user NDCG@k and JSD@k of recommendation lists, and their means overall and per user
 * group, in the reference's result shape (docs/numeric-contract.md §6–§8).
 *
 * Which users are averaged: every user 1..nUsers−1, exactly like the reference's own
 * evaluation (it drops only the padding row). A user with no relevant items scores NDCG 0
 * and is included; a user with no train items has P = 0 (JSD stays finite, see jsd.ts).
 * Checked against the oracle's results JSON (943 users, all with test items).
 */
import type { Csr } from '../math/csr.js';
import { ndcgAtK } from './ndcg.js';
import { jsdMetric, listGroupDistribution } from './jsd.js';
import type { UserGroups } from './user-groups.js';
import { UserError } from '../util/errors.js';

/** Lists to score and what they are scored against: relevant items, item groups and user targets P. */
export interface ListsInput {
  /** Row-major nUsers × width item ids (−1 = empty slot); row 0 is ignored. */
  readonly lists: Int32Array;
  /** Row width of `lists` (≥ k). Defaults to k. */
  readonly width?: number;
  readonly k: number;
  /** Relevant items per user (e.g. the test split), nUsers rows. */
  readonly relevant: Csr;
  /** Popularity group per item (item 0 → −1). */
  readonly itemGroup: Int32Array;
  /** Row-major nUsers × nGroups user targets P. */
  readonly targets: Float64Array;
  readonly nGroups: number;
}

/** NDCG@k and JSD@k of each user's list. */
export interface PerUserMetrics {
  /** Per user (index = user id; index 0 = padding, left 0). */
  readonly ndcg: Float64Array;
  readonly jsd: Float64Array;
}

/** Means of NDCG@k and JSD@k over all users and per user group, with the group sizes. */
export interface MetricSummary {
  readonly ndcg: number;
  readonly jsd: number;
  /** Mean per user group (index 0 = group 1 mainstream, …). */
  readonly ndcgByGroup: number[];
  readonly jsdByGroup: number[];
  readonly nUsers: number;
  readonly usersByGroup: number[];
}

/** The reference's result record: ndcg, jsd, ndcg_usergroup_{g}, jsd_usergroup_{g}. */
export type ReferenceMetrics = Record<string, number>;

/** NDCG@k and JSD@k of every user's list (users 1..n−1); throws on mismatched sizes. */
export function perUserMetrics(input: ListsInput): PerUserMetrics {
  const { lists, k, relevant, itemGroup, targets, nGroups: G } = input;
  const width = input.width ?? k;
  const nUsers = relevant.nRows;
  if (!Number.isInteger(k) || k < 1) throw new UserError(`k must be a positive integer, got ${k}`);
  if (width < k) throw new UserError(`lists have ${width} columns, fewer than k = ${k}`);
  if (lists.length !== nUsers * width) {
    throw new UserError(`lists have ${lists.length} entries, expected ${nUsers} users × ${width}`);
  }
  if (targets.length !== nUsers * G)
    throw new UserError(`targets have ${targets.length} values, expected ${nUsers}×${G}`);
  const ndcg = new Float64Array(nUsers);
  const jsd = new Float64Array(nUsers);
  const q = new Float64Array(G);
  for (let u = 1; u < nUsers; u++) {
    const off = u * width;
    ndcg[u] = ndcgAtK(lists, off, k, relevant.indices, relevant.indptr[u]!, relevant.indptr[u + 1]!);
    listGroupDistribution(lists, off, k, itemGroup, G, q, 0);
    jsd[u] = jsdMetric(targets, u * G, q, 0, G);
  }
  return { ndcg, jsd };
}

/** Means of per-user metrics over users 1..n−1 and per user group. */
export function summarizeMetrics(perUser: PerUserMetrics, groups: UserGroups): MetricSummary {
  const nUsers = perUser.ndcg.length;
  if (groups.userGroup.length !== nUsers)
    throw new UserError(`user groups cover ${groups.userGroup.length} users, metrics ${nUsers}`);
  const K = groups.nGroups;
  const sN = new Float64Array(K),
    sJ = new Float64Array(K),
    cnt = new Float64Array(K);
  let tN = 0,
    tJ = 0;
  for (let u = 1; u < nUsers; u++) {
    tN += perUser.ndcg[u]!;
    tJ += perUser.jsd[u]!;
    const g = groups.userGroup[u]!;
    if (g >= 0) {
      sN[g]! += perUser.ndcg[u]!;
      sJ[g]! += perUser.jsd[u]!;
      cnt[g]!++;
    }
  }
  const n = nUsers - 1;
  return {
    ndcg: n > 0 ? tN / n : 0,
    jsd: n > 0 ? tJ / n : 0,
    ndcgByGroup: Array.from(sN, (s, g) => (cnt[g]! > 0 ? s / cnt[g]! : 0)),
    jsdByGroup: Array.from(sJ, (s, g) => (cnt[g]! > 0 ? s / cnt[g]! : 0)),
    nUsers: n,
    usersByGroup: Array.from(cnt),
  };
}

/** A summary in the reference's keys: ndcg, jsd, ndcg_usergroup_g and jsd_usergroup_g (g from 1). */
export function toReferenceMetrics(s: MetricSummary): ReferenceMetrics {
  const r: ReferenceMetrics = { ndcg: s.ndcg, jsd: s.jsd };
  for (let g = 0; g < s.ndcgByGroup.length; g++) {
    r[`ndcg_usergroup_${g + 1}`] = s.ndcgByGroup[g]!;
    r[`jsd_usergroup_${g + 1}`] = s.jsdByGroup[g]!;
  }
  return r;
}

/** Per-user metrics and their summary in one call. */
export function evaluateLists(
  input: ListsInput,
  groups: UserGroups,
): { perUser: PerUserMetrics; summary: MetricSummary; reference: ReferenceMetrics } {
  const perUser = perUserMetrics(input);
  const summary = summarizeMetrics(perUser, groups);
  return { perUser, summary, reference: toReferenceMetrics(summary) };
}

/** Number of items of popularity group `group` (default 0, the head) in each user's top-k. */
export function groupCountPerUser(
  lists: Int32Array,
  nUsers: number,
  width: number,
  k: number,
  itemGroup: Int32Array,
  group = 0,
): Int32Array {
  const out = new Int32Array(nUsers);
  for (let u = 1; u < nUsers; u++) {
    let c = 0;
    for (let i = 0; i < k; i++) {
      const item = lists[u * width + i]!;
      if (item >= 0 && item < itemGroup.length && itemGroup[item] === group) c++;
    }
    out[u] = c;
  }
  return out;
}
