import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { csrTranspose } from '../../src/math/csr.js';
import { Rng } from '../../src/math/rng.js';
import { bceWithLogits, DmfModel } from '../../src/models/dmf.js';
import { loadModel, saveModel } from '../../src/models/model-file.js';
import { formatGradCheck, gradCheck } from '../../src/nn/gradcheck.js';
import { USER_ADAPTER_TENSOR } from '../../src/models/recommender.js';
import { UserError } from '../../src/util/errors.js';
import { csr } from '../helpers/csr.js';

// 5 users (0 = padding), 7 items (0 = padding); item 6 has no train interaction
const train = csr(7, [[], [1, 2, 3], [2, 4], [1, 5], [3, 4, 5]]);
const trainT = csrTranspose(train);
const hyper = { nUsers: 5, nItems: 7, userEmbeddingSize: 6, itemEmbeddingSize: 5, userHidden: [4, 3], itemHidden: [3] };

function model(seed = 1, scale = 30): DmfModel {
  const m = new DmfModel(hyper, seed);
  // N(0, 0.01) weights make every score ≈ 0: scale up (and give biases values) for the checks
  const rng = new Rng(seed + 100);
  for (const p of m.parameters())
    for (let i = 0; i < p.value.length; i++)
      p.value[i] = p.name.endsWith('.bias') ? 0.2 * rng.normal() : p.value[i]! * scale;
  m.setTrainMatrix(train);
  return m;
}

test('DMF parameters: RecBole names, shapes, item-side flags, N(0, 0.01) init with zero biases', () => {
  const m = new DmfModel(
    { nUsers: 300, nItems: 400, userEmbeddingSize: 64, itemEmbeddingSize: 64, userHidden: [32, 16], itemHidden: [16] },
    3,
  );
  assert.deepEqual(
    m.parameters().map((p) => [p.name, p.shape.join('x'), p.itemSide]),
    [
      ['user_linear.weight', '400x64', false],
      ['user_fc_layers.mlp_layers.1.weight', '32x64', false],
      ['user_fc_layers.mlp_layers.1.bias', '32', false],
      ['user_fc_layers.mlp_layers.4.weight', '16x32', false],
      ['user_fc_layers.mlp_layers.4.bias', '16', false],
      ['item_linear.weight', '300x64', true],
      ['item_fc_layers.mlp_layers.1.weight', '16x64', true],
      ['item_fc_layers.mlp_layers.1.bias', '16', true],
    ],
  );
  const w = m.parameters()[0]!.value;
  let s2 = 0;
  for (const v of w) s2 += v * v;
  assert.ok(Math.abs(Math.sqrt(s2 / w.length) - 0.01) < 0.0005);
  assert.ok(
    m
      .parameters()
      .filter((p) => p.name.endsWith('.bias'))
      .every((p) => p.value.every((v) => v === 0)),
  );
  assert.equal(m.dim, 16);
});

test('hidden sizes that do not chain or are not positive are UserErrors', () => {
  assert.throws(
    () => new DmfModel({ ...hyper, itemHidden: [4] }),
    (e: unknown) => e instanceof UserError && /do not chain/.test(e.message),
  );
  assert.throws(() => new DmfModel({ ...hyper, userHidden: [4, 0] }), UserError);
  assert.throws(() => new DmfModel({ ...hyper, userHidden: [] }), UserError);
  assert.throws(() => new DmfModel({ ...hyper, userEmbeddingSize: -1 }), UserError);
  assert.throws(() => model().setTrainMatrix(csr(6, [[], [], [], [], []])), UserError);
  assert.throws(() => new DmfModel(hyper).scoreAll(new Int32Array([1])), /setTrainMatrix/);
});

