/**
 * SparseAdam (lazy Adam): bit-identical to dense Adam when every row has a gradient in every
 * step; a row without gradient keeps its weights and moments (a hand-checked case); the native
 * row kernel and the TypeScript loop give the same bits; only updated rows' gradients are read
 * and cleared; compact gradients (by slot, rows in any order) give the bits of whole-table
 * ones; TouchedRows sorts its rows and slots; the state round-trips.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/math/rng.js';
import { Adam } from '../../src/nn/adam.js';
import type { Parameter } from '../../src/nn/parameter.js';
import { adamRowsUpdate, nativeAdamRowsKernel, SparseAdam, TouchedRows } from '../../src/nn/sparse-adam.js';
import { skipOrFailOnCi } from '../helpers/ci.js';

function table(rng: Rng, rows: number, cols: number, name: string): Parameter {
  const v = new Float32Array(rows * cols);
  for (let i = 0; i < v.length; i++) v[i] = rng.normal();
  return { name, shape: [rows, cols], value: v, grad: new Float32Array(v.length), itemSide: false };
}

const clone = (p: Parameter): Parameter => ({ ...p, value: p.value.slice(), grad: new Float32Array(p.grad.length) });

for (const native of [false, true]) {
  test(`SparseAdam equals dense Adam bit for bit when every row has a gradient every step (native ${native})`, (t) => {
    if (native && nativeAdamRowsKernel() === null) return skipOrFailOnCi(t, 'native binding without adamRows');
    for (const weightDecay of [0, 0.01]) {
      const rng = new Rng(7);
      // the user table is large enough for the native dense kernel (≥ 4096 entries)
      const a = [table(rng, 300, 16, 'u'), table(rng, 40, 8, 'i')];
      const b = a.map(clone);
      const dense = new Adam(a, { lr: 0.01, weightDecay, native });
      const sparse = new SparseAdam(b, { lr: 0.01, weightDecay, native });
      for (let step = 0; step < 25; step++) {
        for (let k = 0; k < 2; k++) {
          for (let i = 0; i < a[k]!.grad.length; i++) a[k]!.grad[i] = rng.normal() * 0.1;
          b[k]!.grad.set(a[k]!.grad);
        }
        dense.step();
        // listed rows in a scrambled order with duplicates: the order does not matter
        const all = (n: number) => Int32Array.from({ length: 2 * n }, (_, i) => (i * 7) % n);
        if (step % 2 === 0) sparse.step([all(300), all(40)]);
        else sparse.step();
        for (const p of b)
          assert.ok(
            p.grad.every((x) => x === 0),
            'updated rows have their gradient cleared',
          );
        for (let k = 0; k < 2; k++) assert.deepEqual(b[k]!.value, a[k]!.value, `step ${step}, tensor ${k}`);
      }
      assert.deepEqual(sparse.moments(0).m, dense.moments(0).m);
      assert.deepEqual(sparse.moments(1).v, dense.moments(1).v);
    }
  });
}

test('a row without gradient keeps weights and moments; its next update uses the global step (hand-checked)', () => {
  const w: Parameter = {
    name: 'w',
    shape: [2, 1],
    value: Float32Array.of(0.5, -0.25),
    grad: new Float32Array(2),
    itemSide: false,
  };
  const d = clone(w);
  const lr = 0.01;
  const sparse = new SparseAdam([w], { lr, native: false });
  const dense = new Adam([d], { lr, native: false });
  const both = (g0: number, g1: number) => {
    w.grad.set([g0, g1]);
    d.grad.set([g0, g1]);
    sparse.step();
    dense.step();
  };
  both(0.2, -0.4);
  // first step: each entry moves by lr·sign(g) (m̂/√v̂ = g/|g|)
  assert.ok(Math.abs(w.value[1]! - (-0.25 + lr)) < 1e-7);
  const p1 = w.value[1]!,
    m1 = sparse.moments(0).m[1]!,
    v1 = sparse.moments(0).v[1]!;
  // the arithmetic of src/nn/adam.ts: float32 gradients, float64 update, float32 storage
  const omb1 = 1 - 0.9,
    omb2 = 1 - 0.999,
    g1 = Math.fround(-0.4),
    g3 = Math.fround(0.1);
  assert.equal(m1, Math.fround(omb1 * g1));
  assert.equal(v1, Math.fround(omb2 * g1 * g1));
  both(0.3, 0);
  // row 1 had no gradient in step 2: lazy Adam leaves it; dense Adam decays m, v and moves it
  assert.equal(w.value[1], p1);
  assert.equal(sparse.moments(0).m[1], m1);
  assert.equal(sparse.moments(0).v[1], v1);
  assert.equal(dense.moments(0).m[1], Math.fround(0.9 * m1));
  assert.notEqual(d.value[1], p1);
  assert.ok(d.value[1]! > p1, 'dense momentum keeps moving the row the way of its last gradient');
  // row 0 had a gradient in both steps: the same bits as dense Adam
  assert.equal(w.value[0], d.value[0]);
  both(0, 0.1);
  // step 3 on row 1: moments from step 1, bias corrections of t = 3
  const m3 = Math.fround(0.9 * m1 + omb1 * g3);
  const v3 = Math.fround(0.999 * v1 + omb2 * g3 * g3);
  const stepSize = lr / (1 - 0.9 ** 3),
    invBc2Sqrt = 1 / Math.sqrt(1 - 0.999 ** 3);
  const expected = Math.fround(p1 - (stepSize * m3) / (Math.sqrt(v3) * invBc2Sqrt + 1e-8));
  assert.equal(sparse.moments(0).m[1], m3);
  assert.equal(sparse.moments(0).v[1], v3);
  assert.equal(w.value[1], expected);
  // row 0 had no gradient in step 3: it stays at its step-2 value, while dense Adam moves it
  assert.notEqual(w.value[0], d.value[0]);
});

test('only the listed rows are read, updated and cleared; the state round-trips', () => {
  const rng = new Rng(11);
  const w = table(rng, 6, 4, 'w');
  const before = w.value.slice();
  const opt = new SparseAdam([w], { lr: 0.05, native: false });
  for (let i = 0; i < w.grad.length; i++) w.grad[i] = rng.normal();
  opt.step([Int32Array.of(4, 1, 4)]);
  for (let r = 0; r < 6; r++) {
    const row = (a: Float32Array) => [...a.subarray(r * 4, r * 4 + 4)];
    const listed = r === 1 || r === 4;
    assert.equal(
      row(w.grad).every((x) => x === 0),
      listed,
      `row ${r} gradient cleared iff listed`,
    );
    assert.equal(
      row(w.value).every((x, j) => x === before[r * 4 + j]),
      !listed,
      `row ${r} moved iff listed`,
    );
    assert.equal(
      row(opt.moments(0).m).every((x) => x === 0),
      !listed,
    );
  }
  assert.throws(() => opt.step([Int32Array.of(6)]), RangeError);
  const again = new SparseAdam([clone(w)], { lr: 0.05 });
  again.loadState(opt.state());
  assert.equal(again.stepCount, opt.stepCount);
  assert.deepEqual(again.moments(0).v, opt.moments(0).v);
  assert.throws(() => new Adam([w]).loadState(opt.state()), /sparse-adam/);
});

test('adamRowsUpdate: native rows and the TypeScript loop give the same bits (g2, weight decay, 2 threads)', (t) => {
  const kernel = nativeAdamRowsKernel();
  if (kernel === null) return skipOrFailOnCi(t, 'native binding without adamRows');
  const rng = new Rng(5);
  const rows = 700,
    cols = 128;
  const mk = () => Float32Array.from({ length: rows * cols }, () => rng.normal());
  const base = { p: mk(), g: mk(), g2: mk(), m: mk(), v: mk().map(Math.abs) };
  const touched = new TouchedRows(rows);
  for (let i = 0; i < 900; i++) touched.add(rng.nextInt(rows));
  assert.ok(touched.count > 500 && touched.count < rows);
  const c = { beta1: 0.9, beta2: 0.999, stepSize: 0.003, invBc2Sqrt: 7.5, eps: 1e-8, weightDecay: 0.02 };
  const run = (k: typeof kernel | null, threads: number) => {
    const s = { p: base.p.slice(), g: base.g.slice(), g2: base.g2.slice(), m: base.m.slice(), v: base.v.slice() };
    adamRowsUpdate(k, { ...s, cols }, touched.list, 0, touched.count, c, threads);
    return s;
  };
  const ts = run(null, 1);
  for (const threads of [1, 2]) assert.deepEqual(run(kernel, threads), ts, `native on ${threads} thread(s)`);
  const untouched = [...Array(rows).keys()].find((r) => !touched.list.subarray(0, touched.count).includes(r))!;
  assert.equal(ts.g[untouched * cols], base.g[untouched * cols], 'an unlisted row keeps its gradient');
  assert.throws(() =>
    kernel(ts.p, ts.g, null, ts.m, ts.v, cols, Int32Array.of(rows), 0, 1, 0.9, 0.999, 1, 1, 1e-8, 0, true, 1),
  );
});

test('adamRowsUpdate: compact gradients by slot give the bits of whole-table gradients (TypeScript, native)', (t) => {
  const rng = new Rng(9);
  const rows = 600,
    cols = 136;
  const mk = () => Float32Array.from({ length: rows * cols }, () => rng.normal());
  const base = { p: mk(), g: mk(), g2: mk(), m: mk(), v: mk().map(Math.abs) };
  const touched = new TouchedRows(rows);
  for (let i = 0; i < 800; i++) touched.add(rng.nextInt(rows));
  const n = touched.count;
  // the rows listed in first-seen order, their gradients at slots in a scrambled order
  const scrambled = rng.permutation(n);
  const gradSlot = new Int32Array(rows).fill(-1);
  for (let k = 0; k < n; k++) gradSlot[touched.list[k]!] = scrambled[k]!;
  const compactRows = (a: Float32Array) => {
    const out = new Float32Array(n * cols);
    for (let k = 0; k < n; k++) {
      const r = touched.list[k]!;
      out.set(a.subarray(r * cols, (r + 1) * cols), gradSlot[r]! * cols);
    }
    return out;
  };
  const c = { beta1: 0.9, beta2: 0.999, stepSize: 0.003, invBc2Sqrt: 7.5, eps: 1e-8, weightDecay: 0.02 };
  const state = () => ({ p: base.p.slice(), m: base.m.slice(), v: base.v.slice() });
  const ref = { ...state(), g: base.g.slice(), g2: base.g2.slice() };
  adamRowsUpdate(null, { ...ref, cols }, touched.list, 0, n, c);
  const runCompact = (k: ReturnType<typeof nativeAdamRowsKernel>, threads: number) => {
    const s = { ...state(), g: compactRows(base.g), g2: compactRows(base.g2) };
    adamRowsUpdate(k, { ...s, cols, gradSlot }, touched.list, 0, n, c, threads);
    assert.ok(s.g.every((x) => x === 0) && s.g2.every((x) => x === 0), 'the compact gradients are cleared');
    return { p: s.p, m: s.m, v: s.v };
  };
  const expected = { p: ref.p, m: ref.m, v: ref.v };
  assert.notDeepEqual(expected.p, base.p);
  assert.deepEqual(runCompact(null, 1), expected, 'TypeScript');
  const tooFew = { ...state(), g: new Float32Array((n - 1) * cols), cols, gradSlot };
  assert.throws(() => adamRowsUpdate(null, tooFew, touched.list, 0, n, c), RangeError);
  const kernel = nativeAdamRowsKernel();
  if (kernel === null) return skipOrFailOnCi(t, 'native binding without adamRows / compactGrads');
  for (const threads of [1, 2]) assert.deepEqual(runCompact(kernel, threads), expected, `native, ${threads} thread(s)`);
  assert.throws(() => adamRowsUpdate(kernel, tooFew, touched.list, 0, n, c), RangeError);
});

test('TouchedRows.sort: the added rows ascending and their slots following, for tables of 1 to 2^20 rows', () => {
  const rng = new Rng(4);
  for (const nRows of [1, 2, 3, 17, 1000, 138_001, 1 << 20]) {
    const t = new TouchedRows(nRows);
    for (let rep = 0; rep < 3; rep++) {
      t.clear();
      for (let i = 0; i < Math.min(nRows, 3000); i++) t.add(rng.nextInt(nRows));
      const first = [...t.list.subarray(0, t.count)];
      t.sort();
      const sorted = [...t.list.subarray(0, t.count)];
      assert.deepEqual(
        sorted,
        [...first].sort((a, b) => a - b),
        `${nRows} rows`,
      );
      for (let k = 0; k < sorted.length; k++) assert.equal(t.slot[sorted[k]!], k);
    }
  }
});
