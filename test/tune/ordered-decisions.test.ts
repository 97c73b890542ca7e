/**
 * OrderedDecisions: whatever order trials running side by side reach their rungs in, the
 * decisions are those of running the trials one after another (ASHA fed in trial order).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AshaScheduler, ashaRungs, type Decision } from '../../src/tune/asha.js';
import { OrderedDecisions } from '../../src/tune/ordered-decisions.js';
import { Rng } from '../../src/math/rng.js';

// trial i's metric after e epochs: a_i·(1 − exp(−e/τ_i)); trial 4 ends by itself after 4 epochs
// (its own early stopping), before the second rung
const A = [0.3, 0.42, 0.35, 0.5, 0.28, 0.45, 0.38, 0.33, 0.48, 0.4];
const TAU = [3, 4, 2, 6, 1, 3, 5, 2, 4, 3];
const OWN_END = new Map([[4, 4]]);
const OPTIONS = { maxEpochs: 30, eta: 3, graceEpochs: 2 };
const RUNGS = ashaRungs(OPTIONS); // 2, 6, 18
const curve = (i: number, e: number) => A[i]! * (1 - Math.exp(-e / TAU[i]!));
const lastEpoch = (i: number) => OWN_END.get(i) ?? OPTIONS.maxEpochs;

/** Trials one after another: each trial's epochs trained (its stop rung, its own end or the cap). */
function sequential(): number[] {
  const asha = new AshaScheduler(OPTIONS);
  return A.map((_, i) => {
    for (let e = 1; e <= lastEpoch(i); e++) if (asha.onReport(`t${i}`, e, curve(i, e)) === 'stop') return e;
    return lastEpoch(i);
  });
}

/**
 * `workers` trials at a time, started in trial order; at each step a randomly chosen trial that
 * is not waiting for a decision trains one epoch. Returns each trial's epochs trained.
 */
function sideBySide(workers: number, seed: number): number[] {
  const rng = new Rng(seed);
  const decisions = new OrderedDecisions(new AshaScheduler(OPTIONS), RUNGS, (i) => `t${i}`);
  const epochs = A.map(() => 0);
  const waiting = new Set<number>();
  const stopped = new Set<number>();
  const live: number[] = [];
  let next = 0;
  const apply = (ds: Array<{ trial: number; decision: Decision }>) => {
    for (const d of ds) {
      waiting.delete(d.trial);
      if (d.decision === 'stop') stopped.add(d.trial);
    }
  };
  for (;;) {
    while (live.length < workers && next < A.length) live.push(next++);
    const ready = live.filter((i) => !waiting.has(i));
    if (ready.length === 0) {
      if (live.length === 0) break;
      throw new Error(`deadlock: ${live.join(', ')} all wait`);
    }
    const i = ready[rng.nextInt(ready.length)]!;
    if (stopped.has(i) || epochs[i] === lastEpoch(i)) {
      live.splice(live.indexOf(i), 1);
      apply(decisions.end(i, epochs[i]!));
      continue;
    }
    const e = ++epochs[i]!;
    const k = RUNGS.indexOf(e);
    if (k >= 0) {
      waiting.add(i);
      apply(decisions.report(i, k, curve(i, e)));
    }
  }
  return epochs;
}

test('ordered decisions: side by side in any order, the stops of trials run one after another', () => {
  const expected = sequential();
  // by hand (metrics at rung 2: .146 .165 .221 .142 .242 .219 .125 .209 .189 .195): 0, 1, 2, 4 lead
  // rung 2 when they reach it, 3 and 5–9 do not (5: behind 2 and 4 with keep 2); 4 ends by itself
  // after 4 epochs; at rung 6 0, 1, 2 lead; at rung 18 2 is behind 1 (.350 < .415)
  assert.deepEqual(expected, [30, 30, 18, 2, 4, 2, 2, 2, 2, 2]);
  for (const workers of [1, 2, 3, 10]) {
    for (const seed of [1, 2, 3, 4, 5]) {
      assert.deepEqual(sideBySide(workers, seed), expected, `workers ${workers}, seed ${seed}`);
    }
  }
});

test('ordered decisions: a later trial waits for an earlier one; a replayed study gives the same answers', () => {
  const d = new OrderedDecisions(new AshaScheduler(OPTIONS), RUNGS, (i) => `t${i}`);
  assert.deepEqual(d.report(1, 0, 0.2), []); // trial 0 may still reach rung 0
  assert.deepEqual(d.report(0, 0, 0.1), [
    { trial: 0, rung: 0, decision: 'continue' },
    { trial: 1, rung: 0, decision: 'continue' },
  ]);
  assert.deepEqual(d.report(1, 1, 0.3), []);
  assert.deepEqual(d.end(0, 5), [{ trial: 1, rung: 1, decision: 'continue' }]); // 0 ended before rung 6
  assert.throws(() => d.report(1, 1, 0.3), /twice/);
  assert.throws(() => d.report(2, 7, 0.3), /no rung 7/);
});
