import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MostPopModel, RandomModel, trainPopularity } from '../../src/models/baselines.js';
import '../../src/models/dmf.js';
import { knownModelTypes, loadModel, saveModel } from '../../src/models/model-file.js';
import { fullSortEval } from '../../src/train/full-sort-eval.js';
import { UserError } from '../../src/util/errors.js';
import { csr } from '../helpers/csr.js';

const train = csr(6, [[], [1, 2], [2, 3], [2, 5], [1, 2, 3]]);

test('MostPop scores = train popularity; evaluation masks train items', () => {
  assert.deepEqual(Array.from(trainPopularity(train)), [0, 2, 4, 2, 0, 1]);
  const m = MostPopModel.fromTrain(train);
  const s = m.scoreAll(new Int32Array([1, 3]));
  assert.deepEqual(Array.from(s), [0, 2, 4, 2, 0, 1, 0, 2, 4, 2, 0, 1]);
  assert.deepEqual(Array.from(m.forwardCandidates(new Int32Array([1]), new Int32Array([5, 2]), 2)), [1, 4]);
  m.backwardCandidates(new Float32Array([1, 1])); // no parameters to train: a no-op
  const target = csr(6, [[], [3], [1], [1], [5]]);
  const ev = fullSortEval(m, { mask: [train], target, k: 1, keepLists: true });
  assert.deepEqual(Array.from(ev.lists!.subarray(1 * 1, 5 * 1)), [3, 1, 1, 5]);
  assert.equal(ev.ndcg, 1);
  assert.ok(knownModelTypes().includes('mostpop') && knownModelTypes().includes('random'));
});

test('Random: seeded, deterministic per (user, item), uniform in [0, 1)', () => {
  const a = new RandomModel({ nUsers: 50, nItems: 400, seed: 3 });
  const b = new RandomModel({ nUsers: 50, nItems: 400, seed: 3 });
  const c = new RandomModel({ nUsers: 50, nItems: 400, seed: 4 });
  const users = Int32Array.from({ length: 50 }, (_, i) => i);
  const sa = a.scoreAll(users);
  assert.deepEqual(sa, b.scoreAll(users));
  assert.notDeepEqual(sa, c.scoreAll(users));
  // block-independent: user 7 alone gets the same row
  assert.deepEqual(a.scoreAll(new Int32Array([7])), sa.subarray(7 * 400, 8 * 400));
  let mean = 0;
  for (const v of sa) {
    assert.ok(v >= 0 && v < 1);
    mean += v;
  }
  mean /= sa.length;
  assert.ok(Math.abs(mean - 0.5) < 0.01, `mean ${mean}`);
  // rows differ between users
  assert.notDeepEqual(sa.subarray(0, 400), sa.subarray(400, 800));
  assert.throws(() => new RandomModel({ nUsers: 5, nItems: 5, seed: 1.5 }), UserError);
});

test('baselines save and load through the registry', () => {
  const dir = mkdtempSync(join(tmpdir(), 'base-'));
  try {
    const m = MostPopModel.fromTrain(train);
    saveModel(dir, m);
    const { model } = loadModel(dir, 'mostpop');
    assert.deepEqual(model.scoreAll(new Int32Array([2])), m.scoreAll(new Int32Array([2])));
    assert.throws(() => loadModel(dir, 'dmf'), UserError);
    const dir2 = join(dir, 'r');
    const r = new RandomModel({ nUsers: 5, nItems: 6, seed: 9 });
    saveModel(dir2, r);
    assert.deepEqual(loadModel(dir2, 'random').model.scoreAll(new Int32Array([3])), r.scoreAll(new Int32Array([3])));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
