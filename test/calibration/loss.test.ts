import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CaliTuneLoss, caliTuneLoss, CALIBRATION_EPS, type CaliTuneBatch } from '../../src/calibration/loss.js';
import { Rng } from '../../src/math/rng.js';

/** Float64 central differences of the total loss w.r.t. every score. */
function fdGrad(batch: CaliTuneBatch, h = 1e-6): Float64Array {
  const s = Float64Array.from(batch.scores);
  const out = new Float64Array(s.length);
  const loss = new CaliTuneLoss();
  for (let i = 0; i < s.length; i++) {
    const v = s[i]!;
    s[i] = v + h;
    const lp = loss.forward({ ...batch, scores: s }).total;
    s[i] = v - h;
    const lm = loss.forward({ ...batch, scores: s }).total;
    s[i] = v;
    out[i] = (lp - lm) / (2 * h);
  }
  return out;
}

function assertGradMatches(batch: CaliTuneBatch, tol = 1e-5): void {
  const an = caliTuneLoss({ ...batch, scores: Float64Array.from(batch.scores) }).dScores;
  const num = fdGrad(batch);
  for (let i = 0; i < num.length; i++) {
    const err = Math.abs(an[i]! - num[i]!);
    assert.ok(err <= tol * Math.max(1, Math.abs(num[i]!)), `entry ${i}: analytic ${an[i]} vs numeric ${num[i]}`);
  }
}

function randomBatch(seed: number, B: number, K: number, G: number, alpha: number): CaliTuneBatch {
  const rng = new Rng(seed);
  const scores = new Float64Array(B * K);
  for (let i = 0; i < scores.length; i++) scores[i] = rng.normal() * 2;
  const positives = new Uint8Array(B * K);
  for (let i = 0; i < positives.length; i++) positives[i] = rng.nextFloat() < 0.3 ? 1 : 0;
  const groups = new Int32Array(B * K);
  for (let i = 0; i < groups.length; i++) groups[i] = rng.nextInt(G);
  const targets = new Float64Array(B * G);
  for (let b = 0; b < B; b++) {
    let t = 0;
    for (let g = 0; g < G; g++) {
      targets[b * G + g] = rng.nextFloat() + 0.05;
      t += targets[b * G + g]!;
    }
    for (let g = 0; g < G; g++) targets[b * G + g]! /= t;
  }
  return { B, K, G, scores, positives, groups, targets, alpha };
}

test('known answer: hand-computed accuracy and calibration terms and gradient', () => {
  // One user, K = 3, scores (0, 1, 3), candidate 1 is a train positive, groups (0, 1, 0), P = (½, ½).
  const batch: CaliTuneBatch = {
    B: 1,
    K: 3,
    G: 2,
    scores: new Float32Array([0, 1, 3]),
    positives: new Uint8Array([0, 1, 0]),
    groups: new Int32Array([0, 1, 0]),
    targets: new Float64Array([0.5, 0.5]),
    alpha: 0.5,
  };
  const r = caliTuneLoss(batch);
  // Accuracy: t = (1, e, 1)/(e+2), p = (1, e, e³)/(1+e+e³) → KL = ln(Zs/Zt) − 3/(e+2).
  const e = Math.E;
  const accExpected = Math.log((1 + e + e ** 3) / (e + 2)) - 3 / (e + 2);
  assert.ok(Math.abs(accExpected - 0.9825766) < 1e-6);
  assert.ok(Math.abs(r.accuracy - accExpected) < 1e-12);
  // Calibration: r = (0, 1/3, 1), w = (1, 1/3), Q = (3/4, 1/4) → KL = ½ln(4/3) (+ O(ε)).
  const calExpected = 0.5 * Math.log(0.5 / 0.75) + 0.5 * Math.log(0.5 / 0.25);
  assert.ok(Math.abs(calExpected - 0.143841) < 1e-6);
  assert.ok(Math.abs(r.calibration - calExpected) < 1e-9);
  assert.ok(Math.abs(r.total - 0.5 * (accExpected + calExpected)) < 1e-9);
  // Calibration gradient by hand: ∂L/∂Q = (−2/3, −2), ∂L/∂w = (1/4, −3/4), ∂L/∂s = (1/6, −1/4, 1/12).
  const calOnly = caliTuneLoss({ ...batch, alpha: 1 });
  assert.equal(calOnly.accuracy, 0);
  assert.equal(calOnly.accuracyComputed, false);
  const want = [1 / 6, -1 / 4, 1 / 12];
  for (let c = 0; c < 3; c++)
    assert.ok(Math.abs(calOnly.dScores[c]! - want[c]!) < 1e-6, `cal grad ${c}: ${calOnly.dScores[c]}`);
  // Accuracy gradient: softmax(s) − t.
  const accOnly = caliTuneLoss({ ...batch, alpha: 0 });
  assert.equal(accOnly.calibration, 0);
  const zs = 1 + e + e ** 3,
    zt = e + 2;
  const wantAcc = [1 / zs - 1 / zt, e / zs - e / zt, e ** 3 / zs - 1 / zt];
  for (let c = 0; c < 3; c++) assert.ok(Math.abs(accOnly.dScores[c]! - wantAcc[c]!) < 1e-6);
});

