/**
 * The base model's recommendation lists (docs/numeric-contract.md §5): score every item,
 * mask item 0 and the user's train items (and valid items for test-time lists), take the
 * top-k. Rows are users 0..nUsers−1; row 0 (padding) is all −1.
 */
import type { SplitDataset } from '../data/types.js';
import type { Recommender } from '../models/recommender.js';
import { scoreTopKWith } from '../math/scoring.js';

/** Which lists: valid-time (train items masked) or test-time (train and valid items masked). */
export type ListSplit = 'valid' | 'test';

/** A model's top-k lists for every user, nUsers × k row-major; row 0 (padding) is all −1. */
export function recommendationLists(model: Recommender, ds: SplitDataset, split: ListSplit, k = 10): Int32Array {
  const users = new Int32Array(ds.nUsers - 1);
  for (let i = 0; i < users.length; i++) users[i] = i + 1;
  const masks = split === 'valid' ? [ds.train] : [ds.train, ds.valid];
  const top = scoreTopKWith(
    (ub, out) => {
      model.scoreAll(ub, out);
    },
    ds.nItems,
    users,
    k,
    masks,
  );
  const lists = new Int32Array(ds.nUsers * k).fill(-1);
  lists.set(top, k);
  return lists;
}
