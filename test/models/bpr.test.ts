import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BprModel, bprLossAndGrad, xavierNormal } from '../../src/models/bpr.js';
import { gradCheck, formatGradCheck } from '../../src/nn/gradcheck.js';
import { Rng } from '../../src/math/rng.js';
import { UserError } from '../../src/util/errors.js';

test('xavier-normal uses PyTorch fans: std = sqrt(2 / (rows + cols))', () => {
  const rows = 1500,
    cols = 100;
  const w = xavierNormal(new Float32Array(rows * cols), rows, cols, new Rng(3));
  let s = 0,
    s2 = 0;
  for (const x of w) {
    s += x;
    s2 += x * x;
  }
  const mean = s / w.length,
    std = Math.sqrt(s2 / w.length - mean * mean);
  const want = Math.sqrt(2 / 1600); // 0.035355
  assert.ok(Math.abs(std - want) / want < 0.01, `std ${std} vs ${want}`);
  assert.ok(Math.abs(mean) < 3e-4);
  const m = new BprModel({ nUsers: 7, nItems: 9, dim: 4 }, 1);
  assert.deepEqual(
    m.parameters().map((p) => [p.name, p.shape, p.itemSide]),
    [
      ['user_embedding.weight', [7, 4], false],
      ['item_embedding.weight', [9, 4], true],
    ],
  );
  assert.deepEqual(m.hyper, { nUsers: 7, nItems: 9, dim: 4 });
});

test('same seed → same weights; different seed → different', () => {
  const a = new BprModel({ nUsers: 5, nItems: 6, dim: 3 }, 42);
  const b = new BprModel({ nUsers: 5, nItems: 6, dim: 3 }, 42);
  const c = new BprModel({ nUsers: 5, nItems: 6, dim: 3 }, 43);
  assert.deepEqual(a.userEmb.value, b.userEmb.value);
  assert.deepEqual(a.itemEmb.value, b.itemEmb.value);
  assert.notDeepEqual(a.itemEmb.value, c.itemEmb.value);
});

test('non-positive sizes are UserErrors', () => {
  assert.throws(() => new BprModel({ nUsers: 0, nItems: 5, dim: 4 }), UserError);
  assert.throws(() => new BprModel({ nUsers: 3, nItems: 5, dim: -2 }), /dim must be a positive integer/);
  assert.throws(() => new BprModel({ nUsers: 3, nItems: 2.5, dim: 4 }), UserError);
});

test('scoreAll = dot products (sgemm NT), any user order, several blocks', () => {
  const m = new BprModel({ nUsers: 600, nItems: 13, dim: 5 }, 7);
  const users = Int32Array.from({ length: 600 }, (_, i) => (i * 37) % 600);
  const s = m.scoreAll(users);
  assert.equal(s.length, 600 * 13);
  const U = m.userEmb.value,
    I = m.itemEmb.value;
  for (const r of [0, 1, 299, 511, 512, 599]) {
    for (let j = 0; j < 13; j++) {
      let d = 0;
      for (let q = 0; q < 5; q++) d += U[users[r]! * 5 + q]! * I[j * 5 + q]!;
      assert.ok(Math.abs(s[r * 13 + j]! - d) < 1e-6);
    }
  }
  // hand-made 1-d case
  m.userEmb.value.fill(0);
  m.itemEmb.value.fill(0);
  m.userEmb.value.set([1, 2, 0, 0, 0], 5 * 3);
  m.itemEmb.value.set([3, -1, 0, 0, 0], 5 * 2);
  assert.equal(m.scoreAll(new Int32Array([3]))[2], 1);
});

test('BPR loss: −log(1e-10 + σ(x)) and derivative', () => {
  const [l0, d0] = bprLossAndGrad(0);
  assert.ok(Math.abs(l0 - Math.LN2) < 1e-9);
  assert.ok(Math.abs(d0 + 0.5) < 1e-9);
  const [l, d] = bprLossAndGrad(2);
  const sig = 1 / (1 + Math.exp(-2));
  assert.ok(Math.abs(l + Math.log(1e-10 + sig)) < 1e-12);
  assert.ok(Math.abs(d + (1 - sig)) < 1e-9);
  // very negative margin: γ keeps the loss finite
  assert.ok(Number.isFinite(bprLossAndGrad(-200)[0]));
});

