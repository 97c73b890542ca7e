/**
 * The binding's helper thread (native/helper-thread.cc): kernels asked for 2 threads share their
 * chunks with one persistent helper. Its results must not depend on whether the helper was
 * polling, asleep or busy with another caller: checked against the single-thread kernel, bit for
 * bit, across sleeps between calls and with three JavaScript threads calling at once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { loadNativeBlas, nativeBindingPath } from '../../src/math/native.js';
import { Rng } from '../../src/math/rng.js';
import { skipOrFailOnCi } from '../helpers/ci.js';

const N = 200_003; // several chunks of 16K elements, odd length

/** Adam inputs for `steps` steps, from a seed. */
function adamProblem(seed: number, steps: number) {
  const rng = new Rng(seed);
  const p = Float32Array.from({ length: N }, () => 0.05 * rng.normal());
  const grads = Array.from({ length: steps }, () => Float32Array.from({ length: N }, () => 1e-3 * rng.normal()));
  return { p, grads };
}

type AdamStep = (...args: unknown[]) => void;

/** Runs the steps with `threads`; `pause(i)` runs before step i (e.g. a sleep that lets the helper sleep). */
function runAdam(adamStep: AdamStep, seed: number, threads: number, pause: (i: number) => void = () => {}) {
  const { p, grads } = adamProblem(seed, 12);
  const m = new Float32Array(N),
    v = new Float32Array(N),
    g = new Float32Array(N);
  for (const [i, gs] of grads.entries()) {
    pause(i);
    g.set(gs);
    const stepSize = 1e-3 / (1 - 0.9 ** (i + 1)),
      inv = 1 / Math.sqrt(1 - 0.999 ** (i + 1));
    adamStep(p, g, null, m, v, 0.9, 0.999, stepSize, inv, 1e-8, 0.01, threads, true);
    assert.ok(
      g.every((x) => x === 0),
      'zeroGrads clears every gradient entry read',
    );
  }
  return p;
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

test('2-thread adamStep = 1 thread, bit for bit, whether the helper is polling or asleep between calls', (t) => {
  const nb = loadNativeBlas();
  if (!nb.ok || typeof nb.blas.adamStep !== 'function') return skipOrFailOnCi(t, 'native binding without adamStep');
  const step = nb.blas.adamStep.bind(nb.blas) as AdamStep;
  const one = runAdam(step, 7, 1);
  assert.deepEqual(runAdam(step, 7, 2), one, 'back to back (helper polling)');
  // 5 ms is far above the helper's polling window: it sleeps, and the caller wakes it
  assert.deepEqual(
    runAdam(step, 7, 2, (i) => i % 2 === 0 && sleepMs(5)),
    one,
    'with sleeps between calls',
  );
});

// A worker that runs the same 2-thread Adam steps while the main thread does: one of the two
// callers finds the helper busy and runs its chunks alone.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const blas = require(workerData.binding);
const { p, grads } = workerData;
const n = p.length, m = new Float32Array(n), v = new Float32Array(n), g = new Float32Array(n);
for (let i = 0; i < grads.length; i++) {
  g.set(grads[i]);
  const stepSize = 1e-3 / (1 - 0.9 ** (i + 1)), inv = 1 / Math.sqrt(1 - 0.999 ** (i + 1));
  blas.adamStep(p, g, null, m, v, 0.9, 0.999, stepSize, inv, 1e-8, 0.01, 2, true);
}
parentPort.postMessage(p);
`;

test('2-thread adamStep from three JavaScript threads at once = 1 thread, bit for bit', async (t) => {
  const nb = loadNativeBlas();
  if (!nb.ok || typeof nb.blas.adamStep !== 'function') return skipOrFailOnCi(t, 'native binding without adamStep');
  const step = nb.blas.adamStep.bind(nb.blas) as AdamStep;
  const binding = nativeBindingPath();
  const seeds = [11, 12];
  const workers = seeds.map((seed) => {
    const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { binding, ...adamProblem(seed, 12) } });
    return new Promise<Float32Array>((resolve, reject) => {
      w.once('message', (p: Float32Array) => resolve(p));
      w.once('error', reject);
    });
  });
  let finished = false;
  const all = Promise.all(workers).finally(() => (finished = true));
  // the main thread keeps stepping for as long as the workers run (they start in ~30 ms)
  const mine = runAdam(step, 13, 2);
  for (let rounds = 1; !finished && rounds < 500; rounds++) {
    assert.deepEqual(runAdam(step, 13, 2), mine);
    await new Promise((r) => setImmediate(r));
  }
  const [a, b] = await all;
  assert.deepEqual(a, runAdam(step, 11, 1));
  assert.deepEqual(b, runAdam(step, 12, 1));
  assert.deepEqual(mine, runAdam(step, 13, 1));
});
