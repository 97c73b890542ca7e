import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AshaScheduler,
  ashaRungs,
  backboneEpochCap,
  NoScheduler,
  schedulerFromState,
  type Decision,
  type TrialScheduler,
} from '../../src/tune/asha.js';
import { InputError } from '../../src/util/errors.js';

/*
 * The synthetic objective: trial i's valid metric after e epochs is a_i·(1 − exp(−e/τ_i)).
 * Trial i starts at time i and reports epoch e at time i + e (reports of one time in trial
 * order); a stopped trial reports no more. η 3, grace 2, max 30 → rungs at 2, 6 and 18 epochs.
 *
 * By hand (metric at the rung; n = trials at the rung so far, itself included; keep =
 * max(1, ⌊n/3⌋); ahead = earlier arrivals with a metric ≥ its own; it goes on when ahead < keep):
 *
 *   time trial rung metric  n keep ahead
 *    2    0    2   0.1460   1  1    0    continue (alone at the rung: the leader goes on)
 *    3    1    2   0.1653   2  1    0    continue (beats 0)
 *    4    2    2   0.2212   3  1    0    continue (beats 0, 1)
 *    5    3    2   0.1417   4  1    3    stop at 2  — the best curve (a 0.50) but the slowest so far
 *    6    0    6   0.2594   1  1    0    continue (alone)
 *    6    4    2   0.2421   5  1    0    continue (beats all four)
 *    7    1    6   0.3263   2  1    0    continue
 *    7    5    2   0.2190   6  2    2    stop at 2  (behind 2: 0.2212 and 4: 0.2421)
 *    8    2    6   0.3326   3  1    0    continue
 *    8    6    2   0.1253   7  2    6    stop at 2
 *    9    7    2   0.2086   8  2    3    stop at 2  (behind 2, 4, 5)
 *   10    4    6   0.2793   4  1    2    stop at 6  (behind 1: 0.3263 and 2: 0.3326)
 *   10    8    2   0.1889   9  3    4    stop at 2  (behind 1, 2, 4, 5 — 0.1653 of trial 1 is not)
 *   18    0   18   0.2993   1  1    0    continue (alone: trial 0, the first everywhere, runs to 30)
 *   19    1   18   0.4153   2  1    0    continue (runs to 30)
 *   20    2   18   0.3500   3  1    1    stop at 18 (behind 1)
 *
 * So: 3, 5, 6, 7, 8 stop at rung 2; 4 at rung 6; 2 at rung 18; 0 and 1 train all 30 epochs.
 */
const A = [0.3, 0.42, 0.35, 0.5, 0.28, 0.45, 0.38, 0.33, 0.48];
const TAU = [3, 4, 2, 6, 1, 3, 5, 2, 4];
const MAX = 30;
const curve = (i: number, e: number) => A[i]! * (1 - Math.exp(-e / TAU[i]!));

interface Report {
  trial: number;
  epochs: number;
}
const EVENTS: Report[] = A.flatMap((_, trial) =>
  Array.from({ length: MAX }, (_, e) => ({ trial, epochs: e + 1 })),
).sort((x, y) => x.trial + x.epochs - (y.trial + y.epochs) || x.trial - y.trial);

/** Runs the events from `from` on, skipping stopped trials; returns every decision and the stop epochs. */
function run(scheduler: TrialScheduler, from = 0, to = EVENTS.length, stopped = new Map<number, number>()) {
  const decisions: Array<[number, number, Decision]> = [];
  for (const { trial, epochs } of EVENTS.slice(from, to)) {
    if (stopped.has(trial)) continue;
    const d = scheduler.onReport(`t${trial}`, epochs, curve(trial, epochs));
    decisions.push([trial, epochs, d]);
    if (d === 'stop') stopped.set(trial, epochs);
  }
  return { decisions, stopped };
}

const asha = () => new AshaScheduler({ maxEpochs: MAX, eta: 3, graceEpochs: 2 });