test('scoreAll = σ(user tower · item tower); the empty item column gives finite scores', () => {
  const m = model();
  const users = new Int32Array([1, 2, 3, 4, 0]);
  const s = m.scoreAll(users);
  for (const v of s) assert.ok(Number.isFinite(v) && v > 0 && v < 1);
  // against the candidate path and the hand-computed logit
  const cands = new Int32Array(users.length * 7);
  for (let r = 0; r < users.length; r++) for (let j = 0; j < 7; j++) cands[r * 7 + j] = j;
  const c = m.forwardCandidates(users, cands, 7);
  // the candidate path returns logits (the reference's CaliDMF.forward): σ(logit) = scoreAll
  for (let i = 0; i < s.length; i++) assert.ok(Math.abs(1 / (1 + Math.exp(-c[i]!)) - s[i]!) < 1e-6);
  assert.ok(c.some((v) => v !== 0));
  // item 6 (and padding 0) have an empty column: their tower output is the MLP of zeros
  const I = m.itemEmbeddings();
  assert.deepEqual(Array.from(I.subarray(6 * 3, 7 * 3)), Array.from(I.subarray(0, 3)));
  // the cache follows weight changes made behind the model's back
  const before = m.scoreAll(new Int32Array([1]));
  m.item.first.value[3 * 5]! += 1; // a weight of user 3's row in item_linear
  const after = m.scoreAll(new Int32Array([1]));
  assert.notDeepEqual(after, before);
});

test('pointwise BCE-with-logits forward/backward passes the finite-difference check', () => {
  const m = model(2);
  const users = new Int32Array([1, 2, 1, 3, 4, 4]);
  const items = new Int32Array([2, 4, 6, 5, 1, 3]);
  const labels = new Float32Array([1, 1, 0, 1, 0, 1]);
  let loss = 0;
  const r = gradCheck(
    m.parameters(),
    () => m.pointwiseLoss(users, items, labels),
    () => {
      loss = m.pointwiseForwardBackward(users, items, labels);
    },
    { h: 1e-3, rtol: 1e-2, atol: 1e-4 },
  );
  assert.ok(r.ok, formatGradCheck(r));
  assert.ok(Math.abs(loss - m.pointwiseLoss(users, items, labels)) < 1e-5);
  assert.ok(Math.abs(bceWithLogits(0, 1) - Math.LN2) < 1e-12);
  assert.ok(Math.abs(bceWithLogits(-800, 1) - 800) < 1e-9); // no overflow
});

test('candidate path (logits) gradient check; freezing the item tower', () => {
  const m = model(7); // a seed whose ReLU pre-activations stay clear of 0 under the ±h steps
  const users = new Int32Array([1, 4, 2]);
  const k = 3;
  const cands = new Int32Array([2, 6, 3, 1, 5, 2, 6, 4, 1]);
  const c = new Float32Array([0.3, -1, 2, 0.5, 1, -0.7, 1.5, 0.2, -2]);
  const lossFn = () => {
    // the loss is linear in the logits: the towers' inference outputs, dotted in float64
    const all = new Int32Array([0, 1, 2, 3, 4, 5, 6]);
    const U = m.user.predict(train, users, new Float32Array(3 * m.dim));
    const I = m.item.predict(trainT, all, new Float32Array(7 * m.dim));
    let v = 0;
    for (let r = 0; r < 3; r++) {
      for (let q = 0; q < k; q++) {
        const it = cands[r * k + q]!;
        let dot = 0;
        for (let j = 0; j < m.dim; j++) dot += U[r * m.dim + j]! * I[it * m.dim + j]!;
        v += c[r * k + q]! * dot;
      }
    }
    return v;
  };
  const r = gradCheck(
    m.parameters(),
    lossFn,
    () => {
      m.forwardCandidates(users, cands, k);
      m.backwardCandidates(c);
    },
    { h: 1e-3, rtol: 1e-2, atol: 1e-4 },
  );
  assert.ok(r.ok, formatGradCheck(r));
  m.setItemsFrozen(true);
  m.zeroGrad();
  m.forwardCandidates(users, cands, k);
  m.backwardCandidates(c);
  for (const p of m.parameters()) {
    const nz = p.grad.some((v) => v !== 0);
    if (p.itemSide) assert.ok(!nz, `${p.name} has a gradient while frozen`);
  }
  assert.ok(m.parameters()[0]!.grad.some((v) => v !== 0));
});

