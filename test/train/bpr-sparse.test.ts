/**
 * BPR with lazy Adam (`optimizer: sparse`): the same bits as dense Adam when every row is
 * touched in every batch; otherwise it differs exactly on the rows a batch did not touch after
 * they had moved; reproducible and thread-, kernel-independent; `auto` picks by table size and
 * the result names the optimizer used.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/math/rng.js';
import { BprModel } from '../../src/models/bpr.js';
import { Adam } from '../../src/nn/adam.js';
import { SparseAdam } from '../../src/nn/sparse-adam.js';
import { SplitStepper } from '../../src/train/bpr-split-stepper.js';
import { AUTO_SPARSE_MIN_ROWS, resolveBprOptimizer, trainBpr } from '../../src/train/bpr-trainer.js';
import { parseBprConfig } from '../../src/train/configs/bpr.js';
import { UserError } from '../../src/util/errors.js';
import { csr } from '../helpers/csr.js';

/** 8 users, 12 items; every item 1..11 is a train positive, so one batch of all triples touches every row. */
function tinyData() {
  const nUsers = 9,
    nItems = 12;
  const rng = new Rng(23);
  const train: number[][] = [[]],
    valid: number[][] = [[]];
  for (let u = 1; u < nUsers; u++) {
    const items = [...rng.permutation(11).subarray(0, 4)].map((i) => i + 1);
    valid.push([items[0]!]);
    train.push(items.slice(1));
  }
  // make sure every item is some user's train positive
  for (let i = 1; i < nItems; i++) if (!train.some((l) => l.includes(i))) train[1 + (i % 8)]!.push(i);
  return { nUsers, nItems, train: csr(nItems, train), valid: csr(nItems, valid) };
}

const TINY = { dim: 6, lr: 0.05, batchSize: 1000, epochs: 6, patience: 10, seed: 4 };

test('BPR: sparse equals dense bit for bit when every batch touches every row (1 and 2 threads)', () => {
  const data = tinyData();
  for (const threads of [1, 2] as const) {
    const dense = trainBpr(data, { ...TINY, optimizer: 'dense' }, { threads, restoreBest: false });
    const sparse = trainBpr(data, { ...TINY, optimizer: 'sparse' }, { threads, restoreBest: false });
    assert.equal(dense.config.optimizer, 'dense');
    assert.equal(sparse.config.optimizer, 'sparse');
    assert.deepEqual(sparse.model.userEmb.value, dense.model.userEmb.value);
    assert.deepEqual(sparse.model.itemEmb.value, dense.model.itemEmb.value);
    assert.deepEqual(
      sparse.history.map((h) => h.loss),
      dense.history.map((h) => h.loss),
    );
  }
});

/** Shared-memory triples for the stepper. */
function triples(u: number[], p: number[], n: number[]) {
  const shared = (xs: number[]) => {
    const a = new Int32Array(new SharedArrayBuffer(xs.length * 4));
    a.set(xs);
    return a;
  };
  return { users: shared(u), pos: shared(p), neg: shared(n) };
}