test('ASHA stops the trials of the hand-computed schedule at the hand-computed rungs', () => {
  const scheduler = asha();
  assert.deepEqual(scheduler.rungs, [2, 6, 18]);
  const { stopped } = run(scheduler);
  assert.deepEqual(
    [...stopped].sort((x, y) => x[0] - y[0]),
    [
      [2, 18],
      [3, 2],
      [4, 6],
      [5, 2],
      [6, 2],
      [7, 2],
      [8, 2],
    ],
  );
  for (const [trial, rung] of stopped) assert.equal(scheduler.stoppedAt(`t${trial}`), rung);
  assert.equal(scheduler.stoppedAt('t0'), undefined);
  assert.equal(scheduler.stoppedAt('t1'), undefined);
  assert.deepEqual(
    scheduler.rungMetrics('t4').map((r) => [r.epochs, r.metric.toFixed(4)]),
    [
      [2, '0.2421'],
      [6, '0.2793'],
    ],
  );
  // the rungs' reports, in arrival order
  const order = scheduler.state();
  assert.equal(order.kind, 'asha');
  if (order.kind !== 'asha') return;
  assert.deepEqual(
    order.rungs.map((r) => r.reports.map((x) => x.trial)),
    [
      ['t0', 't1', 't2', 't3', 't4', 't5', 't6', 't7', 't8'],
      ['t0', 't1', 't2', 't4'],
      ['t0', 't1', 't2'],
    ],
  );
});

test('ASHA is asynchronous: a trial that reaches a rung early goes on where a late one stops', () => {
  // the same three metrics at rung 5; only the arrival order differs
  const early = new AshaScheduler({ maxEpochs: 50, eta: 3, graceEpochs: 5 });
  assert.equal(early.onReport('weak', 5, 0.1), 'continue', 'alone at the rung: promoted');
  assert.equal(early.onReport('mid', 5, 0.2), 'continue', 'beats the only one before it');
  assert.equal(early.onReport('strong', 5, 0.3), 'continue');
  const late = new AshaScheduler({ maxEpochs: 50, eta: 3, graceEpochs: 5 });
  assert.equal(late.onReport('strong', 5, 0.3), 'continue');
  assert.equal(late.onReport('mid', 5, 0.2), 'stop');
  assert.equal(late.onReport('weak', 5, 0.1), 'stop');
  // epochs between rungs never stop a trial
  assert.equal(early.onReport('weak', 6, 0), 'continue');
});

test('ASHA: ties go to the earlier arrival, NaN ranks last and never goes on, past the last rung all go on', () => {
  const s = new AshaScheduler({ maxEpochs: 20, eta: 2, graceEpochs: 5 });
  assert.deepEqual(s.rungs, [5, 10]);
  assert.equal(s.onReport('a', 5, 0.2), 'continue');
  assert.equal(s.onReport('b', 5, 0.2), 'stop', 'a tie with an earlier arrival: behind it');
  assert.equal(s.onReport('c', 5, 0.3), 'continue');
  assert.equal(s.onReport('d', 5, 0.2), 'stop', 'n 4, keep 2: a, b (ties) and c are ahead');
  assert.equal(s.onReport('e', 5, NaN), 'stop');
  assert.equal(new AshaScheduler({ maxEpochs: 20, graceEpochs: 5 }).onReport('x', 5, NaN), 'stop', 'NaN alone');
  assert.equal(s.onReport('a', 19, 0.1), 'continue', 'rung 10 reached late (reports skipped): alone there');
  assert.deepEqual(s.rungMetrics('a'), [
    { epochs: 5, metric: 0.2 },
    { epochs: 10, metric: 0.1 },
  ]);
  assert.equal(s.onReport('a', 20, 0), 'continue', 'after the last rung');
  assert.deepEqual(s.rungMetrics('e'), [{ epochs: 5, metric: NaN }]);
  assert.throws(() => s.onReport('a', 0, 0.1), RangeError);
  assert.throws(() => s.onReport('a', 3, Infinity), RangeError);
  assert.throws(() => s.onReport('', 3, 0.1), RangeError);
});

test('ASHA: a replayed report gets the answer it got the first time', () => {
  const s = asha();
  const first = run(s).decisions;
  for (const [trial, epochs, d] of first) assert.equal(s.onReport(`t${trial}`, epochs, curve(trial, epochs)), d);
  // a stopped trial asked again past its rung is still stopped, whatever its metric
  assert.equal(s.onReport('t3', 29, 1), 'stop');
});

