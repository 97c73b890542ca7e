/**
 * Dense BPR's stamped gradient tables: instead of clearing both halves' tables after every Adam
 * step, the fused kernel clears a row before its first addition of a batch and stamps it, and
 * Adam reads an unstamped row as zeros. Checked against cleared buffers, bit for bit, on the
 * TypeScript loops and the native kernels, over several batches with stale rows left behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/math/rng.js';
import { bprKernel } from '../../src/models/bpr-kernel.js';
import { adamCoeffs, adamStampedRowsUpdate, adamUpdate, nativeAdamStampedKernel } from '../../src/nn/adam.js';
import { nativeBprKernel } from '../../src/train/bpr-native-kernel.js';
import { skipOrFailOnCi } from '../helpers/ci.js';

const nUsers = 23,
  nItems = 41,
  d = 19; // odd: the vector loops' tails run

/** Triples of `batches` batches of `size`, drawn so that every batch leaves some rows untouched. */
function triples(seed: number, batches: number, size: number) {
  const rng = new Rng(seed);
  const n = batches * size;
  const users = Int32Array.from({ length: n }, () => 1 + rng.nextInt(nUsers - 1));
  const pos = Int32Array.from({ length: n }, () => 1 + rng.nextInt(nItems - 1));
  const neg = Int32Array.from({ length: n }, (_, t) => 1 + ((pos[t]! + rng.nextInt(nItems - 2)) % (nItems - 1)));
  return { users, pos, neg };
}

function tables(seed: number) {
  const rng = new Rng(seed);
  return {
    U: Float32Array.from({ length: nUsers * d }, () => rng.normal() * 0.5),
    I: Float32Array.from({ length: nItems * d }, () => rng.normal() * 0.5),
  };
}

test('bprKernel with stamps: each batch gives the gradients of freshly cleared tables, stale rows left unread', (t) => {
  const { U, I } = tables(1);
  const tr = triples(2, 4, 12);
  const kernels = [bprKernel, nativeBprKernel()].filter((k) => k !== null);
  if (kernels.length < 2) skipOrFailOnCi(t, 'native binding without gradStamps (the TypeScript kernel is checked)');
  for (const k of kernels) {
    const gU = new Float32Array(nUsers * d).fill(Number.NaN), // stale contents must never be read
      gI = new Float32Array(nItems * d).fill(Number.NaN);
    const stamps = { users: new Int32Array(nUsers), items: new Int32Array(nItems), stamp: 0 };
    for (let b = 0; b < 4; b++) {
      const [s, e] = [b * 12, b * 12 + 12];
      const cU = new Float32Array(nUsers * d),
        cI = new Float32Array(nItems * d);
      const want = bprKernel(U, I, cU, cI, d, tr.users, tr.pos, tr.neg, s, e, 1 / 12);
      stamps.stamp = b + 1;
      const got = k(U, I, gU, gI, d, tr.users, tr.pos, tr.neg, s, e, 1 / 12, undefined, undefined, stamps);
      assert.equal(got, want);
      for (let r = 0; r < nUsers; r++) {
        if (stamps.users[r] !== b + 1) continue;
        assert.deepEqual(gU.subarray(r * d, r * d + d), cU.subarray(r * d, r * d + d), `user ${r}, batch ${b}`);
      }
      for (let r = 0; r < nItems; r++) {
        const row = (g: Float32Array) => g.subarray(r * d, r * d + d);
        if (stamps.items[r] === b + 1) assert.deepEqual(row(gI), row(cI), `item ${r}, batch ${b}`);
        else
          assert.ok(
            row(cI).every((x) => x === 0),
            `item ${r} untouched in batch ${b} but stamped stale`,
          );
      }
    }
  }
});

test('adamStampedRowsUpdate = dense Adam on cleared buffers, bit for bit (TypeScript and native)', (t) => {
  const rng = new Rng(9);
  const rows = 37,
    cols = 19;
  const len = rows * cols;
  const p0 = Float32Array.from({ length: len }, () => rng.normal() * 0.1);
  const o = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 };
  const steps = Array.from({ length: 5 }, (_, s) => {
    const g = Float32Array.from({ length: len }, () => rng.normal() * 1e-2);
    const g2 = Float32Array.from({ length: len }, () => rng.normal() * 1e-2);
    // stamps: rows touched in each half this step (about half of them), stale garbage elsewhere
    const s1 = Int32Array.from({ length: rows }, () => (rng.nextInt(2) === 0 ? s + 1 : s));
    const s2 = Int32Array.from({ length: rows }, () => (rng.nextInt(2) === 0 ? s + 1 : 0));
    return { g, g2, s1, s2, stamp: s + 1 };
  });
  const cleared = (x: Float32Array, st: Int32Array, stamp: number) =>
    x.map((v, i) => (st[Math.floor(i / cols)] === stamp ? v : 0));
  const dense = { p: p0.slice(), m: new Float32Array(len), v: new Float32Array(len) };
  for (const [i, s] of steps.entries()) {
    const c = adamCoeffs(o, i + 1);
    adamUpdate(dense.p, cleared(s.g, s.s1, s.stamp), cleared(s.g2, s.s2, s.stamp), dense.m, dense.v, 0, len, c);
  }
  const kernels = [null, nativeAdamStampedKernel()].filter((k, i) => i === 0 || k !== null);
  if (kernels.length < 2) skipOrFailOnCi(t, 'native binding without adamStampedRows');
  for (const k of kernels) {
    const st = { p: p0.slice(), m: new Float32Array(len), v: new Float32Array(len), cols };
    for (const [i, s] of steps.entries()) {
      const c = adamCoeffs(o, i + 1);
      const sg = { g: s.g, g2: s.g2, stamps1: s.s1, stamps2: s.s2, stamp: s.stamp };
      // two row ranges, as the two threads split them
      adamStampedRowsUpdate(k, st, sg, 0, 17, c);
      adamStampedRowsUpdate(k, st, sg, 17, rows, c);
    }
    const label = k ? 'native' : 'TypeScript';
    assert.deepEqual(st.p, dense.p, label);
    assert.deepEqual(st.m, dense.m, label);
    assert.deepEqual(st.v, dense.v, label);
  }
});

test('adamStampedRows and bprGrads reject bad stamps with a clear message', (t) => {
  const k = nativeAdamStampedKernel();
  if (k === null) return skipOrFailOnCi(t, 'native binding without adamStampedRows');
  const f = () => new Float32Array(12);
  assert.throws(
    () => k(f(), f(), f(), f(), f(), 4, 0, 3, new Int32Array(2), new Int32Array(3), 1, 0.9, 0.999, 1, 1, 1e-8, 0),
    /adamStampedRows: stamps must have one entry per row/,
  );
  assert.throws(
    () => k(f(), f(), f(), f(), f(), 4, 0, 4, new Int32Array(3), new Int32Array(3), 1, 0.9, 0.999, 1, 1, 1e-8, 0),
    /rowHi/,
  );
  assert.throws(
    () =>
      adamStampedRowsUpdate(
        null,
        { p: f(), m: f(), v: f(), cols: 4 },
        { g: f(), g2: f(), stamps1: new Int32Array(3), stamps2: new Int32Array(3), stamp: 1 },
        0,
        4,
        adamCoeffs({ lr: 1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 }, 1),
      ),
    /out of range/,
  );
});
