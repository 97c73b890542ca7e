import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addAnchorGradient, anchorLoss, type AnchorBatch } from '../../src/calibration/loss-anchor.js';
import { SoftTopkCalibration, type SoftTopkBatch } from '../../src/calibration/loss-soft-topk.js';
import { ExtendedCaliTuneLoss, type ExtendedBatch } from '../../src/calibration/loss-extended.js';
import { CaliTuneLoss } from '../../src/calibration/loss.js';
import { DEFAULT_FINETUNE_CONFIG, validateFinetuneConfig } from '../../src/calibration/finetune-config.js';
import { formatGradCheck, gradCheck } from '../../src/nn/gradcheck.js';
import { Rng } from '../../src/math/rng.js';

function normals(rng: Rng, n: number, scale: number): Float64Array {
  return Float64Array.from({ length: n }, () => rng.normal() * scale);
}

function targets(rng: Rng, B: number, G: number): Float64Array {
  const t = new Float64Array(B * G);
  for (let b = 0; b < B; b++) {
    let sum = 0;
    for (let g = 0; g < G; g++) sum += t[b * G + g] = rng.nextFloat() + 0.05;
    for (let g = 0; g < G; g++) t[b * G + g]! /= sum;
  }
  return t;
}

function softBatch(seed: number, B: number, K: number, G: number, topK: number, temperature: number): SoftTopkBatch {
  const rng = new Rng(seed);
  const groups = Int32Array.from({ length: B * K }, () => rng.nextInt(G));
  return { B, K, G, scores: normals(rng, B * K, 2), groups, targets: targets(rng, B, G), topK, temperature };
}

/** Float64 gradient check of d(value)/d(scores), `grad` adding weight-1 gradients into a zeroed buffer. */
function checkScores(
  scores: Float64Array,
  value: () => number,
  grad: (out: Float64Array) => void,
): ReturnType<typeof gradCheck> {
  const g = new Float64Array(scores.length);
  return gradCheck([{ name: 'scores', value: scores, grad: g }], value, () => grad(g), {
    h: 1e-6,
    rtol: 1e-5,
    atol: 1e-9,
  });
}

test('anchor term: zero with zero gradient at the backbone, KL by hand, finite differences', () => {
  const base = Float64Array.from([0.5, -1, 2, 0.1]);
  const at: AnchorBatch = { B: 1, K: 4, scores: Float64Array.from(base), baseScores: base };
  assert.ok(Math.abs(anchorLoss(at)) < 1e-15);
  const g0 = new Float64Array(4);
  addAnchorGradient(at, 3, g0);
  assert.ok(g0.every((v) => Math.abs(v) < 1e-15));
  // two candidates: p⁰ = softmax(0, 0) = (½, ½), p = softmax(0, ln 3) = (¼, ¾) → KL = ½ln(2/1)·… by hand
  const two: AnchorBatch = { B: 1, K: 2, scores: Float64Array.from([0, Math.log(3)]), baseScores: new Float64Array(2) };
  const want = 0.5 * Math.log(0.5 / 0.25) + 0.5 * Math.log(0.5 / 0.75);
  assert.ok(Math.abs(anchorLoss(two) - want) < 1e-12);
  const rng = new Rng(7);
  const batch: AnchorBatch = { B: 3, K: 6, scores: normals(rng, 18, 2), baseScores: normals(rng, 18, 2) };
  assert.ok(anchorLoss(batch) > 0);
  const r = checkScores(
    batch.scores as Float64Array,
    () => 2.5 * anchorLoss(batch),
    (g) => addAnchorGradient(batch, 2.5, g),
  );
  assert.ok(r.ok, formatGradCheck(r));
  assert.ok(Number.isNaN(anchorLoss({ ...batch, scores: Float64Array.from([Number.NaN, ...batch.scores.slice(1)]) })));
});

test('soft top-k calibration: finite differences through membership, threshold and width', () => {
  const loss = new SoftTopkCalibration();
  for (const [seed, K, topK, temperature] of [
    [1, 12, 3, 0.1],
    [2, 20, 10, 0.05],
    [3, 8, 1, 0.3],
    [4, 15, 14, 0.02],
  ] as const) {
    const batch = softBatch(seed, 3, K, 3, topK, temperature);
    const r = checkScores(
      batch.scores as Float64Array,
      () => 0.7 * loss.forward(batch),
      (g) => loss.addGradient(batch, 0.7, g),
    );
    assert.ok(r.ok, `seed ${seed}: ${formatGradCheck(r)}`);
    assert.ok(r.checked === 3 * K);
  }
});

