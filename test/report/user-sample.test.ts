/**
 * The report's user sampling: charts with more users than MAX_DOT_USERS draw dots for a seeded
 * sample (the same on every run) and say so in the caption; below it every user is drawn.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rboChart } from '../../src/report/charts/rbo-chart.js';
import type { ExperimentData, PerUserComparison, ReportData } from '../../src/report/data.js';
import { MAX_DOT_USERS, sampleUsers } from '../../src/report/user-sample.js';

test('sampleUsers: none below the cap; above it exactly the cap, seeded, among the users that qualify', () => {
  assert.equal(
    sampleUsers(101, () => true, 100),
    undefined,
  );
  const odd = (u: number) => u % 2 === 1;
  const s = sampleUsers(1001, odd, 100)!;
  assert.equal(s.size, 100);
  assert.equal(s.of, 500);
  let kept = 0;
  for (let u = 0; u < 1001; u++) {
    if (s.keep[u]) {
      kept++;
      assert.ok(odd(u), `user ${u} does not qualify`);
    }
  }
  assert.equal(kept, 100);
  assert.deepEqual(sampleUsers(1001, odd, 100)!.keep, s.keep);
});

/** A comparison of `nUsers − 1` users in three groups with two RBO pairs. */
function comparison(nUsers: number): PerUserComparison {
  const values = (salt: number) =>
    Float64Array.from({ length: nUsers }, (_, u) => (u === 0 ? NaN : ((u * salt) % 97) / 97));
  const userGroup = Int32Array.from({ length: nUsers }, (_, u) => (u === 0 ? -1 : u % 3));
  const pairs = [
    { label: 'backbone vs CaliTune', values: values(7) },
    { label: 'backbone vs CP', values: values(13) },
  ];
  return {
    table: { nUsers, nGroups: 3, models: new Map(), userGroupByName: new Map() },
    epoch: 4,
    mode: 'any',
    lambda: '0.5',
    userGroup,
    rbo: { pairs, userGroup, epoch: 4, lambda: '0.5' },
  };
}

const d = { userGroupNames: ['mainstream', 'diverse', 'niche'], k: 10 } as unknown as ReportData;
const e = { name: 'x' } as ExperimentData;
const dotsOf = (spec: Record<string, unknown>) =>
  ((spec.data as { values: { kind: string; user?: number }[] }).values ?? []).filter((r) => r.kind === 'dot');

test('RBO chart: every user a dot up to the cap; above it a sample of the cap per pair, said in the caption', () => {
  const small = rboChart(d, e, comparison(1001), { dots: true });
  assert.equal(dotsOf(small.spec).length, 2 * 1000);
  assert.doesNotMatch(small.caption, /sample/);
  const n = MAX_DOT_USERS + 2001;
  const big = rboChart(d, e, comparison(n), { dots: true });
  const dots = dotsOf(big.spec);
  assert.equal(dots.length, 2 * MAX_DOT_USERS);
  assert.equal(new Set(dots.map((r) => r.user)).size, MAX_DOT_USERS, 'both pairs draw the same users');
  assert.match(big.caption, /seeded random sample of 5,000 of the 7,000 users/);
  // The boxes still count every user.
  const boxes = (big.spec.data as { values: { kind: string; group?: string; n?: number }[] }).values;
  const all = boxes.find((r) => r.kind === 'box' && r.group === 'all users')!;
  assert.equal(all.n, n - 1);
});
