import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RAdam, radamRho } from '../../src/nn/radam.js';
import { StepLR } from '../../src/nn/lr-schedule.js';
import type { Parameter } from '../../src/nn/parameter.js';

function param(name: string, values: number[]): Parameter {
  return {
    name,
    shape: [values.length],
    value: Float32Array.from(values),
    grad: new Float32Array(values.length),
    itemSide: false,
  };
}

/** The gradient fed at step t (1-based) for element i: varied signs and scales. */
const gradAt = (t: number, i: number) => Math.sin(1.3 * t + i) * (i + 1) * 0.5 + 0.05 * i;

/** Float64 reference of torch.optim.RAdam written straight from the paper / PyTorch docs. */
function reference(p0: number[], steps: number, lr: number, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0): number[][] {
  const p = [...p0];
  const m = p.map(() => 0),
    v = p.map(() => 0);
  const rhoInf = 2 / (1 - b2) - 1;
  const out: number[][] = [];
  for (let t = 1; t <= steps; t++) {
    for (let i = 0; i < p.length; i++) {
      const g = gradAt(t, i) + wd * p[i]!;
      m[i] = b1 * m[i]! + (1 - b1) * g;
      v[i] = b2 * v[i]! + (1 - b2) * g * g;
      const mhat = m[i]! / (1 - b1 ** t);
      const rho = rhoInf - (2 * t * b2 ** t) / (1 - b2 ** t);
      if (rho > 5) {
        const l = Math.sqrt(1 - b2 ** t) / (Math.sqrt(v[i]!) + eps);
        const r = Math.sqrt(((rho - 4) * (rho - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rho));
        p[i] = p[i]! - lr * mhat * l * r;
      } else {
        p[i] = p[i]! - lr * mhat;
      }
    }
    out.push([...p]);
  }
  return out;
}

test('ρ_t: the rectification switch first fires at step 6 for β2 = 0.999', () => {
  assert.ok(Math.abs(radamRho(1, 0.999) - 1) < 1e-9);
  assert.ok(radamRho(5, 0.999) < 5 && radamRho(5, 0.999) > 4.99);
  assert.ok(radamRho(6, 0.999) > 5);
});

test('RAdam known answer: 10 steps (1–5 un-rectified, 6–10 rectified) equal a float64 reference', () => {
  const p0 = [0.5, -1.25, 2.0, 0.0];
  const lr = 0.01;
  const ref = reference(p0, 10, lr);
  const w = param('w', p0);
  const opt = new RAdam([w], { lr });
  for (let t = 1; t <= 10; t++) {
    for (let i = 0; i < p0.length; i++) w.grad[i] = gradAt(t, i);
    opt.step();
    for (let i = 0; i < p0.length; i++) {
      assert.ok(
        Math.abs(w.value[i]! - ref[t - 1]![i]!) < 2e-6,
        `step ${t} elem ${i}: ${w.value[i]} vs ${ref[t - 1]![i]}`,
      );
    }
  }
  // Step 1 by hand: m̂ = g, so p = p0 − lr·g (un-rectified branch).
  const w1 = param('w', p0);
  const o1 = new RAdam([w1], { lr });
  for (let i = 0; i < p0.length; i++) w1.grad[i] = gradAt(1, i);
  o1.step();
  for (let i = 0; i < p0.length; i++) assert.ok(Math.abs(w1.value[i]! - (p0[i]! - lr * gradAt(1, i))) < 1e-7);
  // Step 6 is the first rectified step: its update differs from an un-rectified one.
  assert.ok(Math.abs(ref[5]![0]! - ref[4]![0]!) < lr * 2, 'rectified step is bounded by ~lr');
});

test('RAdam with weight decay follows the L2 form (grad + wd·p)', () => {
  const p0 = [1, -2, 3];
  const ref = reference(p0, 8, 0.05, 0.9, 0.999, 1e-8, 0.1);
  const w = param('w', p0);
  const opt = new RAdam([w], { lr: 0.05, weightDecay: 0.1 });
  for (let t = 1; t <= 8; t++) {
    for (let i = 0; i < 3; i++) w.grad[i] = gradAt(t, i);
    opt.step();
  }
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(w.value[i]! - ref[7]![i]!) < 5e-6);
});

test('RAdam state()/loadState(): resumed run equals an uninterrupted one bit for bit', () => {
  const run = (split: number | undefined) => {
    const a = param('a', [0.1, 0.2, 0.3]),
      b = param('b', [-1, 1]);
    let opt = new RAdam([a, b], { lr: 0.02 });
    for (let t = 1; t <= 12; t++) {
      if (split !== undefined && t === split) {
        const st = JSON.parse(JSON.stringify({ ...opt.state(), buffers: {} }));
        const bufs = opt.state().buffers;
        opt = new RAdam([a, b], { lr: 999 });
        opt.loadState({ ...st, buffers: bufs });
      }
      for (let i = 0; i < 3; i++) a.grad[i] = gradAt(t, i);
      for (let i = 0; i < 2; i++) b.grad[i] = gradAt(t, i + 3);
      opt.step();
    }
    return [...a.value, ...b.value];
  };
  assert.deepEqual(run(undefined), run(4));
  assert.deepEqual(run(undefined), run(9));
  const opt = new RAdam([param('a', [1])]);
  assert.throws(() => opt.loadState({ kind: 'adam', step: 1, lr: 1, buffers: {} }), /not radam/);
  assert.throws(() => opt.loadState({ kind: 'radam', step: 1, lr: 1, buffers: {} }), /no moments for a/);
});

test('only the given parameters move (frozen tensors are not passed in)', () => {
  const a = param('a', [1, 2]),
    frozen = param('item', [3, 4]);
  frozen.grad.fill(5);
  a.grad.fill(1);
  const opt = new RAdam([a], { lr: 0.1 });
  opt.step();
  assert.deepEqual(Array.from(frozen.value), [3, 4]);
  assert.deepEqual(Array.from(a.value), [Math.fround(0.9), Math.fround(1.9)]);
});

test('StepLR: lr = base·γ^floor(epoch/step), state for resume', () => {
  const opt = { lr: 1e-4 };
  const s = new StepLR(opt, 20, 0.9);
  const seen: number[] = [];
  for (let e = 0; e < 45; e++) {
    seen.push(opt.lr);
    s.step();
  }
  assert.equal(seen[0], 1e-4);
  assert.equal(seen[19], 1e-4);
  assert.equal(seen[20], 1e-4 * 0.9);
  assert.equal(seen[39], 1e-4 * 0.9);
  assert.equal(seen[40], 1e-4 * 0.81);
  assert.ok(Math.abs(opt.lr - 1e-4 * 0.9 ** 2) < 1e-20);
  const st = s.state();
  const opt2 = { lr: 1e-4 };
  const s2 = new StepLR(opt2, 20, 0.9);
  s2.loadState(st);
  assert.equal(opt2.lr, opt.lr);
  assert.equal(s2.lastEpoch, 45);
  assert.throws(() => new StepLR(opt2, 0, 0.9), /step size/);
  assert.throws(() => new StepLR(opt2, 10, 0.9).loadState(st), /does not match/);
});