test('BPR step: lazy Adam differs from dense only on rows touched before but not in this batch', () => {
  // batch 1: users 1, 2; items 1, 2, 3, 4. batch 2: users 2, 3; items 3, 4, 5, 6.
  const t = triples([1, 2, 2, 3], [1, 3, 3, 5], [2, 4, 4, 6]);
  // touched in batch 2 (whatever batch 1 did): the same update under both; only in batch 1: differ; never: stay
  const rows = {
    users: { second: [2, 3], first: [1], never: [0, 4] },
    items: { second: [3, 4, 5, 6], first: [1, 2], never: [0, 7] },
  };
  const run = (sparse: boolean, threads: number, native: boolean) => {
    const model = new BprModel({ nUsers: 5, nItems: 8, dim: 4 }, 9);
    const opts = { lr: 0.05, native };
    const adam = sparse ? new SparseAdam(model.parameters(), opts) : new Adam(model.parameters(), opts);
    const initial = [model.userEmb.value.slice(), model.itemEmb.value.slice()];
    const stepper = new SplitStepper({ model, adam, triples: t }, threads, native);
    try {
      stepper.forwardBackward(0, 2);
      stepper.adamStep();
      const afterFirst = [model.userEmb.value.slice(), model.itemEmb.value.slice()];
      stepper.forwardBackward(2, 4);
      stepper.adamStep();
      return { initial, afterFirst, final: [model.userEmb.value.slice(), model.itemEmb.value.slice()] };
    } finally {
      stepper.close();
    }
  };
  const dense = run(false, 1, true);
  const row = (a: Float32Array, r: number) => [...a.subarray(r * 4, r * 4 + 4)];
  for (const [threads, native] of [
    [1, false],
    [2, true],
    [1, true],
  ] as const) {
    const lazy = run(true, threads, native);
    // step 1 starts from zero moments: untouched rows stay put under both, so they agree everywhere
    assert.deepEqual(lazy.afterFirst, dense.afterFirst);
    ([0, 1] as const).forEach((k) => {
      const sets = k === 0 ? rows.users : rows.items;
      for (const r of sets.second)
        assert.deepEqual(row(lazy.final[k]!, r), row(dense.final[k]!, r), `row ${r} touched`);
      for (const r of sets.never) {
        assert.deepEqual(row(lazy.final[k]!, r), row(lazy.initial[k]!, r), `row ${r} never touched stays`);
        assert.deepEqual(row(dense.final[k]!, r), row(lazy.initial[k]!, r));
      }
      for (const r of sets.first) {
        // lazy: the row keeps its step-1 weights; dense: momentum moves it again in step 2
        assert.deepEqual(row(lazy.final[k]!, r), row(lazy.afterFirst[k]!, r), `row ${r} kept by lazy Adam`);
        assert.notDeepEqual(row(dense.final[k]!, r), row(dense.afterFirst[k]!, r), `row ${r} moved by dense Adam`);
      }
    });
  }
});

/** 60 users × 40 items, batches of 16: most rows are untouched in most batches. */
function sparseData() {
  const nUsers = 61,
    nItems = 41;
  const rng = new Rng(31);
  const train: number[][] = [[]],
    valid: number[][] = [[]];
  for (let u = 1; u < nUsers; u++) {
    const items = [...rng.permutation(40).subarray(0, 6)].map((i) => i + 1);
    valid.push([items[0]!]);
    train.push(items.slice(1));
  }
  return { nUsers, nItems, train: csr(nItems, train), valid: csr(nItems, valid) };
}

test('BPR sparse: reproducible, the same bits on 1 and 2 threads and with or without the native kernels', () => {
  const data = sparseData();
  const config = { dim: 8, lr: 0.02, batchSize: 16, epochs: 3, patience: 5, seed: 2, optimizer: 'sparse' as const };
  const a = trainBpr(data, config, { threads: 2 });
  const runs = [trainBpr(data, config, { threads: 2 }), trainBpr(data, config, { threads: 1, native: false })];
  for (const b of runs) {
    assert.deepEqual(b.model.userEmb.value, a.model.userEmb.value);
    assert.deepEqual(b.model.itemEmb.value, a.model.itemEmb.value);
    assert.deepEqual(
      b.history.map((h) => h.validNdcg),
      a.history.map((h) => h.validNdcg),
    );
  }
  const dense = trainBpr(data, { ...config, optimizer: 'dense' }, { threads: 2 });
  assert.notDeepEqual(dense.model.itemEmb.value, a.model.itemEmb.value, 'small batches: lazy Adam is not dense Adam');
});

test('BPR optimizer: auto is dense below AUTO_SPARSE_MIN_ROWS rows, sparse from there; bad values are named', () => {
  assert.equal(parseBprConfig().optimizer, 'auto');
  assert.equal(resolveBprOptimizer('auto', 944, 1683), 'dense'); // ML-100K
  assert.equal(resolveBprOptimizer('auto', 6041, 3707), 'dense'); // ML-1M
  assert.equal(resolveBprOptimizer('auto', 138_494, 26_745), 'sparse'); // ML-20M
  assert.equal(resolveBprOptimizer('auto', AUTO_SPARSE_MIN_ROWS - 100, 99), 'dense');
  assert.equal(resolveBprOptimizer('auto', AUTO_SPARSE_MIN_ROWS - 100, 100), 'sparse');
  assert.equal(resolveBprOptimizer('dense', 138_494, 26_745), 'dense');
  assert.equal(resolveBprOptimizer('sparse', 944, 1683), 'sparse');
  const data = tinyData();
  assert.equal(trainBpr(data, { ...TINY, epochs: 1 }).config.optimizer, 'dense');
  assert.throws(
    () => parseBprConfig({ optimizer: 'lazy' as 'sparse' }),
    (e: unknown) => e instanceof UserError && /optimizer must be one of 'auto', 'dense', 'sparse'/.test(e.message),
  );
});
