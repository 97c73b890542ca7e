import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Adam, adamUpdate, NATIVE_ADAM_MIN, nativeAdamKernel } from '../../src/nn/adam.js';
import { Rng } from '../../src/math/rng.js';
import type { Parameter } from '../../src/nn/parameter.js';
import { UserError } from '../../src/util/errors.js';
import { skipOrFailOnCi } from '../helpers/ci.js';

function param(name: string, vals: number[]): Parameter {
  return {
    name,
    shape: [vals.length],
    value: Float32Array.from(vals),
    grad: new Float32Array(vals.length),
    itemSide: false,
  };
}

/** torch.optim.Adam's formulas in float64. */
function referenceAdam(
  p0: number[],
  grads: number[][],
  lr: number,
  wd: number,
  b1 = 0.9,
  b2 = 0.999,
  eps = 1e-8,
): number[] {
  const p = [...p0],
    m = p0.map(() => 0),
    v = p0.map(() => 0);
  grads.forEach((g, s) => {
    const t = s + 1;
    for (let i = 0; i < p.length; i++) {
      const gi = g[i]! + wd * p[i]!;
      m[i] = b1 * m[i]! + (1 - b1) * gi;
      v[i] = b2 * v[i]! + (1 - b2) * gi * gi;
      const denom = Math.sqrt(v[i]!) / Math.sqrt(1 - b2 ** t) + eps;
      p[i] = p[i]! - ((lr / (1 - b1 ** t)) * m[i]!) / denom;
    }
  });
  return p;
}

test('first Adam step moves each entry by lr·sign(g); zero-grad entries stay', () => {
  const p = param('w', [0.5, -0.3, 0.25]);
  const opt = new Adam([p], { lr: 0.01 });
  p.grad.set([0.1, -2, 0]);
  opt.step();
  // m̂ / (sqrt(v̂) + ε) = g / (|g| + ε)
  assert.ok(Math.abs(p.value[0]! - (0.5 - 0.01)) < 1e-7);
  assert.ok(Math.abs(p.value[1]! - (-0.3 + 0.01)) < 1e-7);
  assert.equal(p.value[2], Math.fround(0.25));
});

test('momentum keeps moving an entry whose gradient became zero (dense update)', () => {
  const p = param('w', [1]);
  const opt = new Adam([p], { lr: 0.01 });
  p.grad[0] = 0.1;
  opt.step();
  const after1 = p.value[0]!;
  p.grad[0] = 0;
  opt.step();
  // hand: m2 = 0.009, v2 = 9.99e-6, step = 0.01/0.19 · 0.009 / (sqrt(9.99e-6)/sqrt(0.001999) + 1e-8) = 0.0067005
  assert.ok(Math.abs(after1 - p.value[0]! - 0.0067005) < 1e-6, `moved ${after1 - p.value[0]!}`);
});

test('matches float64 torch formulas over several steps with weight decay', () => {
  const p0 = [0.5, -0.3, 0, 1.7, -2.2];
  const grads = [
    [0.1, -0.2, 0, 0.5, 0.01],
    [0.05, 0.3, 0, -0.5, 0],
    [-0.4, 0, 0, 0.2, 0.02],
    [0, 0, 0, 0, 0],
    [0.3, -0.1, 0.2, 0.1, -0.3],
  ];
  for (const wd of [0, 0.1]) {
    const p = param('w', p0);
    const q = param('b', [3, -1]);
    const opt = new Adam([p, q], { lr: 0.05, weightDecay: wd });
    for (const g of grads) {
      p.grad.set(g);
      q.grad.set([g[0]!, g[1]!]);
      opt.step();
    }
    const ref = referenceAdam(p0, grads, 0.05, wd);
    const refQ = referenceAdam(
      [3, -1],
      grads.map((g) => [g[0]!, g[1]!]),
      0.05,
      wd,
    );
    for (const [i, r] of ref.entries())
      assert.ok(Math.abs(p.value[i]! - r) < 2e-6, `wd ${wd} p[${i}] ${p.value[i]} vs ${r}`);
    for (const [i, r] of refQ.entries())
      assert.ok(Math.abs(q.value[i]! - r) < 2e-6, `wd ${wd} q[${i}] ${q.value[i]} vs ${r}`);
    if (wd > 0) assert.notEqual(p.value[2], 0); // weight decay alone would keep 0 at 0, but later grads move it
  }
});

test('state() / loadState() resume bit for bit', () => {
  const grads = [
    [0.1, -0.2, 0.3],
    [0.05, 0.3, -0.1],
    [-0.4, 0, 0.2],
    [0.2, 0.2, 0.2],
    [-0.1, 0.5, 0],
  ];
  const a = param('w', [0.5, -0.3, 0.1]);
  const optA = new Adam([a], { lr: 0.02, weightDecay: 0.01 });
  for (const g of grads.slice(0, 3)) {
    a.grad.set(g);
    optA.step();
  }
  const saved = optA.state();
  const savedW = a.value.slice();
  for (const g of grads.slice(3)) {
    a.grad.set(g);
    optA.step();
  }

  const b = param('w', [...savedW]);
  const optB = new Adam([b], { lr: 999, weightDecay: 0.01 });
  optB.loadState(saved);
  assert.equal(optB.lr, 0.02);
  assert.equal(optB.stepCount, 3);
  for (const g of grads.slice(3)) {
    b.grad.set(g);
    optB.step();
  }
  assert.deepEqual(b.value, a.value);
  // the state is a copy, not a view of the live buffers
  assert.equal(saved.step, 3);
  assert.throws(() => optB.loadState({ ...saved, kind: 'radam' }), UserError);
  assert.throws(
    () => optB.loadState({ ...saved, buffers: { w: { m: new Float32Array(2), v: new Float32Array(2) } } }),
    UserError,
  );
});

