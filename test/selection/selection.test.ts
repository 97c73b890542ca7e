/**
 * The selection module: epoch selection, Pareto fronts and the comparison with CP, by hand, by a
 * brute-force property check, and on the oracle's own per-epoch numbers (the reference's CaliTune
 * runs against its CP curve: ahead for JSD ≥ ~0.105, behind below).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  AHEAD_TOLERANCE,
  aheadOfCp,
  closestCpLambda,
  compareWithCp,
  cpAtJsd,
  cpCurve,
  frontierReport,
  onParetoFront,
  paretoFront,
  paretoStatus,
  selectEpochs,
  selectionModeOr,
  validationFront,
  verdictOf,
  type FrontCandidate,
} from '../../src/selection/index.js';
import { ORACLE_DIR, requireShared } from '../helpers/shared.js';

const point = (epoch: number, validNdcg: number, jsd: number, tradeoff: number | null = null) => ({
  epoch,
  validNdcg,
  jsd,
  tradeoff,
});

test('selectEpochs: best per metric (first on ties), "any" = last epoch improving a running best; not epoch 0', () => {
  const t = (n: number, j: number) => Math.sqrt(n / 0.3) * Math.sqrt(0.3 / j);
  const pts = [
    point(0, 0.5, 0.01, 9),
    point(1, 0.31, 0.29, t(0.31, 0.29)),
    point(2, 0.28, 0.2, t(0.28, 0.2)),
    point(3, 0.27, 0.25, t(0.27, 0.25)),
    point(4, 0.2, 0.19, t(0.2, 0.19)),
    point(5, 0.31, 0.3, t(0.31, 0.3)),
  ];
  const s = selectEpochs(pts);
  assert.equal(s.ndcg!.epoch, 1); // epoch 5 ties at 0.31: the first wins
  assert.equal(s.pop_jsd!.epoch, 4);
  assert.equal(s.tradeoff!.epoch, 2); // sqrt(0.28/0.3 · 0.3/0.2) = 1.183 > epoch 4's 1.026
  assert.equal(s.any!.epoch, 4); // epoch 5 improves nothing
  assert.deepEqual(selectEpochs([point(0, 0.3, 0.3)]), { any: null, ndcg: null, pop_jsd: null, tradeoff: null });
});

test('selectEpochs: non-finite metrics and null trade-offs are never selected for their mode', () => {
  const s = selectEpochs([point(1, Number.NaN, 0.2, null), point(2, 0.2, Number.NaN, 1.1), point(3, 0.1, 0.3, null)]);
  assert.equal(s.ndcg!.epoch, 2);
  assert.equal(s.pop_jsd!.epoch, 1);
  assert.equal(s.tradeoff!.epoch, 2);
  assert.equal(s.any!.epoch, 2); // epoch 3 improves none of 0.2 / 0.2 / 1.1
  assert.equal(selectionModeOr('pop_jsd'), 'pop_jsd');
  assert.equal(selectionModeOr('best'), 'any');
  assert.equal(selectionModeOr(undefined, 'tradeoff'), 'tradeoff');
});

test('Pareto front by hand: dominated, duplicates, non-finite points', () => {
  const pts = [
    { ndcg: 0.3, jsd: 0.2 },
    { ndcg: 0.28, jsd: 0.1 },
    { ndcg: 0.29, jsd: 0.12 },
    { ndcg: 0.27, jsd: 0.15 },
    { ndcg: 0.28, jsd: 0.1 },
    { ndcg: 0.31, jsd: 0.25 },
    { ndcg: Number.NaN, jsd: 0.05 },
    { ndcg: 0.28, jsd: 0.11 },
  ];
  assert.deepEqual(paretoStatus(pts), [
    'front',
    'front',
    'front',
    'dominated',
    'duplicate',
    'front',
    'dominated',
    'dominated',
  ]);
  assert.deepEqual(onParetoFront(pts), [true, true, true, false, true, true, false, false]);
  assert.deepEqual(
    paretoFront(pts).map((p) => pts.indexOf(p)),
    [1, 2, 0, 5],
  );
});

test('Pareto front: the sweep equals the pairwise definition (property, 300 cases)', () => {
  const coord = fc.oneof(
    fc.integer({ min: 0, max: 6 }).map((x) => x / 10),
    fc.constant(Number.NaN),
  );
  fc.assert(
    fc.property(fc.array(fc.record({ ndcg: coord, jsd: coord }), { maxLength: 30 }), (pts) => {
      const finite = (p: { ndcg: number; jsd: number }) => Number.isFinite(p.ndcg) && Number.isFinite(p.jsd);
      const dominated = (p: { ndcg: number; jsd: number }) =>
        pts.some((q) => finite(q) && q.ndcg >= p.ndcg && q.jsd <= p.jsd && (q.ndcg > p.ndcg || q.jsd < p.jsd));
      const expected = pts.map((p) => finite(p) && !dominated(p));
      assert.deepEqual(onParetoFront(pts), expected);
      const front = paretoFront(pts);
      assert.equal(new Set(front.map((p) => `${p.ndcg}|${p.jsd}`)).size, front.length);
      assert.equal(front.length, new Set(pts.filter((_, i) => expected[i]).map((p) => `${p.ndcg}|${p.jsd}`)).size);
      for (let i = 1; i < front.length; i++)
        assert.ok(front[i]!.jsd > front[i - 1]!.jsd && front[i]!.ndcg > front[i - 1]!.ndcg);
    }),
    { numRuns: 300, seed: 920 },
  );
});

const curve = cpCurve({ ndcg: 0.28, jsd: 0.24 }, [
  { lambda: 0.5, ndcg: 0.25, jsd: 0.08 },
  { lambda: 0.9, ndcg: 0.23, jsd: 0.03 },
  { lambda: 0.7, ndcg: null, jsd: 0.05 },
]);

test('cpAtJsd: linear along the curve (backbone = λ 0); exact points; above the backbone; beyond λ max', () => {
  assert.deepEqual(
    curve.map((p) => p.lambda),
    [0.9, 0.5, 0],
  ); // the null point is dropped; sorted by JSD
  assert.deepEqual(cpAtJsd(curve, 0.24), { ndcg: 0.28, where: 'inside' });
  assert.deepEqual(cpAtJsd(curve, 0.3), { ndcg: 0.28, where: 'above' });
  assert.ok(Math.abs(cpAtJsd(curve, 0.16).ndcg! - 0.265) < 1e-12);
  assert.ok(Math.abs(cpAtJsd(curve, 0.055).ndcg! - 0.24) < 1e-12);
  assert.deepEqual(cpAtJsd(curve, 0.03), { ndcg: 0.23, where: 'inside' });
  assert.deepEqual(cpAtJsd(curve, 0.02), { ndcg: null, where: 'beyond' });
  assert.deepEqual(cpAtJsd([], 0.1), { ndcg: null, where: 'none' });
  const tied = cpCurve(null, [
    { lambda: 0.3, ndcg: 0.2, jsd: 0.1 },
    { lambda: 0.4, ndcg: 0.22, jsd: 0.1 },
    { lambda: 0.1, ndcg: 0.3, jsd: 0.2 },
  ]);
  assert.equal(cpAtJsd(tied, 0.1).ndcg, 0.22); // two λ at one JSD: the better one
});

test('the verdict: one tolerance, ahead / level / behind, no comparison beyond CP', () => {
  assert.equal(AHEAD_TOLERANCE, 5e-4);
  assert.equal(verdictOf(0.0006), 'ahead');
  assert.equal(verdictOf(0.0005), 'level');
  assert.equal(verdictOf(-0.0005), 'level');
  assert.equal(verdictOf(-0.0006), 'behind');
  const c = compareWithCp({ ndcg: 0.27, jsd: 0.16 }, curve);
  assert.equal(c.verdict, 'ahead');
  assert.ok(Math.abs(c.delta! - 0.005) < 1e-12);
  assert.equal(compareWithCp({ ndcg: 0.2652, jsd: 0.16 }, curve).verdict, 'level');
  // less calibrated than the backbone, lower NDCG
  assert.equal(compareWithCp({ ndcg: 0.27, jsd: 0.3 }, curve).verdict, 'behind');
  assert.deepEqual(compareWithCp({ ndcg: 0.5, jsd: 0.01 }, curve), {
    ndcg: null,
    where: 'beyond',
    delta: null,
    verdict: null,
  });
  assert.equal(aheadOfCp({ ndcg: 0.27, jsd: 0.16 }, curve), true);
  assert.equal(aheadOfCp({ ndcg: 0.2652, jsd: 0.16 }, curve), false);
});

test('closestCpLambda pairs an epoch with the stored λ of nearest JSD (ties: lower λ)', () => {
  assert.equal(closestCpLambda({ '0.2': { jsd: 0.1 }, '0.1': { jsd: 0.3 } }, 0.2), '0.1');
  assert.equal(closestCpLambda({ '0.5': { jsd: 0.08 }, '0.9': { jsd: 0.03 }, '0.7': { jsd: null } }, 0.05), '0.9');
  assert.equal(closestCpLambda({}, 0.2), undefined);
});

const row = (name: string, epoch: number, vn: number, j: number, tn = vn, tj = j): FrontCandidate => ({
  name,
  epoch,
  valid_ndcg: vn,
  jsd: j,
  test_ndcg: tn,
  test_jsd: tj,
});

test('validationFront keeps the non-dominated (max valid NDCG, min JSD) epochs, sorted by JSD', () => {
  const rows = [
    row('a', 1, 0.3, 0.2),
    row('a', 2, 0.28, 0.1),
    row('b', 1, 0.29, 0.12),
    row('b', 2, 0.27, 0.15),
    row('c', 1, 0.28, 0.1),
    row('c', 2, 0.31, 0.25),
    row('d', 1, NaN, 0.05),
  ];
  assert.deepEqual(
    validationFront(rows).map((r) => `${r.name}${r.epoch}`),
    ['a2', 'b1', 'a1', 'c2'],
  );
});

test('frontierReport by hand: Δ per front point, segments by verdict, crossing, headline', () => {
  const cp = cpCurve({ ndcg: 0.28, jsd: 0.24 }, [
    { lambda: 0.5, ndcg: 0.25, jsd: 0.08 },
    { lambda: 0.9, ndcg: 0.23, jsd: 0.03 },
  ]);
  const f = frontierReport(
    [row('x', 1, 0.3, 0.16, 0.27, 0.16), row('x', 2, 0.29, 0.055, 0.235, 0.055), row('x', 3, 0.28, 0.01, 0.2, 0.01)],
    cp,
  );
  assert.deepEqual(
    f.rows.map((r) => (r.delta === null ? null : Math.round(r.delta * 1e6) / 1e6)),
    [null, -0.005, 0.005],
  );
  assert.deepEqual(
    f.rows.map((r) => r.verdict),
    [null, 'behind', 'ahead'],
  );
  assert.equal(f.beyondCp, 1);
  assert.deepEqual(
    f.segments.map((s) => [s.verdict, s.points]),
    [
      ['behind', 1],
      ['ahead', 1],
    ],
  );
  assert.equal(f.aheadFromJsd, 0.16);
  assert.equal(f.aheadPoints, 1);
  assert.ok(Math.abs(f.crossings[0]! - (0.055 + 0.5 * (0.16 - 0.055))) < 1e-12);
  // a level point above an ahead one stays inside the headline's range
  const g = frontierReport([row('y', 1, 0.3, 0.2, 0.2727, 0.2), row('y', 2, 0.29, 0.1, 0.26, 0.1)], cp);
  assert.deepEqual(
    g.rows.map((r) => r.verdict),
    ['ahead', 'level'],
  );
  assert.equal(g.aheadFromJsd, 0.1);
  assert.deepEqual([g.aheadPoints, g.rangePoints], [1, 2]);
  assert.equal(frontierReport([row('z', 1, 0.3, 0.2, 0.1, 0.2)], cp).aheadFromJsd, null);
});

interface OracleResults {
  base_recommendations: { ndcg: number; jsd: number };
  postprocessed: Record<string, { ndcg: number; jsd: number }>;
}

test("frontier on the oracle's own runs: validation-selected front ahead of CP for JSD ≥ ~0.105, behind below", (t) => {
  if (!requireShared(t, ORACLE_DIR)) return;
  const lines = readFileSync(join(ORACLE_DIR, 'calitune_per_epoch.tsv'), 'utf8').trim().split('\n');
  const head = lines[0]!.split('\t');
  const col = (n: string) => head.indexOf(n);
  const rows: FrontCandidate[] = [];
  for (const l of lines.slice(1)) {
    const f = l.split('\t');
    if (f[col('saved')] !== 'True') continue;
    rows.push(
      row(
        f[col('run')]!,
        Number(f[col('epoch')]),
        Number(f[col('valid_ndcg')]),
        Number(f[col('jsd')]),
        Number(f[col('eval_ndcg')]),
        Number(f[col('eval_jsd')]),
      ),
    );
  }
  const res = JSON.parse(
    readFileSync(join(ORACLE_DIR, 'results', 'c0.5_frozen_result_test.json'), 'utf8'),
  ) as OracleResults;
  const cp = cpCurve(
    res.base_recommendations,
    Object.entries(res.postprocessed).map(([l, m]) => ({ lambda: Number(l), ...m })),
  );
  const f = frontierReport(rows, cp);
  assert.ok(f.rows.length >= 10, `front of ${f.rows.length} points`);
  // ahead or level everywhere from JSD 0.105 up; behind everywhere below 0.09
  const upper = f.rows.filter((r) => r.test_jsd >= 0.105 && r.delta !== null);
  const lower = f.rows.filter((r) => r.test_jsd < 0.09 && r.delta !== null);
  assert.deepEqual([upper.length, lower.length], [54, 86], 'front points at JSD ≥ 0.105 and below 0.09');
  for (const r of f.rows)
    if (r.test_jsd >= 0.105 && r.verdict !== null)
      assert.notEqual(r.verdict, 'behind', `behind CP at JSD ${r.test_jsd}: Δ ${r.delta}`);
  for (const r of f.rows)
    if (r.test_jsd < 0.09 && r.delta !== null) assert.ok(r.delta < 0, `ahead of CP at JSD ${r.test_jsd}: Δ ${r.delta}`);
  assert.ok(
    f.aheadFromJsd !== null && f.aheadFromJsd > 0.09 && f.aheadFromJsd <= 0.105,
    `ahead from ${f.aheadFromJsd}`,
  );
  assert.ok(f.meanGainAhead! > 0.005, `mean gain ${f.meanGainAhead}`);
  // the README's example: at JSD ≈ 0.105 CaliTune 0.267–0.269 vs CP 0.259
  const near = f.rows.filter((r) => Math.abs(r.test_jsd - 0.105) < 0.003);
  assert.ok(near.length > 0);
  for (const r of near)
    assert.ok(
      r.test_ndcg > 0.265 && Math.abs(r.cp_ndcg! - 0.259) < 0.001,
      `${r.name} ${r.epoch}: ${r.test_ndcg} vs CP ${r.cp_ndcg}`,
    );
  t.diagnostic(
    `oracle front: ${f.rows.length} points; ` +
      `ahead from JSD ${f.aheadFromJsd!.toFixed(4)} (mean Δ ${f.meanGainAhead!.toFixed(4)})`,
  );
});
