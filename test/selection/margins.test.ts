/**
 * The margin over CP at fixed calibration levels: by hand on a small front and CP curve (n/a on
 * the front's side and on CP's, exact hits, a front point dominated on test, a one-point front),
 * and a property check that shifting the front's NDCG moves the margin the same way.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  cpCurve,
  DEFAULT_MARGIN_TARGETS,
  envelopeAt,
  frontEnvelope,
  marginsAtTargets,
  type TradeoffPoint,
} from '../../src/selection/index.js';
import { marginInline, marginTextLines } from '../../src/report/margins.js';

// CP: the backbone (λ 0) at JSD 0.20, λ 0.5 at 0.10, λ 0.9 at 0.05 — most calibrated first.
const curve = cpCurve({ ndcg: 0.3, jsd: 0.2 }, [
  { lambda: 0.5, ndcg: 0.26, jsd: 0.1 },
  { lambda: 0.9, ndcg: 0.22, jsd: 0.05 },
]);
// The front on test: (0.09, 0.24) is beaten by (0.07, 0.25) and is not on the envelope.
const front: TradeoffPoint[] = [
  { ndcg: 0.28, jsd: 0.11 },
  { ndcg: 0.25, jsd: 0.07 },
  { ndcg: 0.24, jsd: 0.09 },
  { ndcg: 0.295, jsd: 0.15 },
];
const TARGETS = [0.04, 0.05, 0.08, 0.1, 0.12, 0.25];

function assertClose(actual: readonly (number | null)[], expected: readonly (number | null)[], what: string): void {
  assert.equal(actual.length, expected.length, what);
  actual.forEach((a, i) => {
    const e = expected[i] ?? null;
    if (e === null || a === null) assert.equal(a, e, `${what}[${i}]`);
    else assert.ok(Math.abs(a - e) < 1e-12, `${what}[${i}]: ${a} vs ${e}`);
  });
}

test('frontEnvelope: the points no other beats on test, by JSD; NDCG rises along it', () => {
  assert.deepEqual(frontEnvelope(front), [
    { ndcg: 0.25, jsd: 0.07 },
    { ndcg: 0.28, jsd: 0.11 },
    { ndcg: 0.295, jsd: 0.15 },
  ]);
  assert.deepEqual(frontEnvelope([]), []);
});

test('margins by hand: n/a below either curve, exact hits, linear between points, above both ends', () => {
  const m = marginsAtTargets(front, curve, TARGETS);
  assert.deepEqual(m.targets, TARGETS);
  // CP: beyond λ 0.9; λ 0.9 exactly; 0.22 + 0.6·0.04; λ 0.5 exactly; 0.26 + 0.2·0.04; above the backbone
  assertClose(m.cp, [null, 0.22, 0.244, 0.26, 0.268, 0.3], 'cp');
  // front: not reached twice; 0.25 + ¼·0.03 (not through the dominated 0.24); 0.25 + ¾·0.03;
  // 0.28 + ¼·0.015; above the least calibrated point: its NDCG
  assertClose(m.front, [null, null, 0.2575, 0.2725, 0.28375, 0.295], 'front');
  assertClose(m.values, [null, null, 0.0135, 0.0125, 0.01575, -0.005], 'margin');
});

test('margins by hand: a front more calibrated than CP reaches is n/a there, not ahead', () => {
  const calibrated = [...front, { ndcg: 0.2, jsd: 0.03 }];
  const m = marginsAtTargets(calibrated, curve, [0.04, 0.05]);
  assertClose(m.front, [0.2125, 0.225], 'front'); // 0.20 + ¼·0.05, 0.20 + ½·0.05
  assertClose(m.cp, [null, 0.22], 'cp');
  assertClose(m.values, [null, 0.005], 'margin');
});

test('margins by hand: a one-point front; an exact hit on an envelope point', () => {
  const m = marginsAtTargets([{ ndcg: 0.27, jsd: 0.1 }], curve, [0.08, 0.1, 0.12, 0.25]);
  assertClose(m.front, [null, 0.27, 0.27, 0.27], 'front');
  assertClose(m.values, [null, 0.01, 0.002, -0.03], 'margin');
  assert.equal(envelopeAt(frontEnvelope(front), 0.11), 0.28);
});

test('margins: no front or no CP curve gives n/a everywhere; the default targets', () => {
  assert.deepEqual(DEFAULT_MARGIN_TARGETS, [0.04, 0.06, 0.08, 0.1, 0.12, 0.15, 0.18]);
  const none = marginsAtTargets([], curve);
  assert.deepEqual(none.targets, [...DEFAULT_MARGIN_TARGETS]);
  assert.deepEqual(
    none.values,
    DEFAULT_MARGIN_TARGETS.map(() => null),
  );
  assert.deepEqual(marginsAtTargets(front, [], [0.1]).values, [null]);
  const nonFinite = marginsAtTargets([{ ndcg: Number.NaN, jsd: 0.1 }, ...front], curve, [0.1]);
  assertClose(nonFinite.values, [0.0125], 'a non-finite point is ignored');
});

test('margin text: one line per row, n/a and signed values, targets as the header', () => {
  const m = marginsAtTargets(front, curve, TARGETS);
  const lines = marginTextLines([{ label: 'bpr', margins: m }]);
  assert.equal(lines.length, 3);
  assert.match(lines[1]!, /^ {2}t +0\.04 +0\.05 +0\.08 +0\.1 +0\.12 +0\.25$/);
  // 0.01575 is a hair below in binary: it prints as 0.0157
  assert.match(lines[2]!, /^ {2}bpr +n\/a +n\/a +\+0\.0135 +\+0\.0125 +\+0\.0157 +-0\.0050$/);
  assert.equal(marginInline(m).split(', ')[2], '0.08 +0.0135');
});

// NDCG on a 0.001 grid: a shift then cannot round two distinct values into a tie, which would
// legitimately change which points form the envelope.
const thousandths = (max: number) => fc.integer({ min: 0, max }).map((i) => i / 1000);
const pointArb = fc.record({
  ndcg: thousandths(500),
  jsd: fc.double({ min: 0.01, max: 0.3, noNaN: true }),
});

test('property: shifting the front up by δ ≥ 0 raises every margin by δ (n/a stays n/a)', () => {
  fc.assert(
    fc.property(
      fc.array(pointArb, { minLength: 1, maxLength: 8 }),
      fc.array(pointArb, { minLength: 1, maxLength: 6 }),
      thousandths(200),
      fc.double({ min: 0, max: 0.35, noNaN: true }),
      (frontPts, cpPts, delta, extraTarget) => {
        const cp = cpCurve(
          null,
          cpPts.map((p, i) => ({ lambda: i / 10, ...p })),
        );
        const targets = [...DEFAULT_MARGIN_TARGETS, extraTarget];
        const before = marginsAtTargets(frontPts, cp, targets);
        const after = marginsAtTargets(
          frontPts.map((p) => ({ ndcg: p.ndcg + delta, jsd: p.jsd })),
          cp,
          targets,
        );
        before.values.forEach((b, i) => {
          const a = after.values[i] ?? null;
          if (b === null || a === null) {
            assert.equal(a, b);
            return;
          }
          assert.ok(a >= b - 1e-12, `not monotone at ${targets[i]}: ${b} → ${a}`);
          assert.ok(Math.abs(a - b - delta) < 1e-9, `not shifted by δ at ${targets[i]}: ${b} → ${a}`);
        });
      },
    ),
    { numRuns: 300, seed: 14 },
  );
});
