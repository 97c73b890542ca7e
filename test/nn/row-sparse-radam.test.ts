/**
 * RowSparseRAdam: equal to dense RAdam (PyTorch) on row-sparse gradients up to its documented
 * ε-level approximation; bit-exact across save → load; the same result whether the rows with a
 * gradient are listed by the caller or found by scanning (float64 or float32 scan).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadNativeBlas } from '../../src/math/native.js';
import { Rng } from '../../src/math/rng.js';
import type { Parameter } from '../../src/nn/parameter.js';
import { RAdam } from '../../src/nn/radam.js';
import { RowSparseRAdam } from '../../src/nn/row-sparse-radam.js';
import { skipOrFailOnCi } from '../helpers/ci.js';

test('RowSparseRAdam matches dense RAdam (PyTorch) on row-sparse gradients, and resumes exactly from its state', () => {
  const rng = new Rng(3);
  const mk = (rows: number, cols: number, name: string): Parameter => {
    const v = new Float32Array(rows * cols);
    for (let i = 0; i < v.length; i++) v[i] = rng.normal();
    return { name, shape: [rows, cols], value: v, grad: new Float32Array(v.length), itemSide: false };
  };
  const clone = (p: Parameter): Parameter => ({ ...p, value: p.value.slice(), grad: new Float32Array(p.grad.length) });
  const a = [mk(30, 8, 'u'), mk(50, 6, 'i')];
  const b = a.map(clone);
  const c = a.map(clone);
  const dense = new RAdam(a, { lr: 0.01 });
  const sparse = new RowSparseRAdam(b, { lr: 0.01, consumeGrads: true });
  let resumed: RowSparseRAdam | undefined;
  for (let step = 1; step <= 300; step++) {
    if (step === 120) {
      dense.lr = 0.005;
      sparse.lr = 0.005;
    }
    for (let k = 0; k < 2; k++) {
      const rows = a[k]!.shape[0]!,
        cols = a[k]!.shape[1]!;
      a[k]!.grad.fill(0);
      for (let n = 0; n < 3; n++) {
        // 3 random rows get a gradient; the rest stay zero
        const r = rng.nextInt(rows);
        for (let j = 0; j < cols; j++) a[k]!.grad[r * cols + j] = rng.normal() * 0.1;
      }
      b[k]!.grad.set(a[k]!.grad);
      c[k]!.grad.set(a[k]!.grad);
    }
    dense.step();
    sparse.step();
    for (const p of b)
      assert.ok(
        p.grad.every((x) => x === 0),
        'consumed gradients are zeroed',
      );
    if (step === 150) {
      // a flushed state loaded into a fresh optimizer continues identically
      sparse.flush();
      for (let k = 0; k < 2; k++) c[k]!.value.set(b[k]!.value);
      resumed = new RowSparseRAdam(c, { lr: sparse.lr, consumeGrads: true });
      resumed.loadState(sparse.state());
    } else if (resumed) {
      resumed.step();
    }
  }
  sparse.flush();
  resumed!.flush();
  let maxDiff = 0,
    maxMove = 0;
  for (let k = 0; k < 2; k++) {
    for (let i = 0; i < a[k]!.value.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(a[k]!.value[i]! - b[k]!.value[i]!));
      assert.equal(c[k]!.value[i], b[k]!.value[i]);
    }
  }
  const st = dense.state(),
    ss = sparse.state();
  for (const n of ['u', 'i']) {
    for (let i = 0; i < st.buffers[n]!.m!.length; i++) {
      maxMove = Math.max(maxMove, Math.abs(st.buffers[n]!.m![i]!));
      const dm = st.buffers[n]!.m![i]!,
        sm = ss.buffers[n]!.m![i]!;
      const dv = st.buffers[n]!.v![i]!,
        sv = ss.buffers[n]!.v![i]!;
      assert.ok(Math.abs(dm - sm) <= 1e-4 * Math.abs(dm) + 1e-30);
      assert.ok(Math.abs(dv - sv) <= 1e-4 * Math.abs(dv) + 1e-30);
    }
  }
  assert.ok(maxDiff < 2e-6, `max |dense − sparse| = ${maxDiff}`);
  assert.ok(maxMove > 0);
});

test('RowSparseRAdam resumed late (step 600, past two doublings of its coefficients) continues bit for bit', () => {
  const rng = new Rng(11);
  const mk = (): Parameter => {
    const v = new Float32Array(20 * 4);
    for (let i = 0; i < v.length; i++) v[i] = rng.normal();
    return { name: 'u', shape: [20, 4], value: v, grad: new Float32Array(v.length), itemSide: false };
  };
  const a = mk();
  const b: Parameter = { ...a, value: a.value.slice(), grad: new Float32Array(a.grad.length) };
  const live = new RowSparseRAdam([a], { lr: 0.01, consumeGrads: true });
  let resumed: RowSparseRAdam | undefined;
  for (let step = 1; step <= 1100; step++) {
    const r = rng.nextInt(20);
    for (let j = 0; j < 4; j++) a.grad[r * 4 + j] = rng.normal() * 0.1;
    b.grad.set(a.grad);
    live.step();
    if (step === 600) {
      const st = live.state(); // flushes every row, as the fine-tuner's resume file does
      b.value.set(a.value);
      resumed = new RowSparseRAdam([b], { lr: 0.01, consumeGrads: true });
      resumed.loadState(st);
      b.grad.fill(0);
    } else if (resumed) {
      resumed.step();
    } else {
      b.grad.fill(0);
    }
  }
  live.flush();
  resumed!.flush();
  assert.deepEqual(Array.from(b.value), Array.from(a.value));
});

test('RowSparseRAdam: listed rows (duplicates too) equal scanned rows over idle gaps, float64/float32 scans', () => {
  for (const cols of [6, 5]) {
    const rng = new Rng(cols);
    const mk = (): Parameter => {
      const v = new Float32Array(40 * cols);
      for (let i = 0; i < v.length; i++) v[i] = rng.normal();
      return { name: 'w', shape: [40, cols], value: v, grad: new Float32Array(v.length), itemSide: false };
    };
    const listed = mk();
    const scanned: Parameter = { ...listed, value: listed.value.slice(), grad: new Float32Array(listed.grad.length) };
    const optListed = new RowSparseRAdam([listed], { lr: 0.02, consumeGrads: true });
    const optScanned = new RowSparseRAdam([scanned], { lr: 0.02, consumeGrads: true });
    for (let step = 1; step <= 80; step++) {
      const rows = Int32Array.from({ length: 4 }, () => rng.nextInt(40));
      rows[3] = rows[0]!; // a duplicate is updated once
      for (const r of rows) for (let j = 0; j < cols; j++) listed.grad[r * cols + j] = rng.normal() * 0.1;
      scanned.grad.set(listed.grad);
      optListed.step([rows]);
      optScanned.step();
      assert.deepEqual(scanned.value, listed.value, `step ${step}, ${cols} columns`);
    }
    optListed.flush();
    optScanned.flush();
    assert.deepEqual(scanned.value, listed.value);
    assert.deepEqual(optListed.state(), optScanned.state());
    assert.throws(() => optListed.step([Int32Array.of(40)]), /row 40 of w out of range/);
  }
});

/** Row-sparse gradient steps: `perStep` random rows (duplicates possible) with their gradients. */
function sparseSteps(rng: Rng, rowsN: number, cols: number, perStep: number, n: number) {
  return Array.from({ length: n }, () => {
    const rows = Int32Array.from({ length: perStep }, () => rng.nextInt(rowsN));
    const grads = Float32Array.from({ length: rows.length * cols }, (_, i) => (i % 11 === 0 ? 0 : 0.1 * rng.normal()));
    return { rows, grads };
  });
}