test('finite differences: accuracy term (α = 0), calibration term (α = 1) and mixes', () => {
  for (const alpha of [0, 1, 0.5, 0.2]) {
    for (const seed of [1, 2, 3]) assertGradMatches(randomBatch(seed * 17 + alpha * 100, 3, 7, 3, alpha));
  }
});

test('batchmean: the loss of a batch is the mean of per-user losses', () => {
  const batch = randomBatch(5, 4, 6, 3, 0.5);
  const whole = caliTuneLoss(batch);
  let acc = 0,
    cal = 0;
  for (let b = 0; b < 4; b++) {
    const one = caliTuneLoss({
      ...batch,
      B: 1,
      scores: batch.scores.slice(b * 6, b * 6 + 6),
      positives: batch.positives.slice(b * 6, b * 6 + 6),
      groups: batch.groups.slice(b * 6, b * 6 + 6),
      targets: batch.targets.slice(b * 3, b * 3 + 3),
    });
    acc += one.accuracy;
    cal += one.calibration;
  }
  assert.ok(Math.abs(whole.accuracy - acc / 4) < 1e-12);
  assert.ok(Math.abs(whole.calibration - cal / 4) < 1e-12);
});

test('edge case: a group with zero weight (no candidate in it / only the minimum in it)', () => {
  // Group 2 has no candidate: w_2 = 0, Q_2 = 0, the log uses ε; gradients stay finite and match FD.
  const none: CaliTuneBatch = {
    B: 1,
    K: 4,
    G: 3,
    scores: new Float64Array([0.3, -1.2, 2.0, 0.9]),
    positives: new Uint8Array([1, 0, 0, 0]),
    groups: new Int32Array([0, 1, 0, 1]),
    targets: new Float64Array([0.2, 0.3, 0.5]),
    alpha: 0.7,
  };
  const r = caliTuneLoss(none);
  // r = (1.5, 0, 3.2, 2.1)/3.2 → w = (4.7, 2.1, 0)/3.2, Q = (4.7, 2.1, 0)/6.8.
  const Q = [4.7 / 6.8, 2.1 / 6.8, 0];
  const P = [0.2, 0.3, 0.5];
  let calExpected = 0;
  for (let g = 0; g < 3; g++)
    calExpected += (P[g]! + CALIBRATION_EPS) * (Math.log(P[g]! + CALIBRATION_EPS) - Math.log(Q[g]! + CALIBRATION_EPS));
  assert.ok(Math.abs(r.calibration - calExpected) < 1e-9);
  assert.ok(r.calibration > 10, 'the empty group dominates: 0.5·ln(0.5/1e-10) ≈ 11.2');
  assert.ok(r.dScores.every(Number.isFinite));
  assertGradMatches(none);
  // Group 2 holds only the minimum candidate (r = 0 ⇒ w_2 = 0): exact gradient, no cancellation noise.
  const minOnly: CaliTuneBatch = { ...none, groups: new Int32Array([0, 2, 0, 1]) };
  const r2 = caliTuneLoss({ ...minOnly, alpha: 1 });
  assert.ok(
    r2.dScores.every((v) => Number.isFinite(v) && Math.abs(v) < 10),
    `gradient ${Array.from(r2.dScores)}`,
  );
  assertGradMatches({ ...minOnly, alpha: 1 });
  assertGradMatches(minOnly);
});