test('ASHA restored from its JSON state mid-run makes the same decisions as the uninterrupted scheduler', () => {
  const uninterrupted = asha();
  const whole = { ...run(uninterrupted), state: uninterrupted.state() };
  for (const cut of [0, 7, 40, 61, 150]) {
    const s = asha();
    const head = run(s, 0, cut);
    const restored = schedulerFromState(JSON.parse(JSON.stringify(s.state())));
    assert.ok(restored instanceof AshaScheduler);
    const tail = run(restored, cut, EVENTS.length, head.stopped);
    assert.deepEqual([...head.decisions, ...tail.decisions], whole.decisions, `cut at event ${cut}`);
    assert.deepEqual(restored.state(), whole.state, `cut at event ${cut}`);
  }
});

test('ASHA state: NaN survives JSON as null; a state of other rungs is refused', () => {
  const s = new AshaScheduler({ maxEpochs: 20, graceEpochs: 5 });
  s.onReport('a', 5, NaN);
  const json = JSON.parse(JSON.stringify(s.state()));
  assert.deepEqual(json.rungs[0].reports, [{ trial: 'a', metric: null }]);
  const back = AshaScheduler.fromState(json);
  assert.equal(back.stoppedAt('a'), 5);
  assert.throws(() => AshaScheduler.fromState({ ...json, graceEpochs: 4 }), /rungs/);
  assert.throws(() => AshaScheduler.fromState({ ...json, eta: 'x' }));
  // a trial at rung 10 that rung 5 stopped: not a state this scheduler writes
  const bad = { ...json, rungs: [json.rungs[0], { epochs: 15, reports: [{ trial: 'a', metric: 0.1 }] }] };
  assert.throws(() => AshaScheduler.fromState(bad), /cannot reach rung 1/);
});

test('the none scheduler never stops a trial and round-trips its state', () => {
  const s = new NoScheduler();
  for (const { trial, epochs } of EVENTS)
    assert.equal(s.onReport(`t${trial}`, epochs, curve(trial, epochs)), 'continue');
  assert.equal(s.onReport('x', 1, NaN), 'continue');
  assert.deepEqual(s.state(), { kind: 'none' });
  assert.ok(schedulerFromState(JSON.parse(JSON.stringify(s.state()))) instanceof NoScheduler);
});

test('ASHA defaults: η 3, grace 5, up to the backbone epoch cap; bad settings name their field', () => {
  assert.equal(backboneEpochCap('bpr'), 300);
  assert.equal(backboneEpochCap('dmf', { epochs: 40 }), 40);
  assert.deepEqual(ashaRungs({ maxEpochs: backboneEpochCap('bpr') }), [5, 15, 45, 135]);
  assert.deepEqual(ashaRungs({ maxEpochs: 135 }), [5, 15, 45]);
  assert.deepEqual(ashaRungs({ maxEpochs: 10, eta: 2, graceEpochs: 1 }), [1, 2, 4, 8]);
  const field = (options: Parameters<typeof ashaRungs>[0]) => {
    try {
      new AshaScheduler(options);
    } catch (e) {
      assert.ok(e instanceof InputError);
      return e.field;
    }
    return undefined;
  };
  assert.equal(field({ maxEpochs: 5 }), 'graceEpochs');
  assert.equal(field({ maxEpochs: 30, eta: 1 }), 'eta');
  assert.equal(field({ maxEpochs: 30, eta: 2.5 }), 'eta');
  assert.equal(field({ maxEpochs: 1.5 }), 'maxEpochs');
  assert.equal(field({ maxEpochs: 30, graceEpochs: 0 }), 'graceEpochs');
  assert.equal(field({ maxEpochs: 30 }), undefined);
  assert.throws(() => backboneEpochCap('mostpop'), InputError);
});

test('the package exports the tuning core', async () => {
  const api = await import('../../src/index.js');
  const space = await import('../../src/tune/search-space.js');
  assert.equal(api.AshaScheduler, AshaScheduler);
  assert.equal(api.NoScheduler, NoScheduler);
  assert.equal(api.schedulerFromState, schedulerFromState);
  assert.equal(api.parseSearchSpace, space.parseSearchSpace);
  assert.equal(api.sampleTrials, space.sampleTrials);
  assert.deepEqual([api.DEFAULT_ETA, api.DEFAULT_GRACE_EPOCHS], [3, 5]);
});
