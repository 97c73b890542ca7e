import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gradCheck, formatGradCheck } from '../../src/nn/gradcheck.js';

// f(x, y) = Σ_i x_i² · y_i + sin(x_0)  (float64 loss over float32 params)
function setup() {
  const x = { name: 'x', value: new Float32Array([0.5, -1.25, 2, 0.1]), grad: new Float32Array(4) };
  const y = { name: 'y', value: new Float32Array([1.5, 0.3, -0.7, 2.2]), grad: new Float32Array(4) };
  const loss = () => {
    let s = Math.sin(x.value[0]!);
    for (let i = 0; i < 4; i++) s += x.value[i]! ** 2 * y.value[i]!;
    return s;
  };
  return { x, y, loss };
}

test('gradCheck accepts a correct backward', () => {
  const { x, y, loss } = setup();
  const r = gradCheck(
    [x, y],
    loss,
    () => {
      for (let i = 0; i < 4; i++) {
        x.grad[i]! += 2 * x.value[i]! * y.value[i]!;
        y.grad[i]! += x.value[i]! ** 2;
      }
      x.grad[0]! += Math.cos(x.value[0]!);
    },
    { h: 1e-2, rtol: 1e-4 },
  );
  assert.ok(r.ok, formatGradCheck(r));
  assert.equal(r.checked, 8);
  assert.ok(r.maxRelError < 1e-4, formatGradCheck(r));
  // analytic grads are left in place: d/dy_1 = x_1² = 1.5625
  assert.ok(Math.abs(y.grad[1]! - 1.5625) < 1e-6);
});

test('gradCheck rejects a wrong backward and names the entry', () => {
  const { x, y, loss } = setup();
  const r = gradCheck(
    [x, y],
    loss,
    () => {
      for (let i = 0; i < 4; i++) {
        x.grad[i]! += 2 * x.value[i]! * y.value[i]!;
        y.grad[i]! += x.value[i]! ** 2;
      }
      // cos term forgotten
    },
    { h: 1e-2 },
  );
  assert.equal(r.ok, false);
  assert.equal(r.failures.length, 1);
  assert.equal(r.failures[0]!.param, 'x');
  assert.equal(r.failures[0]!.index, 0);
  assert.ok(Math.abs(r.failures[0]!.numeric - (2 * 0.5 * 1.5 + Math.cos(0.5))) < 1e-3);
});

test('gradCheck samples entries and restores parameter values', () => {
  const { x, y, loss } = setup();
  const before = [...x.value, ...y.value];
  const r = gradCheck(
    [x, y],
    loss,
    () => {
      for (let i = 0; i < 4; i++) {
        x.grad[i]! += 2 * x.value[i]! * y.value[i]!;
        y.grad[i]! += x.value[i]! ** 2;
      }
      x.grad[0]! += Math.cos(x.value[0]!);
    },
    { maxPerParam: 2 },
  );
  assert.equal(r.checked, 4);
  assert.deepEqual([...x.value, ...y.value], before);
});