test('edge case: all candidate scores equal → r uniform, calibration gradient zero', () => {
  const batch: CaliTuneBatch = {
    B: 2,
    K: 4,
    G: 2,
    scores: new Float32Array([1.5, 1.5, 1.5, 1.5, 0.2, -0.4, 0.9, 0.1]),
    positives: new Uint8Array([1, 0, 0, 0, 0, 1, 0, 0]),
    groups: new Int32Array([0, 0, 0, 1, 0, 1, 1, 0]),
    targets: new Float64Array([0.5, 0.5, 0.4, 0.6]),
    alpha: 1,
  };
  const r = caliTuneLoss(batch);
  // User 0: Q = (3/4, 1/4) (share of candidates per group).
  const u0 = 0.5 * Math.log(0.5 / 0.75) + 0.5 * Math.log(0.5 / 0.25);
  const u1 = caliTuneLoss({
    ...batch,
    B: 1,
    scores: batch.scores.slice(4),
    positives: batch.positives.slice(4),
    groups: batch.groups.slice(4),
    targets: batch.targets.slice(2),
  }).calibration;
  assert.ok(Math.abs(r.calibration - (u0 + u1) / 2) < 1e-9);
  for (let c = 0; c < 4; c++) assert.equal(r.dScores[c], 0);
  assert.ok(r.dScores.slice(4).some((v) => v !== 0));
  // Mixed: the flat user's gradient is the accuracy term's alone, and matches FD on the other user.
  const mixed = caliTuneLoss({ ...batch, alpha: 0.5 });
  const acc = caliTuneLoss({ ...batch, alpha: 0 });
  for (let c = 0; c < 4; c++) assert.ok(Math.abs(mixed.dScores[c]! - 0.5 * acc.dScores[c]!) < 1e-7);
  // K = 1 is flat too: Q is the one-hot of the candidate's group.
  const k1 = caliTuneLoss({
    B: 1,
    K: 1,
    G: 2,
    scores: new Float32Array([3]),
    positives: new Uint8Array([1]),
    groups: new Int32Array([1]),
    targets: new Float64Array([0.25, 0.75]),
    alpha: 1,
  });
  const want =
    (0.25 + 1e-10) * (Math.log(0.25 + 1e-10) - Math.log(1e-10)) +
    (0.75 + 1e-10) * (Math.log(0.75 + 1e-10) - Math.log(1 + 1e-10));
  assert.ok(Math.abs(k1.calibration - want) < 1e-9);
  assert.equal(k1.dScores[0], 0);
});

test('edge case: Σw = 0 (candidates without a group) → Q = 0, constant term, zero gradient', () => {
  const batch: CaliTuneBatch = {
    B: 1,
    K: 3,
    G: 2,
    scores: new Float32Array([0.1, 0.5, 2]),
    positives: new Uint8Array([0, 0, 1]),
    groups: new Int32Array([0, -1, -1]),
    targets: new Float64Array([0.3, 0.7]),
    alpha: 1,
  };
  const r = caliTuneLoss(batch);
  const want = 0.3 * Math.log(0.3 / 1e-10) + 0.7 * Math.log(0.7 / 1e-10);
  assert.ok(Math.abs(r.calibration - want) < 1e-6);
  assert.deepEqual(Array.from(r.dScores), [0, 0, 0]);
});

test('ties at the maximum: gradient goes to the first maximum (PyTorch max(dim) semantics)', () => {
  const batch: CaliTuneBatch = {
    B: 1,
    K: 4,
    G: 2,
    scores: new Float64Array([0, 2, 2, 1]),
    positives: new Uint8Array([0, 1, 0, 0]),
    groups: new Int32Array([0, 1, 0, 1]),
    targets: new Float64Array([0.6, 0.4]),
    alpha: 1,
  };
  const r = caliTuneLoss(batch);
  let sum = 0;
  for (const v of r.dScores) sum += v;
  assert.ok(Math.abs(sum) < 1e-7, 'shift invariance: gradients sum to 0');
  // Candidate 2 (second maximum) is treated as an ordinary candidate: ∂/∂s_2 = ∂L/∂r_2 / D.
  assert.notEqual(r.dScores[1], r.dScores[2]);
});

test('non-finite score → NaN loss; bad shapes and alpha rejected', () => {
  const batch = randomBatch(9, 2, 4, 3, 0.5);
  const s = Float64Array.from(batch.scores);
  s[3] = NaN;
  assert.ok(Number.isNaN(new CaliTuneLoss().forward({ ...batch, scores: s }).total));
  assert.throws(() => new CaliTuneLoss().forward({ ...batch, alpha: 1.5 }), /alpha/);
  assert.throws(() => new CaliTuneLoss().forward({ ...batch, K: 5 }), /B×K/);
  assert.throws(() => new CaliTuneLoss().backward(), /before forward/);
});