test('RowSparseRAdam: the native row kernel and the TypeScript loops give the same bits (listed, scanned, gaps)', (t) => {
  const nb = loadNativeBlas();
  if (!nb.ok || typeof nb.blas.radamRows !== 'function') {
    skipOrFailOnCi(t, 'native binding without radamRows (npm run build:native)');
    return;
  }
  const rng = new Rng(44);
  // few rows a step (rows idle for many steps, then catching up; 37 columns: odd, the vector
  // loop's tail runs), and many rows a step (the kernel splits them between two threads)
  const cases = [
    { rowsN: 60, cols: 37, steps: sparseSteps(rng, 60, 37, 5, 90) },
    { rowsN: 900, cols: 160, steps: sparseSteps(rng, 900, 160, 1200, 8) },
  ];
  for (const { rowsN, cols, steps } of cases) {
    const p0 = Float32Array.from({ length: rowsN * cols }, () => rng.normal());
    for (const listed of [true, false]) {
      const run = (native: boolean) => {
        const grad = new Float32Array(p0.length);
        const w: Parameter = { name: 'w', shape: [rowsN, cols], value: p0.slice(), grad, itemSide: false };
        const opt = new RowSparseRAdam([w], { lr: 0.02, consumeGrads: true, native });
        for (const [i, s] of steps.entries()) {
          for (const [q, r] of s.rows.entries()) w.grad.set(s.grads.subarray(q * cols, (q + 1) * cols), r * cols);
          if (i === 40 || i === 6) opt.lr /= 2;
          opt.step(listed ? [s.rows] : undefined);
          assert.ok(w.grad.every((x) => x === 0));
        }
        return { value: w.value, state: opt.state() };
      };
      const nat = run(true),
        ts = run(false);
      const label = `${rowsN} × ${cols}, ${listed ? 'listed' : 'scanned'} rows`;
      assert.notDeepEqual(ts.value, p0, label);
      assert.deepEqual(nat.value, ts.value, label);
      assert.deepEqual(nat.state, ts.state, label);
    }
  }
});
