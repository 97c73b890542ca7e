import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/math/rng.js';
import { trainBpr, type BprEpochInfo } from '../../src/train/bpr-trainer.js';
import { sampleNegatives } from '../../src/train/train-data.js';
import { fullSortEval } from '../../src/train/full-sort-eval.js';
import { UserError } from '../../src/util/errors.js';
import { csr } from '../helpers/csr.js';

/** Two taste clusters: users 1..40 like items 1..20, users 41..80 like items 21..40. */
function synthetic() {
  const nUsers = 81,
    nItems = 41;
  const rng = new Rng(5);
  const train: number[][] = [[]],
    valid: number[][] = [[]];
  for (let u = 1; u < nUsers; u++) {
    const base = u <= 40 ? 1 : 21;
    const perm = rng.permutation(20);
    const items = [...perm.subarray(0, 9)].map((i) => base + i);
    // one out-of-cluster item as noise
    items.push((u <= 40 ? 21 : 1) + rng.nextInt(20));
    valid.push(u % 7 === 0 ? [] : [items[0]!]); // some users without valid items
    train.push(u % 7 === 0 ? items : items.slice(1));
  }
  return { nUsers, nItems, train: csr(nItems, train), valid: csr(nItems, valid) };
}

const cfg = { dim: 8, lr: 0.02, batchSize: 64, epochs: 25, patience: 25, seed: 3 };

test('negatives: never 0, never a train item, uniform over the rest', () => {
  const train = csr(6, [[], [1, 2], [5]]);
  const users = new Int32Array(30000).map((_, i) => 1 + (i % 2));
  const neg = new Int32Array(users.length);
  sampleNegatives(train, users, neg, 6, new Rng(1));
  const counts = [new Array(6).fill(0), new Array(6).fill(0)];
  for (const [i, u] of users.entries()) counts[u - 1]![neg[i]!]!++;
  assert.equal(counts[0]![0] + counts[1]![0], 0); // item 0 never drawn
  assert.equal(counts[0]![1] + counts[0]![2], 0);
  assert.equal(counts[1]![5], 0);
  for (const j of [3, 4, 5]) assert.ok(Math.abs(counts[0]![j] / 15000 - 1 / 3) < 0.02);
  for (const j of [1, 2, 3, 4]) assert.ok(Math.abs(counts[1]![j] / 15000 - 1 / 4) < 0.02);
});

test('training learns, is deterministic, and keeps a copy of the best weights', () => {
  const data = synthetic();
  const seen: BprEpochInfo[] = [];
  const a = trainBpr(data, cfg, {
    onEpoch: (e, total) => {
      seen.push(e);
      assert.equal(total, 25);
    },
  });
  const b = trainBpr(data, cfg);
  assert.equal(seen.length, a.epochsRun);
  assert.equal(a.epochsRun, 25);
  assert.equal(a.stoppedEarly, false);
  // deterministic: identical weights and history
  assert.deepEqual(a.model.userEmb.value, b.model.userEmb.value);
  assert.deepEqual(a.model.itemEmb.value, b.model.itemEmb.value);
  assert.deepEqual(
    a.history.map((h) => [h.loss, h.validNdcg]),
    b.history.map((h) => [h.loss, h.validNdcg]),
  );
  // another seed gives other weights
  const c = trainBpr(data, { ...cfg, seed: 4, epochs: 2 });
  assert.notDeepEqual(c.model.userEmb.value, a.model.userEmb.value);
  // learns: loss falls from ln 2, validation NDCG far above chance
  const h = a.history;
  assert.ok(Math.abs(h[0]!.loss - Math.LN2) < 0.05, `first loss ${h[0]!.loss}`);
  assert.ok(h[h.length - 1]!.loss < 0.35, `last loss ${h[h.length - 1]!.loss}`);
  assert.ok(a.bestValidNdcg > 0.3, `best valid NDCG ${a.bestValidNdcg}`);
  const nBatches = Math.ceil(data.train.indptr[data.nUsers]! / 64); // 731 train rows → 12 batches
  assert.equal(nBatches, 12);
  assert.ok(Math.abs(h[0]!.lossSum - h[0]!.loss * nBatches) < 1e-12);
  // best epoch bookkeeping
  const best = Math.max(...h.map((e) => e.validNdcg));
  assert.equal(a.bestValidNdcg, best);
  assert.equal(h[a.bestEpoch]!.validNdcg, best);
  assert.ok(h.slice(a.bestEpoch + 1).every((e) => e.validNdcg < best));
  // the restored model is the best epoch's, not the last one's
  const again = fullSortEval(a.model, { mask: [data.train], target: data.valid, k: 10 });
  assert.equal(again.ndcg, best);
  assert.deepEqual(a.model.userEmb.value, a.bestWeights['user_embedding.weight']);
  assert.notEqual(a.model.userEmb.value, a.bestWeights['user_embedding.weight']);
  // users without valid items are skipped: 80 users, 11 have none (u % 7 == 0)
  assert.equal(again.nEvaluated, 80 - 11);
});

test('one thread and two threads give bit-identical training', () => {
  const data = synthetic();
  const one = trainBpr(data, { ...cfg, epochs: 4, batchSize: 100 }, { threads: 1 });
  const two = trainBpr(data, { ...cfg, epochs: 4, batchSize: 100 }, { threads: 2 });
  assert.deepEqual(one.model.userEmb.value, two.model.userEmb.value);
  assert.deepEqual(one.model.itemEmb.value, two.model.itemEmb.value);
  assert.deepEqual(
    one.history.map((h) => h.loss),
    two.history.map((h) => h.loss),
  );
});

test('early stopping after patience + 1 evaluations without improvement; restoreBest=false keeps the last', () => {
  const data = synthetic();
  const r = trainBpr(data, { ...cfg, lr: 0.3, epochs: 60, patience: 1 }, { restoreBest: false });
  assert.ok(r.stoppedEarly, 'expected an early stop with a large lr and patience 1');
  const h = r.history;
  assert.equal(h.length, r.bestEpoch + 3); // two non-improving evaluations after the best one
  assert.ok(!h[h.length - 1]!.improved && !h[h.length - 2]!.improved);
  const last = fullSortEval(r.model, { mask: [data.train], target: data.valid, k: 10 });
  assert.equal(last.ndcg, h[h.length - 1]!.validNdcg);
});

test('bad data is a UserError', () => {
  const full = csr(3, [[], [1, 2]]);
  assert.throws(() => trainBpr({ nUsers: 2, nItems: 3, train: full, valid: csr(3, [[], []]) }, cfg), /every item/);
  assert.throws(() => trainBpr({ nUsers: 3, nItems: 3, train: full, valid: full }, cfg), UserError);
});
