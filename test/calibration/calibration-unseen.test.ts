import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SoftTopkCalibration, type SoftTopkBatch } from '../../src/calibration/loss-soft-topk.js';
import { validateFinetuneConfig } from '../../src/calibration/finetune-config.js';
import { formatGradCheck, gradCheck } from '../../src/nn/gradcheck.js';
import { Rng } from '../../src/math/rng.js';

const B = 3,
  K = 14,
  G = 3,
  TOP_K = 4;

/** A batch whose users' highest-scored candidates are mostly excluded (train items score high). */
function batch(seed: number): SoftTopkBatch & { scores: Float64Array; excluded: Uint8Array } {
  const rng = new Rng(seed);
  const excluded = Uint8Array.from({ length: B * K }, (_, i) => (i % K < 6 && rng.nextFloat() < 0.8 ? 1 : 0));
  const scores = Float64Array.from({ length: B * K }, (_, i) => rng.normal() * 2 + (excluded[i] ? 3 : 0));
  const groups = Int32Array.from({ length: B * K }, () => rng.nextInt(G));
  const targets = new Float64Array(B * G);
  for (let b = 0; b < B; b++) {
    let sum = 0;
    for (let g = 0; g < G; g++) sum += targets[b * G + g] = rng.nextFloat() + 0.05;
    for (let g = 0; g < G; g++) targets[b * G + g]! /= sum;
  }
  return { B, K, G, scores, groups, targets, topK: TOP_K, temperature: 0.1, excluded };
}

/** Row b without its excluded candidates, as a one-row batch. */
function compacted(full: ReturnType<typeof batch>, b: number): SoftTopkBatch {
  const keep: number[] = [];
  for (let c = 0; c < K; c++) if (!full.excluded[b * K + c]) keep.push(b * K + c);
  return {
    B: 1,
    K: keep.length,
    G,
    scores: Float64Array.from(keep, (i) => full.scores[i]!),
    groups: Int32Array.from(keep, (i) => full.groups[i]!),
    targets: full.targets.slice(b * G, b * G + G),
    topK: TOP_K,
    temperature: full.temperature,
  };
}

test('soft top-k with exclusions equals the soft top-k of the remaining candidates', () => {
  const full = batch(4);
  const loss = new SoftTopkCalibration();
  const rows = new Float64Array(B);
  loss.rowValues(full, rows);
  for (let b = 0; b < B; b++) {
    const want = new SoftTopkCalibration().forward(compacted(full, b));
    assert.ok(Math.abs(rows[b]! - want) < 1e-12, `row ${b}: ${rows[b]} vs ${want}`);
  }
  // excluding nothing is the term without exclusions, bit for bit
  const none = { ...full, excluded: new Uint8Array(B * K) };
  const plain = { ...full, excluded: undefined };
  assert.equal(loss.forward(none), loss.forward(plain));
  const g1 = new Float64Array(B * K),
    g2 = new Float64Array(B * K);
  loss.addGradient(none, 0.7, g1);
  loss.addGradient(plain, 0.7, g2);
  assert.deepEqual(g1, g2);
  // and excluding changes the value (the excluded candidates lead the rows)
  assert.notEqual(loss.forward(full), loss.forward(plain));
});

test('soft top-k with exclusions: finite-difference gradient; excluded candidates get none', () => {
  for (const seed of [4, 11, 23]) {
    const full = batch(seed);
    const loss = new SoftTopkCalibration();
    const grad = new Float64Array(B * K);
    const r = gradCheck(
      [{ name: 'scores', value: full.scores, grad }],
      () => loss.forward(full),
      () => loss.addGradient(full, 1, grad),
      { h: 1e-6, rtol: 1e-5, atol: 1e-8 },
    );
    assert.ok(r.ok, `seed ${seed}: ${formatGradCheck(r)}`);
    for (let i = 0; i < B * K; i++) if (full.excluded[i]) assert.equal(grad[i], 0, `candidate ${i}`);
  }
});

test('calibration_candidates: all by default, unseen accepted with either surrogate', () => {
  assert.equal(validateFinetuneConfig({}).config.calibration_candidates, 'all');
  for (const calibration_surrogate of ['minmax', 'soft_topk']) {
    const c = validateFinetuneConfig({ calibration_candidates: 'unseen', calibration_surrogate }).config;
    assert.equal(c.calibration_candidates, 'unseen');
  }
  assert.throws(() => validateFinetuneConfig({ calibration_candidates: 'train' }), /calibration_candidates/);
});
