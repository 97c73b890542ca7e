/**
 * Evaluation of a backbone on a run's split: valid-time and test-time top-k lists and their
 * NDCG@k. The mean is the reference's: over every user 1..n−1, a user with no relevant items
 * scoring 0 (`ndcg`); RecBole's variant that skips such users is reported alongside
 * (`ndcg_users_with_items`).
 */
import type { Csr } from '../math/csr.js';
import type { SplitDataset } from '../data/types.js';
import type { Recommender } from '../models/recommender.js';
import { ndcgAtK } from './ndcg.js';
import { recommendationListsBoth, type ListSplit } from './base-lists.js';

/** Mean NDCG@k of lists: over every user (a user without relevant items scores 0) and over those with some. */
export interface ListsNdcg {
  ndcg: number;
  ndcg_users_with_items: number;
  users: number;
  users_with_items: number;
}

/** NDCG@k of lists (nUsers × width, row 0 ignored) against `relevant`. */
export function meanNdcg(lists: Int32Array, width: number, k: number, relevant: Csr): ListsNdcg {
  let sum = 0,
    withItems = 0;
  const n = relevant.nRows;
  for (let u = 1; u < n; u++) {
    const lo = relevant.indptr[u]!,
      hi = relevant.indptr[u + 1]!;
    if (hi > lo) withItems++;
    sum += ndcgAtK(lists, u * width, k, relevant.indices, lo, hi);
  }
  const users = Math.max(0, n - 1);
  return {
    ndcg: users > 0 ? sum / users : 0,
    ndcg_users_with_items: withItems > 0 ? sum / withItems : 0,
    users,
    users_with_items: withItems,
  };
}

/** A backbone's valid-time and test-time top-k lists and their NDCG@k. */
export interface BaseEvaluation {
  k: number;
  valid: ListsNdcg;
  test: ListsNdcg;
  lists: Record<ListSplit, Int32Array>;
}

/** A model's top-k lists on valid (train masked) and test (train and valid masked), with their NDCG@k. */
export function evaluateBase(model: Recommender, ds: SplitDataset, k = 10): BaseEvaluation {
  const { valid: validLists, test: testLists } = recommendationListsBoth(model, ds, k);
  return {
    k,
    valid: meanNdcg(validLists, k, k, ds.valid),
    test: meanNdcg(testLists, k, k, ds.test),
    lists: { valid: validLists, test: testLists },
  };
}
