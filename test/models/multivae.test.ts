import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../src/math/rng.js';
import '../../src/models/dmf.js'; // registers dmf (a sidecar naming it must be recognised)
import { loadModel, saveModel } from '../../src/models/model-file.js';
import { annealBeta, MultiVaeModel } from '../../src/models/multivae.js';
import { formatGradCheck, gradCheck } from '../../src/nn/gradcheck.js';
import { UserError } from '../../src/util/errors.js';
import { csr } from '../helpers/csr.js';

const train = csr(8, [[], [1, 2, 3], [2, 4], [1, 5, 7], [3, 4, 5, 6], []]);
const hyper = { nUsers: 6, nItems: 8, hidden: [5], latent: 3 };

function model(seed = 1): MultiVaeModel {
  const m = new MultiVaeModel(hyper, seed);
  const rng = new Rng(seed + 50);
  for (const p of m.parameters())
    if (p.name.endsWith('.bias')) for (let i = 0; i < p.value.length; i++) p.value[i] = 0.1 * rng.normal();
  m.setTrainMatrix(train);
  return m;
}

test('MultiVAE parameters: RecBole names, shapes, item side = decoder output layer, xavier init', () => {
  const m = new MultiVaeModel({ nUsers: 10, nItems: 500, hidden: [600], latent: 64 }, 2);
  assert.deepEqual(
    m.parameters().map((p) => [p.name, p.shape.join('x'), p.itemSide]),
    [
      ['encoder.0.weight', '500x600', false],
      ['encoder.0.bias', '600', false],
      ['encoder.2.weight', '128x600', false],
      ['encoder.2.bias', '128', false],
      ['decoder.0.weight', '600x64', false],
      ['decoder.0.bias', '600', false],
      ['decoder.2.weight', '500x600', true],
      ['decoder.2.bias', '500', true],
    ],
  );
  const w = m.parameters()[0]!.value;
  let s2 = 0;
  for (const v of w) s2 += v * v;
  const want = Math.sqrt(2 / 1100);
  assert.ok(Math.abs(Math.sqrt(s2 / w.length) - want) / want < 0.01);
  assert.throws(() => new MultiVaeModel({ ...hyper, hidden: [0] }), UserError);
  assert.throws(() => new MultiVaeModel({ ...hyper, latent: 0 }), UserError);
  assert.throws(() => new MultiVaeModel(hyper).scoreAll(new Int32Array([1])), /setTrainMatrix/);
});

test('annealing: β = min(cap, step / total)', () => {
  assert.equal(annealBeta(1, 0.2, 200000), 1 / 200000);
  assert.equal(annealBeta(40000, 0.2, 200000), 0.2);
  assert.equal(annealBeta(90000, 0.2, 200000), 0.2);
  assert.equal(annealBeta(5, 0.2, 0), 0.2);
});

test('input: L2-normalised row, inverted dropout on the non-zeros; empty rows stay zero', () => {
  const m = model();
  const x = m.buildInput(new Int32Array([4, 5]), 0, undefined);
  assert.deepEqual(Array.from(x.values!), [0.5, 0.5, 0.5, 0.5]);
  assert.equal(x.indptr[2], 4);
  const rows = new Int32Array(2000).fill(4);
  const d = m.buildInput(rows, 0.5, new Rng(3));
  let kept = 0;
  for (const v of d.values!) {
    assert.ok(v === 0 || v === 1);
    if (v === 1) kept++;
  }
  assert.ok(Math.abs(kept / 8000 - 0.5) < 0.03);
  // an empty user scores finite values
  for (const v of m.scoreAll(new Int32Array([5, 0]))) assert.ok(Number.isFinite(v));
});

test('loss = CE + β·KL: value by hand and finite-difference gradients (noise and dropout fixed)', () => {
  const m = model(4);
  const users = new Int32Array([1, 3, 4, 2, 1]);
  const x = m.buildInput(users, 0.5, new Rng(11)); // a fixed dropout mask
  const beta = 0.3;
  // no noise: check CE against a direct computation from scoreAll-style logits
  const info = m.lossOnInput(users, m.buildInput(users, 0, undefined), 0, undefined, false);
  const logits = m.scoreAll(users);
  let ce = 0;
  for (let r = 0; r < users.length; r++) {
    const row = Array.from(logits.subarray(r * 8, r * 8 + 8));
    const mx = Math.max(...row);
    const lse = mx + Math.log(row.reduce((a, v) => a + Math.exp(v - mx), 0));
    const u = users[r]!;
    for (let q = train.indptr[u]!; q < train.indptr[u + 1]!; q++) ce -= row[train.indices[q]!]! - lse;
  }
  assert.ok(Math.abs(info.ce - ce / users.length) < 1e-5, `${info.ce} vs ${ce / users.length}`);
  assert.ok(info.kl > 0);
  // with noise: the same seed gives the same ε in both evaluations
  const lossFn = () => m.lossOnInput(users, x, beta, new Rng(21), false).loss;
  let got = 0;
  const r = gradCheck(
    m.parameters(),
    lossFn,
    () => {
      got = m.lossOnInput(users, x, beta, new Rng(21), true).loss;
    },
    { h: 1e-3, rtol: 1e-2, atol: 1e-4 },
  );
  assert.ok(r.ok, formatGradCheck(r));
  assert.ok(Math.abs(got - lossFn()) < 1e-6);
});

