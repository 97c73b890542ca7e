/**
 * BprModel's candidate path (forwardCandidates / backwardCandidates, the fine-tuner's): scores
 * and gradients equal the dot-product definitions, and the native row kernels give the
 * TypeScript loops' bits, items trained or frozen.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BprModel } from '../../src/models/bpr.js';
import { Rng } from '../../src/math/rng.js';
import { useNativeRowKernels } from '../../src/math/row-blocks.js';

const bits = (a: Float32Array): Uint8Array => new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));

/** One forward and backward on a 9-user × 30-item model; candidates repeat across users. */
function step(native: boolean, frozen: boolean) {
  useNativeRowKernels(native);
  const m = new BprModel({ nUsers: 9, nItems: 30, dim: 7 }, 3);
  m.setItemsFrozen(frozen);
  m.zeroGrad();
  const users = Int32Array.of(4, 1, 8);
  const k = 5;
  const cands = Int32Array.of(3, 7, 29, 1, 2, 7, 3, 11, 12, 13, 29, 28, 3, 2, 1);
  const scores = m.forwardCandidates(users, cands, k);
  const rng = new Rng(9);
  const dScores = Float32Array.from({ length: users.length * k }, () => rng.normal());
  m.backwardCandidates(dScores);
  useNativeRowKernels(true);
  return { m, users, cands, k, scores, dScores };
}

test('BprModel candidates: scores u·i, gradients Σ dScore·(other side), rows outside the batch untouched', () => {
  const { m, users, cands, k, scores, dScores } = step(true, false);
  const d = m.dim,
    U = m.userEmb.value,
    I = m.itemEmb.value;
  const gU = new Float64Array(U.length),
    gI = new Float64Array(I.length);
  for (let r = 0; r < users.length; r++)
    for (let c = 0; c < k; c++) {
      const u = users[r]!,
        it = cands[r * k + c]!,
        g = dScores[r * k + c]!;
      let s = 0;
      for (let j = 0; j < d; j++) {
        s += U[u * d + j]! * I[it * d + j]!;
        gU[u * d + j]! += g * I[it * d + j]!;
        gI[it * d + j]! += g * U[u * d + j]!;
      }
      assert.ok(Math.abs(scores[r * k + c]! - s) < 1e-5, `score of user ${u}, item ${it}`);
    }
  for (let i = 0; i < U.length; i++) assert.ok(Math.abs(m.userEmb.grad[i]! - gU[i]!) < 1e-5, `user grad ${i}`);
  for (let i = 0; i < I.length; i++) assert.ok(Math.abs(m.itemEmb.grad[i]! - gI[i]!) < 1e-5, `item grad ${i}`);
  assert.ok(m.userEmb.grad.subarray(0, d).every((x) => x === 0));
  assert.deepEqual(
    [...m.candidateGradRows(m.itemEmb.name)!].sort((a, b) => a - b),
    [1, 2, 3, 7, 11, 12, 13, 28, 29],
  );
});

test('BprModel candidates: the native row kernels and the TypeScript loops give the same bits', () => {
  for (const frozen of [false, true]) {
    const ts = step(false, frozen),
      nat = step(true, frozen);
    assert.deepEqual(bits(nat.scores), bits(ts.scores));
    assert.deepEqual(bits(nat.m.userEmb.grad), bits(ts.m.userEmb.grad));
    assert.deepEqual(bits(nat.m.itemEmb.grad), bits(ts.m.itemEmb.grad));
    if (frozen) assert.ok(nat.m.itemEmb.grad.every((x) => x === 0));
  }
});
