/**
 * The base model's recommendation lists (docs/numeric-contract.md §5): score every item,
 * mask item 0 and the user's train items (and valid items for test-time lists), take the
 * top-k. Rows are users 0..nUsers−1; row 0 (padding) is all −1.
 */
import type { SplitDataset } from '../data/types.js';
import type { Recommender } from '../models/recommender.js';
import { maskBlock } from '../math/mask.js';
import { scoreTopKWith } from '../math/scoring.js';
import { topkRows } from '../math/topk.js';

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

/**
 * Both lists of {@link recommendationLists} from one pass of scoring: each block of scores is
 * ranked with train items masked (valid-time lists), then valid items are masked too and it is
 * ranked again (test-time lists). Masking only sets scores to −Infinity, so the lists equal
 * those of two separate passes; at MovieLens-20M size a pass is most of the cost.
 */
export function recommendationListsBoth(model: Recommender, ds: SplitDataset, k = 10): Record<ListSplit, Int32Array> {
  const users = new Int32Array(ds.nUsers - 1);
  for (let i = 0; i < users.length; i++) users[i] = i + 1;
  const valid = new Int32Array(ds.nUsers * k).fill(-1);
  const test = new Int32Array(ds.nUsers * k).fill(-1);
  scoreTopKWith(
    (ub, out) => {
      model.scoreAll(ub, out);
    },
    ds.nItems,
    users,
    k,
    [ds.train],
    {
      out: valid.subarray(k),
      onBlock: (ub, sb, _top, r0) => {
        maskBlock(sb, ub, ds.nItems, [ds.valid], { padding: false });
        topkRows(sb, ub.length, ds.nItems, k, test.subarray((r0 + 1) * k, (r0 + 1 + ub.length) * k));
      },
    },
  );
  return { valid, test };
}