test('fused BPR forward/backward passes the finite-difference check', () => {
  const m = new BprModel({ nUsers: 4, nItems: 6, dim: 3 }, 5);
  // scale up so the sigmoid is away from its linear region
  for (const p of m.parameters()) for (let i = 0; i < p.value.length; i++) p.value[i]! *= 3;
  const users = new Int32Array([1, 2, 3, 1, 1]);
  const pos = new Int32Array([1, 2, 5, 4, 1]);
  const neg = new Int32Array([3, 4, 1, 2, 5]); // item 1 both as pos and neg; user 1 repeated
  let fusedLoss = 0;
  const r = gradCheck(
    m.parameters(),
    () => m.bprLoss(users, pos, neg),
    () => {
      fusedLoss = m.bprForwardBackward(users, pos, neg, 0, users.length);
    },
    { h: 1e-2, rtol: 2e-3, atol: 1e-6 },
  );
  assert.ok(r.ok, formatGradCheck(r));
  assert.ok(Math.abs(fusedLoss - m.bprLoss(users, pos, neg)) < 1e-6);
  // padding rows and unused rows get no gradient
  assert.deepEqual([...m.userEmb.grad.subarray(0, 3)], [0, 0, 0]);
  assert.deepEqual([...m.itemEmb.grad.subarray(0, 3)], [0, 0, 0]);
});

test('forwardCandidates / backwardCandidates pass the finite-difference check', () => {
  const m = new BprModel({ nUsers: 5, nItems: 8, dim: 6 }, 9);
  const users = new Int32Array([1, 4, 1]);
  const k = 3;
  const cands = new Int32Array([1, 2, 3, 3, 7, 7, 5, 1, 6]);
  const w = Float32Array.from({ length: 9 }, (_, i) => Math.sin(i + 1));
  const lossOf = () => {
    const s = m.forwardCandidates(users, cands, k);
    let l = 0;
    for (let i = 0; i < s.length; i++) l += w[i]! * s[i]! + 0.5 * s[i]! * s[i]!;
    return l;
  };
  // loss in float64 from the float32 weights, for the numeric side
  const U = m.userEmb.value,
    I = m.itemEmb.value;
  const loss64 = () => {
    let l = 0;
    for (let r = 0; r < 3; r++)
      for (let c = 0; c < k; c++) {
        let s = 0;
        for (let q = 0; q < 6; q++) s += U[users[r]! * 6 + q]! * I[cands[r * k + c]! * 6 + q]!;
        l += w[r * k + c]! * s + 0.5 * s * s;
      }
    return l;
  };
  const r = gradCheck(
    m.parameters(),
    loss64,
    () => {
      const s = m.forwardCandidates(users, cands, k);
      const d = new Float32Array(s.length);
      for (let i = 0; i < s.length; i++) d[i] = w[i]! + s[i]!;
      m.backwardCandidates(d);
    },
    { h: 1e-2, rtol: 1e-3, atol: 1e-5 },
  );
  assert.ok(r.ok, formatGradCheck(r));
  assert.ok(Math.abs(lossOf() - loss64()) < 1e-4);
  assert.throws(() => m.forwardCandidates(users, cands, 2), RangeError);
});

test('snapshot copies; loadWeights checks sizes', () => {
  const m = new BprModel({ nUsers: 3, nItems: 4, dim: 2 }, 1);
  const snap = m.snapshot();
  const before = snap['user_embedding.weight']![2]!;
  m.userEmb.value[2] = 123;
  assert.equal(snap['user_embedding.weight']![2], before);
  m.loadWeights(snap);
  assert.equal(m.userEmb.value[2], before);
  assert.throws(() => m.loadWeights({ ...snap, 'item_embedding.weight': new Float32Array(3) }), UserError);
});
