import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BprModel } from '../../src/models/bpr.js';
import { fullSortEval, FullSortEvaluator } from '../../src/train/full-sort-eval.js';
import { csr } from '../helpers/csr.js';

/** Every user scores item j as 10 − j except item 0 (highest of all, must be masked). */
function fixedModel(): BprModel {
  const m = new BprModel({ nUsers: 4, nItems: 6, dim: 2 }, 1);
  m.userEmb.value.set([1, 0, 1, 0, 1, 0, 1, 0]);
  m.itemEmb.value.set([100, 0, 5, 0, 4, 0, 3, 0, 2, 0, 1, 0]);
  return m;
}

const train = csr(6, [[], [1], [], [2, 3]]);
const valid = csr(6, [[], [3], [], [1, 5]]);

test('hand-computed NDCG@3 with train masking; empty users skipped as RecBole does', () => {
  // user 1: list 2,3,4 → hit at rank 2 → 1/log2(3) = 0.630930
  // user 3: list 1,4,5 → hits at ranks 1, 3 → (1 + 1/2) / (1 + 1/log2(3)) = 0.919721
  const u1 = 1 / Math.log2(3),
    u3 = 1.5 / (1 + 1 / Math.log2(3));
  for (const blockSize of [1, 2, 256]) {
    const r = fullSortEval(fixedModel(), { mask: [train], target: valid, k: 3, blockSize, keepLists: true });
    assert.equal(r.nEvaluated, 2);
    assert.ok(Math.abs(r.ndcg - (u1 + u3) / 2) < 1e-12, `${r.ndcg}`);
    assert.ok(Number.isNaN(r.perUser[0]!) && Number.isNaN(r.perUser[2]!));
    assert.deepEqual([...r.lists!], [-1, -1, -1, 2, 3, 4, -1, -1, -1, 1, 4, 5]);
  }
  assert.ok(Math.abs(u1 - 0.63093) < 1e-5 && Math.abs(u3 - 0.919721) < 1e-5);
  // the reference's own evaluation counts empty users as 0
  const r0 = fullSortEval(fixedModel(), { mask: [train], target: valid, k: 3, skipEmpty: false });
  assert.equal(r0.nEvaluated, 3);
  assert.ok(Math.abs(r0.ndcg - (u1 + u3) / 3) < 1e-12);
});

test('test-time lists mask train and valid; the evaluator reuses its buffers', () => {
  const test_ = csr(6, [[], [2], [], [4]]);
  const ev = new FullSortEvaluator();
  for (let rep = 0; rep < 2; rep++) {
    const r = ev.evaluate(fixedModel(), { mask: [train, valid], target: test_, k: 2, keepLists: true });
    // user 1: masked 1, 3 → list 2,4 → hit at rank 1 → 1; user 3: masked 1,2,3,5 → list 4 (then -1) → 1
    assert.deepEqual([...r.lists!.subarray(2, 4)], [2, 4]);
    assert.deepEqual([...r.lists!.subarray(6, 8)], [4, -1]);
    assert.equal(r.ndcg, 1);
  }
});