test('candidate path: decoder logits at μ, gradient check, frozen output layer', () => {
  const m = model(5);
  const users = new Int32Array([1, 4, 3]);
  const k = 3;
  const cands = new Int32Array([2, 7, 0, 1, 5, 2, 6, 6, 3]);
  const c = new Float32Array([0.3, -1, 2, 0.5, 1, -0.7, 1.5, 0.2, -2]);
  const s = m.forwardCandidates(users, cands, k);
  const all = m.scoreAll(users);
  for (let r = 0; r < 3; r++)
    for (let q = 0; q < k; q++) assert.ok(Math.abs(s[r * k + q]! - all[r * 8 + cands[r * k + q]!]!) < 1e-5);
  const lossFn = () => {
    const a = m.scoreAll(users);
    let v = 0;
    for (let r = 0; r < 3; r++) for (let q = 0; q < k; q++) v += c[r * k + q]! * a[r * 8 + cands[r * k + q]!]!;
    return v;
  };
  const g = gradCheck(
    m.parameters(),
    lossFn,
    () => {
      m.forwardCandidates(users, cands, k);
      m.backwardCandidates(c);
    },
    { h: 1e-3, rtol: 1e-2, atol: 1e-4 },
  );
  assert.ok(g.ok, formatGradCheck(g));
  m.setItemsFrozen(true);
  m.zeroGrad();
  m.forwardCandidates(users, cands, k);
  m.backwardCandidates(c);
  for (const p of m.parameters())
    assert.equal(
      p.grad.some((v) => v !== 0),
      !p.itemSide,
      p.name,
    );
});

test('save/load round trip; a sidecar of another type is a UserError', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vae-'));
  try {
    const m = model(6);
    saveModel(dir, m);
    const { model: back } = loadModel(dir, 'multivae');
    (back as MultiVaeModel).setTrainMatrix(train);
    const users = new Int32Array([1, 2, 3, 4]);
    assert.deepEqual(back.scoreAll(users), m.scoreAll(users));
    assert.throws(
      () => loadModel(dir, 'dmf'),
      (e: unknown) => e instanceof UserError && /multivae model, not dmf/.test(e.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('nativeAccuracyLoss (CaliTune accuracy term): CE + 0.2·KL at μ, scaled gradient check, frozen output', () => {
  const m = model(9);
  const users = new Int32Array([1, 4, 2]);
  const cands = new Int32Array([1, 2, 3, 4, 5, 6]);
  const scale = 0.5;
  // reference value: the model's loss in evaluation mode (no dropout, z = μ), β = 0.2
  const evalLoss = () => m.lossOnInput(users, m.buildInput(users, 0, undefined), 0.2, undefined, false).loss;
  m.forwardCandidates(users, cands, 2);
  assert.ok(Math.abs(m.nativeAccuracyLoss(users, { scale, grad: false }) - evalLoss()) < 1e-6);
  const r = gradCheck(
    m.parameters(),
    () => scale * evalLoss(),
    () => {
      m.forwardCandidates(users, cands, 2);
      m.nativeAccuracyLoss(users, { scale, grad: true });
    },
    { h: 1e-3, rtol: 1e-2, atol: 1e-4 },
  );
  assert.ok(r.ok, formatGradCheck(r));
  // frozen: the decoder's output layer gets no gradient, the rest does
  m.setItemsFrozen(true);
  m.zeroGrad();
  m.forwardCandidates(users, cands, 2);
  m.nativeAccuracyLoss(users, { scale, grad: true });
  const byName = new Map(m.parameters().map((p) => [p.name, p]));
  assert.ok(byName.get('decoder.2.weight')!.grad.every((g) => g === 0));
  assert.ok(byName.get('decoder.2.bias')!.grad.every((g) => g === 0));
  assert.ok(byName.get('encoder.0.weight')!.grad.some((g) => g !== 0));
  m.setItemsFrozen(false);
  assert.throws(() => m.nativeAccuracyLoss(new Int32Array([1, 4, 3]), { scale, grad: false }), /users differ/);
  assert.throws(
    () => new MultiVaeModel(hyper).nativeAccuracyLoss(users, { scale, grad: false }),
    /without forwardCandidates/,
  );
});