test('user adapter: a zero offset changes nothing; gradient check with the tower frozen; scores include it', () => {
  const m = model(7);
  const users = new Int32Array([1, 4, 2, 4]); // user 4 twice: its adapter row gets both rows' gradients
  const k = 3;
  const cands = new Int32Array([2, 6, 3, 1, 5, 2, 6, 4, 1, 3, 2, 5]);
  const c = new Float32Array([0.3, -1, 2, 0.5, 1, -0.7, 1.5, 0.2, -2, 0.4, 0.9, -0.3]);
  const before = m.scoreAll(new Int32Array([1, 2, 3, 4]));
  const logits0 = m.forwardCandidates(users, cands, k).slice();
  const a = m.enableUserAdapter();
  assert.equal(a.name, USER_ADAPTER_TENSOR);
  assert.deepEqual(a.shape, [5, m.dim]);
  assert.equal(a.itemSide, false);
  assert.equal(m.enableUserAdapter(), a, 'a second call returns the same tensor');
  assert.ok(m.parameters().includes(a));
  assert.deepEqual(m.scoreAll(new Int32Array([1, 2, 3, 4])), before, 'zero offset: same scores');
  assert.deepEqual(m.forwardCandidates(users, cands, k), logits0, 'zero offset: same logits');
  const rng = new Rng(5);
  for (let i = 0; i < a.value.length; i++) a.value[i] = 0.5 * rng.normal();
  const lossFn = () => {
    const all = new Int32Array([0, 1, 2, 3, 4, 5, 6]);
    const U = m.user.predict(train, users, new Float32Array(users.length * m.dim));
    const I = m.item.predict(trainT, all, new Float32Array(7 * m.dim));
    let v = 0;
    for (let r = 0; r < users.length; r++) {
      for (let q = 0; q < k; q++) {
        const it = cands[r * k + q]!;
        let dot = 0;
        for (let j = 0; j < m.dim; j++)
          dot += (U[r * m.dim + j]! + a.value[users[r]! * m.dim + j]!) * I[it * m.dim + j]!;
        v += c[r * k + q]! * dot;
      }
    }
    return v;
  };
  // the adapter and the item tower get exact gradients; the user tower gets none (frozen)
  const trained = m.parameters().filter((p) => p === a || p.itemSide);
  const r = gradCheck(
    trained,
    lossFn,
    () => {
      m.forwardCandidates(users, cands, k);
      m.backwardCandidates(c.slice());
    },
    { h: 1e-3, rtol: 1e-2, atol: 1e-4 },
  );
  assert.ok(r.ok, formatGradCheck(r));
  m.zeroGrad();
  m.forwardCandidates(users, cands, k);
  m.backwardCandidates(c.slice());
  for (const p of m.parameters())
    if (!p.itemSide && p !== a) assert.ok(!p.grad.some((v) => v !== 0), `${p.name} has a gradient`);
  assert.ok(a.grad.some((v) => v !== 0));
  for (const u of [0, 3])
    assert.ok(!a.grad.subarray(u * m.dim, (u + 1) * m.dim).some((v) => v !== 0), `user ${u} is not in the batch`);
  assert.deepEqual([...m.candidateGradRows(USER_ADAPTER_TENSOR)!].sort(), [1, 2, 4]);
  // full-sort scores = σ((tower + offset) · item)
  const s = m.scoreAll(new Int32Array([2]));
  const U = m.user.predict(train, new Int32Array([2]), new Float32Array(m.dim));
  const I = m.itemEmbeddings();
  for (let it = 0; it < 7; it++) {
    let dot = 0;
    for (let j = 0; j < m.dim; j++) dot += (U[j]! + a.value[2 * m.dim + j]!) * I[it * m.dim + j]!;
    assert.ok(Math.abs(s[it]! - 1 / (1 + Math.exp(-dot))) < 1e-5);
  }
  assert.throws(
    () => m.pointwiseForwardBackward(new Int32Array([1]), new Int32Array([2]), new Float32Array([1])),
    /not for backbone training/,
  );
});

test('save/load round trip; a sidecar of another type is a UserError', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dmf-'));
  try {
    const m = model(4);
    saveModel(dir, m);
    const { model: back, sidecar } = loadModel(dir, 'dmf');
    assert.equal(sidecar.model_type, 'dmf');
    assert.deepEqual(sidecar.sizes.userHidden, [4, 3]);
    assert.ok(back instanceof DmfModel);
    (back as DmfModel).setTrainMatrix(train);
    const users = new Int32Array([1, 2, 3, 4]);
    assert.deepEqual(back.scoreAll(users), m.scoreAll(users));
    assert.throws(
      () => loadModel(dir, 'bpr'),
      (e: unknown) => e instanceof UserError && /dmf model, not bpr/.test(e.message),
    );
    assert.throws(() => loadModel(dir, 'multivae'), UserError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
