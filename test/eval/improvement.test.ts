import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTable, improvementTables, sharesByGroup } from '../../src/eval/improvement.js';
import { closestCpLambda } from '../../src/selection/cp-curve.js';

const NAMES = ['mainstream', 'diverse', 'niche'];

// 5 users (index 0 = padding). Groups: u1, u2 mainstream; u3 diverse; u4, u5 niche.
const userGroup = [-1, 0, 0, 1, 2, 2];
const base = { ndcg: [0, 0.5, 0.2, 0.3, 0.0, 1.0], jsd: [0, 0.4, 0.3, 0.2, 0.5, 0.1], head: [0, 5, 4, 3, 2, 1] };
const cal = { ndcg: [0, 0.6, 0.2, 0.1, 0.0, 0.9], jsd: [0, 0.1, 0.3, 0.25, 0.2, 0.05], head: [0, 3, 4, 4, 1, 1] };
const cp = { ndcg: [0, 0.4, 0.3, 0.1, 0.1, 1.0], jsd: [0, 0.2, 0.1, 0.1, 0.3, 0.1], head: [0, 2, 5, 2, 1, 0] };

test('improvement tables: hand-computed known answers', () => {
  const t = improvementTables({ base, calitune: cal, cp, userGroup, groupNames: NAMES });
  const row = (tab: { rows: { group: string; users: number; values: number[] }[] }, g: string) =>
    tab.rows.find((r) => r.group === g)!;
  // CaliTune vs base. NDCG: u1 better, u2 same, u3 worse, u4 same, u5 worse.
  // JSD: u1 better, u2 same, u3 worse, u4 better, u5 better. Head: u1 fewer, u2 same, u3 more, u4 fewer, u5 same.
  const c = t.vsBase.calitune;
  assert.deepEqual(c.columns.slice(0, 3), ['NDCG better', 'NDCG same', 'NDCG worse']);
  assert.deepEqual(row(c, 'mainstream').values, [50, 50, 0, 50, 50, 0, 50, 50, 0]);
  assert.deepEqual(row(c, 'diverse').values, [0, 0, 100, 0, 0, 100, 0, 0, 100]);
  assert.deepEqual(row(c, 'niche').values, [0, 50, 50, 100, 0, 0, 50, 50, 0]);
  assert.deepEqual(row(c, 'all').values, [20, 40, 40, 60, 20, 20, 40, 40, 20]);
  assert.deepEqual(
    t.vsBase.calitune.rows.map((r) => r.users),
    [2, 1, 2, 5],
  );
  // Seed table 1: CaliTune>base NDCG: u1 → 1/5; CaliTune<base JSD: u1,u4,u5 → 3/5;
  // CaliTune>CP NDCG: u1 → 1/5 (u3 0.1 vs 0.1 same); CaliTune<CP JSD: u1, u4, u5 → 3/5;
  // CP>base NDCG: u2, u4 → 2/5; CP<base JSD: u1, u2, u3, u4 → 4/5.
  assert.deepEqual(row(t.seedMetrics, 'all').values, [20, 60, 20, 60, 40, 80]);
  assert.deepEqual(row(t.seedMetrics, 'mainstream').values, [50, 50, 50, 50, 50, 100]);
  // Seed table 2: CaliTune<base head: u1, u4 → 40; CP<CaliTune: u1, u3, u5 → 60; CaliTune<CP: u2 → 20.
  assert.deepEqual(row(t.seedHead, 'all').values, [40, 60, 20]);
  assert.deepEqual(row(t.seedHead, 'niche').values, [50, 50, 0]);
});

test('improvement: empty groups give 0 (no NaN), NaN users are skipped, tolerance for "same"', () => {
  const rows = sharesByGroup(3, [-1, 0, 0], ['a', 'b'], [(u) => u === 1, (u) => (u === 2 ? undefined : true)]);
  assert.deepEqual(
    rows.map((r) => r.group),
    ['a', 'b', 'all'],
  );
  assert.deepEqual(rows[0]!.values, [50, 100]);
  assert.deepEqual(rows[1]!.values, [0, 0]);
  assert.equal(rows[1]!.users, 0);
  const t = improvementTables({
    base: { ndcg: [0, 0.3, NaN], jsd: [0, 0.1, 0.1], head: [0, 1, 1] },
    calitune: { ndcg: [0, 0.3 + 1e-15, 0.5], jsd: [0, 0.1, 0.1], head: [0, 1, 1] },
    cp: { ndcg: [0, 0.3, 0.5], jsd: [0, 0.1, 0.1], head: [0, 1, 1] },
    userGroup: [-1, 0, 0],
    groupNames: ['a'],
  });
  const a = t.vsBase.calitune.rows[0]!;
  assert.deepEqual(a.values.slice(0, 3), [0, 100, 0]); // u2 skipped for NDCG; 1e-15 counts as same
  assert.ok(t.seedMetrics.rows.every((r) => r.values.every((v) => Number.isFinite(v))));
});

test('closest CP by JSD and table formatting', () => {
  const cpRes = { '0.1': { jsd: 0.2 }, '0.5': { jsd: 0.08 }, '0.6': { jsd: 0.058 }, '0.9': { jsd: 0.03 } };
  assert.equal(closestCpLambda(cpRes, 0.0581), '0.6');
  assert.equal(closestCpLambda(cpRes, 1), '0.1');
  assert.equal(closestCpLambda({ '0.2': { jsd: 0.1 }, '0.1': { jsd: 0.3 } }, 0.2), '0.1'); // tie → smaller λ
  assert.equal(closestCpLambda({}, 0.2), undefined);
  const txt = formatTable({
    title: 'T',
    columns: ['x', 'longer column'],
    rows: [
      { group: 'mainstream', users: 12, values: [1, 22.25] },
      { group: 'all', users: 100, values: [100, 0] },
    ],
  });
  const lines = txt.split('\n');
  assert.equal(lines[0], 'T');
  assert.equal(lines[1], 'user group  users      x  longer column');
  assert.equal(lines[3], 'mainstream     12    1.0           22.3');
  assert.equal(lines[4], 'all           100  100.0            0.0');
  assert.ok(lines.slice(1).every((l) => l.length === lines[1]!.length));
});