test('bad hyper-parameters are UserErrors', () => {
  assert.throws(() => new Adam([param('w', [1])], { lr: -1 }), UserError);
  assert.throws(() => new Adam([param('w', [1])], { betas: [1, 0.9] }), UserError);
});

test('adamUpdate over a split gradient (g + g2) and split ranges equals one full step', async () => {
  const { adamUpdate } = await import('../../src/nn/adam.js');
  const vals = [0.5, -0.3, 0.1, 2, -1, 0.25, 0.75];
  const g = [0.1, -0.2, 0.3, 0, 0.5, -0.05, 0.01];
  const a = param('w', vals);
  const optA = new Adam([a], { lr: 0.01, weightDecay: 0.05 });
  a.grad.set(g);
  optA.step();
  const b = param('w', vals);
  const optB = new Adam([b], { lr: 0.01, weightDecay: 0.05 });
  const g1 = Float32Array.from(g, (x, i) => (i % 2 ? x : 0));
  const g2 = Float32Array.from(g, (x, i) => (i % 2 ? 0 : x));
  const c = optB.beginStep();
  const { m, v } = optB.moments(0);
  adamUpdate(b.value, g1, g2, m, v, 0, 3, c);
  adamUpdate(b.value, g1, g2, m, v, 3, 7, c);
  assert.deepEqual(b.value, a.value);
  assert.deepEqual(optB.state().buffers, optA.state().buffers);
});

test('native Adam kernel = the TypeScript loop, bit for bit (large tensors, with and without weight decay)', (t) => {
  if (!nativeAdamKernel()) {
    skipOrFailOnCi(t, 'native binding without adamStep (npm run build:native)');
    return;
  }
  const n = 300_001; // above the 2-thread threshold, odd length
  const rng = new Rng(5);
  const p0 = new Float32Array(n),
    grads: Float32Array[] = [];
  for (let i = 0; i < n; i++) p0[i] = 0.05 * rng.normal();
  for (let s = 0; s < 4; s++) {
    const g = new Float32Array(n);
    for (let i = 0; i < n; i++) g[i] = i % 7 === 0 ? 0 : 1e-3 * rng.normal() * (s + 1);
    grads.push(g);
  }
  for (const wd of [0, 0.01]) {
    const run = (native: boolean) => {
      const big: Parameter = { name: 'w', shape: [n], value: p0.slice(), grad: new Float32Array(n), itemSide: false };
      const small = param('b', [0.1, -0.2, 0.3]); // below NATIVE_ADAM_MIN: TypeScript either way
      const opt = new Adam([big, small], { lr: 1e-3, weightDecay: wd, native });
      assert.equal(opt.usesNative, native);
      for (const g of grads) {
        big.grad.set(g);
        small.grad.set([g[0]!, g[1]!, g[2]!]);
        opt.step();
      }
      return { big: big.value, small: small.value, st: opt.state() };
    };
    const a = run(true),
      b = run(false);
    assert.ok(n >= NATIVE_ADAM_MIN);
    let diff = 0;
    for (let i = 0; i < n; i++) if (a.big[i] !== b.big[i]) diff++;
    assert.equal(diff, 0, `wd ${wd}: ${diff} entries differ`);
    assert.deepEqual(a.small, b.small);
    assert.deepEqual(a.st.buffers.w!.m, b.st.buffers.w!.m);
    assert.deepEqual(a.st.buffers.w!.v, b.st.buffers.w!.v);
    assert.notDeepEqual(a.big, p0); // it moved
  }
});

test('native adamStep with a second gradient buffer (g + g2) = adamUpdate, bit for bit', (t) => {
  const k = nativeAdamKernel();
  if (!k) {
    skipOrFailOnCi(t, 'native binding without adamStep (npm run build:native)');
    return;
  }
  const n = 200_003;
  const rng = new Rng(9);
  const mk = (sd: number) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = sd * rng.normal();
    return a;
  };
  const p = mk(0.1),
    g = mk(1e-3),
    g2 = mk(1e-3),
    m = mk(1e-4),
    v = new Float32Array(n).map(() => 1e-7 * Math.abs(rng.normal()));
  const c = {
    beta1: 0.9,
    beta2: 0.999,
    stepSize: 1e-3 / (1 - 0.9 ** 3),
    invBc2Sqrt: 1 / Math.sqrt(1 - 0.999 ** 3),
    eps: 1e-8,
    weightDecay: 0.02,
  };
  const a = { p: p.slice(), m: m.slice(), v: v.slice() },
    b = { p: p.slice(), m: m.slice(), v: v.slice() };
  k.fn(a.p, g, g2, a.m, a.v, c.beta1, c.beta2, c.stepSize, c.invBc2Sqrt, c.eps, c.weightDecay, 2);
  adamUpdate(b.p, g, g2, b.m, b.v, 0, n, c);
  assert.deepEqual(a.p, b.p);
  assert.deepEqual(a.m, b.m);
  assert.deepEqual(a.v, b.v);
  assert.throws(() => k.fn(a.p, g.subarray(0, 5), null, a.m, a.v, 0.9, 0.999, 1e-3, 1, 1e-8, 0, 2), /at least as long/);
});
