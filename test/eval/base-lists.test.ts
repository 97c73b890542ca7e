/**
 * The base lists of both splits from one scoring pass equal those of two separate passes
 * (one per split), across several blocks of users, for a model without ties (BPR at random
 * weights) and one with many (MostPop).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomSplit } from '../../src/data/split.js';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { recommendationLists, recommendationListsBoth } from '../../src/eval/base-lists.js';
import { MostPopModel, trainPopularity } from '../../src/models/baselines.js';
import { BprModel } from '../../src/models/bpr.js';
import type { Recommender } from '../../src/models/recommender.js';

test('base lists: one pass for both splits = one pass per split (several blocks, with and without ties)', () => {
  const ds = randomSplit(generateSynthetic({ users: 600, items: 300, interactions: 12_000, seed: 3 }), 11);
  const models: Recommender[] = [
    new BprModel({ nUsers: ds.nUsers, nItems: ds.nItems, dim: 16 }, 5),
    new MostPopModel({ nUsers: ds.nUsers, nItems: ds.nItems }, trainPopularity(ds.train)),
  ];
  for (const model of models) {
    for (const k of [1, 10]) {
      const both = recommendationListsBoth(model, ds, k);
      assert.deepEqual(both.valid, recommendationLists(model, ds, 'valid', k));
      assert.deepEqual(both.test, recommendationLists(model, ds, 'test', k));
      assert.deepEqual(both.test.subarray(0, k), new Int32Array(k).fill(-1), 'row 0 is padding');
    }
  }
});