test('soft top-k calibration: small width → the hard top-k group shares; K ≤ k and flat rows → no gradient', () => {
  // scores 5, 4, 3, 2, 1 with groups 0, 0, 1, 1, 1 and k = 2: the top-2 is all group 0.
  const base: SoftTopkBatch = {
    B: 1,
    K: 5,
    G: 2,
    scores: Float64Array.from([5, 4, 3, 2, 1]),
    groups: Int32Array.from([0, 0, 1, 1, 1]),
    targets: Float64Array.from([0.5, 0.5]),
    topK: 2,
    temperature: 1e-3,
  };
  const loss = new SoftTopkCalibration();
  // Q ≈ (1, 0): KL = ½ln(½/1) + ½ln(½/ε), ε = 1e-10 (as in the reference's term)
  const want = 0.5 * Math.log(0.5) + 0.5 * Math.log((0.5 + 1e-10) / 1e-10);
  assert.ok(Math.abs(loss.forward(base) - want) < 1e-6, `${loss.forward(base)} vs ${want}`);
  // a top-2 of one candidate from each group meets the target: KL ≈ 0
  const mixed = { ...base, groups: Int32Array.from([0, 1, 0, 1, 0]) };
  assert.ok(Math.abs(loss.forward(mixed)) < 1e-6);
  for (const b of [
    { ...base, topK: 5 },
    { ...base, scores: new Float64Array(5).fill(2) },
  ]) {
    const g = new Float64Array(5);
    loss.addGradient(b, 1, g);
    assert.ok(g.every((v) => v === 0));
    assert.ok(Number.isFinite(loss.forward(b)));
  }
  assert.ok(Number.isNaN(loss.forward({ ...base, scores: Float64Array.from([5, Infinity, 3, 2, 1]) })));
});

function extendedBatch(seed: number, alpha: number): ExtendedBatch {
  const rng = new Rng(seed);
  const B = 2,
    K = 9,
    G = 3;
  return {
    B,
    K,
    G,
    scores: normals(rng, B * K, 2),
    positives: Uint8Array.from({ length: B * K }, () => (rng.nextFloat() < 0.3 ? 1 : 0)),
    groups: Int32Array.from({ length: B * K }, () => rng.nextInt(G)),
    targets: targets(rng, B, G),
    alpha,
    users: Int32Array.from([2, 1]),
    candidates: Int32Array.from({ length: B * K }, (_, i) => 1 + (i % 7)),
  };
}

test('extended loss: with both options off it is the CaliTune loss bit for bit', () => {
  const cfg = { ...DEFAULT_FINETUNE_CONFIG };
  for (const alpha of [0, 0.5, 1]) {
    const batch = extendedBatch(11, alpha);
    const ext = new ExtendedCaliTuneLoss(cfg);
    const ref = new CaliTuneLoss();
    assert.deepEqual(ext.forward(batch), ref.forward(batch));
    assert.deepEqual(ext.backward(), ref.backward());
  }
});

