/**
 * CP candidates from one blockwise scoring pass equal those of the whole masked score matrix
 * (prepareCpCandidates), for both modes, across uneven blocks, for a model without ties (BPR
 * at random weights), one whose integer scores tie by the dozen (MostPop: users ranked again on
 * their full rows) and one whose scores the normalisation squeezes into ties.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomSplit } from '../../src/data/split.js';
import { generateSynthetic } from '../../src/data/synthetic.js';
import type { SplitDataset } from '../../src/data/types.js';
import { MostPopModel, trainPopularity } from '../../src/models/baselines.js';
import { BprModel } from '../../src/models/bpr.js';
import type { Recommender } from '../../src/models/recommender.js';
import { maskScores, prepareCpCandidates } from '../../src/rerank/cp.js';
import { cpCandidatesFromModel, type CpMode } from '../../src/rerank/cp-model-candidates.js';

/** The reference: every user's scores at once, masked, normalised, top-m. */
function wholeMatrix(model: Recommender, ds: SplitDataset, m: number, mode: CpMode) {
  const users = Int32Array.from({ length: ds.nUsers }, (_, u) => u);
  const scores = new Float32Array(ds.nUsers * ds.nItems);
  model.scoreAll(users, scores);
  maskScores(scores, ds.nUsers, ds.nItems, mode === 'test' ? [ds.train, ds.valid] : [ds.train]);
  return prepareCpCandidates(scores, ds.nUsers, ds.nItems, Math.min(m, ds.nItems));
}

/** A model whose scores are 1e6 + a small offset: float32 spacing there is 1/16, so the normalisation ties many. */
function squeezed(base: Recommender): Recommender {
  return {
    ...base,
    scoreAll(users: Int32Array, out: Float32Array) {
      base.scoreAll(users, out);
      for (let i = 0; i < out.length; i++) out[i] = 1e6 + out[i]! * 3;
    },
  } as Recommender;
}

test('CP candidates from one pass = from the whole matrix (both modes, uneven blocks, with ties)', () => {
  const ds = randomSplit(generateSynthetic({ users: 300, items: 250, interactions: 9_000, seed: 4 }), 2);
  const bpr = new BprModel({ nUsers: ds.nUsers, nItems: ds.nItems, dim: 8 }, 9);
  const models: [string, Recommender][] = [
    ['bpr', bpr],
    ['mostpop', new MostPopModel({ nUsers: ds.nUsers, nItems: ds.nItems }, trainPopularity(ds.train))],
    ['squeezed', squeezed(bpr)],
  ];
  for (const [name, model] of models) {
    for (const [m, blockRows] of [
      [20, 64],
      [7, 37],
      [400, 256],
    ] as const) {
      const got = cpCandidatesFromModel(model, ds, m, ['test', 'valid'], blockRows);
      for (const mode of ['test', 'valid'] as const) {
        const want = wholeMatrix(model, ds, m, mode);
        const c = got[mode]!;
        assert.equal(c.m, want.m, `${name} m ${m} ${mode}`);
        assert.deepEqual(c.ids, want.ids, `${name} m ${m} ${mode}: ids`);
        assert.deepEqual(c.scores, want.scores, `${name} m ${m} ${mode}: scores`);
      }
    }
  }
  const onlyValid = cpCandidatesFromModel(bpr, ds, 20, ['valid']);
  assert.equal(onlyValid.test, undefined);
  assert.deepEqual(onlyValid.valid!.ids, wholeMatrix(bpr, ds, 20, 'valid').ids);
});

test('CP candidates of one mode alone equal those of both modes; a +∞ score names its first item and user', () => {
  const ds = randomSplit(generateSynthetic({ users: 120, items: 90, interactions: 3_000, seed: 6 }), 3);
  const bpr = new BprModel({ nUsers: ds.nUsers, nItems: ds.nItems, dim: 8 }, 5);
  const both = cpCandidatesFromModel(bpr, ds, 15, ['test', 'valid'], 50);
  const onlyTest = cpCandidatesFromModel(bpr, ds, 15, ['test'], 50);
  assert.equal(onlyTest.valid, undefined);
  assert.deepEqual(onlyTest.test!.ids, both.test!.ids);
  assert.deepEqual(onlyTest.test!.scores, both.test!.scores);
  // Two items of user 7 outside its train row (masked items are −∞ before the ranges see them).
  const train7 = ds.train.indices.subarray(ds.train.indptr[7]!, ds.train.indptr[8]!);
  const open = Array.from({ length: ds.nItems - 1 }, (_, i) => i + 1).filter((i) => !train7.includes(i));
  const [a, b] = [open[30]!, open[10]!];
  const infinite = {
    ...bpr,
    scoreAll(users: Int32Array, out: Float32Array) {
      bpr.scoreAll(users, out);
      for (let r = 0; r < users.length; r++) {
        if (users[r] !== 7) continue;
        out[r * ds.nItems + a] = Infinity;
        out[r * ds.nItems + b] = Infinity;
      }
    },
  } as unknown as Recommender;
  assert.throws(
    () => cpCandidatesFromModel(infinite, ds, 15, ['test', 'valid'], 50),
    new RegExp(`scores item ${b} for user 7 as \\+∞`),
  );
});