test('extended loss: soft top-k + anchor, value and finite-difference gradient for several α', () => {
  const nItems = 8;
  const rng = new Rng(3);
  const table = Float32Array.from({ length: 3 * nItems }, () => rng.normal());
  const cfg = {
    calibration_surrogate: 'soft_topk' as const,
    soft_topk_temperature: 0.1,
    anchor_weight: 2,
    top_k_ndcg: 3,
    calibration_user_weighting: 'uniform' as const,
  };
  for (const alpha of [0, 0.4, 1]) {
    const batch = extendedBatch(5 + alpha * 10, alpha);
    const loss = new ExtendedCaliTuneLoss(cfg, table, nItems);
    const v = loss.forward(batch);
    // the parts: (1 − α)·accuracy + α·soft calibration + 2·anchor against the table's rows
    const acc = new CaliTuneLoss().forward({ ...batch, alpha: 0 }).accuracy;
    const soft = new SoftTopkCalibration().forward({ ...batch, topK: 3, temperature: 0.1 });
    const baseScores = Float64Array.from(
      batch.candidates,
      (item, i) => table[batch.users[Math.floor(i / 9)]! * 8 + item]!,
    );
    const anchor = anchorLoss({ B: 2, K: 9, scores: batch.scores, baseScores });
    const want = (alpha < 1 ? (1 - alpha) * acc : 0) + (alpha > 0 ? alpha * soft : 0) + 2 * anchor;
    assert.ok(Math.abs(v.total - want) < 1e-12, `α ${alpha}: ${v.total} vs ${want}`);
    const scores = batch.scores as Float64Array;
    const r = checkScores(
      scores,
      () => loss.forward(batch).total,
      (g) => {
        loss.forward(batch);
        g.set(loss.backward(new Float32Array(g.length)));
      },
    );
    // the gradient is written to a Float32Array: float32 rounding bounds the agreement
    assert.ok(
      r.failures.every((f) => Math.abs(f.analytic - f.numeric) < 1e-6),
      `α ${alpha}: ${formatGradCheck(r)}`,
    );
  }
});

test('extended loss: the anchor needs the backbone score table', () => {
  const cfg = { ...DEFAULT_FINETUNE_CONFIG, anchor_weight: 1 };
  assert.throws(() => new ExtendedCaliTuneLoss(cfg), /score table/);
});

test('soft top-k calibration: row weights scale each row, value and finite-difference gradient', () => {
  const loss = new SoftTopkCalibration();
  const batch = softBatch(9, 3, 12, 3, 4, 0.1);
  const rows = new Float64Array(3);
  loss.rowValues(batch, rows);
  const rowWeights = Float64Array.from([0.5, 2, 0]);
  const weighted = { ...batch, rowWeights };
  const want = (0.5 * rows[0]! + 2 * rows[1]!) / 3;
  assert.ok(Math.abs(loss.forward(weighted) - want) < 1e-12);
  const r = checkScores(
    weighted.scores as Float64Array,
    () => loss.forward(weighted),
    (g) => loss.addGradient(weighted, 1, g),
  );
  assert.ok(r.ok, formatGradCheck(r));
  const g = new Float64Array(36);
  loss.addGradient(weighted, 1, g);
  assert.ok(
    g.subarray(24).every((v) => v === 0),
    'a row of weight 0 gets no gradient',
  );
});

test('extended loss: per-user strength weighs each user by its KL over the batch mean', () => {
  const cfg = {
    calibration_surrogate: 'soft_topk' as const,
    soft_topk_temperature: 0.1,
    anchor_weight: 0,
    top_k_ndcg: 3,
    calibration_user_weighting: 'miscalibration' as const,
  };
  const batch = extendedBatch(21, 1);
  const softBatchOf = { ...batch, topK: 3, temperature: 0.1 };
  const soft = new SoftTopkCalibration();
  const kl = new Float64Array(2);
  soft.rowValues(softBatchOf, kl);
  assert.ok(Math.abs(kl[0]! - kl[1]!) > 1e-3, 'the two users differ in miscalibration');
  const mean = (kl[0]! + kl[1]!) / 2;
  const rowWeights = Float64Array.from(kl, (v) => v / mean);
  const loss = new ExtendedCaliTuneLoss(cfg);
  const v = loss.forward(batch);
  assert.ok(Math.abs(v.calibration - (kl[0]! * rowWeights[0]! + kl[1]! * rowWeights[1]!) / 2) < 1e-12);
  const want = new Float64Array(18);
  soft.addGradient({ ...softBatchOf, rowWeights }, 1, want);
  const got = loss.backward();
  for (let i = 0; i < 18; i++) assert.ok(Math.abs(got[i]! - want[i]!) < 1e-6, `entry ${i}: ${got[i]} vs ${want[i]}`);
});

test('config: per-user strength needs the soft top-k term', () => {
  assert.throws(
    () => validateFinetuneConfig({ calibration_user_weighting: 'miscalibration' }),
    /calibration_user_weighting.*soft_topk/,
  );
  const ok = validateFinetuneConfig({
    calibration_user_weighting: 'miscalibration',
    calibration_surrogate: 'soft_topk',
  });
  assert.equal(ok.config.calibration_user_weighting, 'miscalibration');
});
