import { test } from 'node:test';
import assert from 'node:assert/strict';
import { userGroups } from '../../src/eval/user-groups.js';
import { UserError } from '../../src/util/errors.js';

/** targets with the given head shares for users 1..n (row 0 = padding). */
function withHead(shares: number[]): Float64Array {
  const t = new Float64Array((shares.length + 1) * 2);
  shares.forEach((s, i) => {
    t[(i + 1) * 2] = s;
    t[(i + 1) * 2 + 1] = 1 - s;
  });
  return t;
}

test('user groups: 20/60/20 by head share, rounding the boundaries', () => {
  // 10 users: head shares descending by id except a few
  const shares = [0.1, 0.9, 0.5, 0.3, 0.7, 0.2, 0.8, 0.4, 0.6, 0.0];
  const g = userGroups(withHead(shares), 11, 2);
  // sorted: u2 .9, u7 .8, u5 .7, u9 .6, u3 .5, u8 .4, u4 .3, u6 .2, u1 .1, u10 0
  assert.deepEqual(
    g.members.map((m) => Array.from(m)),
    [
      [2, 7],
      [5, 9, 3, 8, 4, 6],
      [1, 10],
    ],
  );
  assert.equal(g.userGroup[0], -1);
  assert.equal(g.userGroup[10], 2);
  // 943 users → 189 / 565 / 189 (round(188.6) = 189, round(754.4) = 754)
  const big = userGroups(withHead(Array.from({ length: 943 }, (_, i) => ((i * 37) % 101) / 101)), 944, 2);
  assert.deepEqual(
    big.members.map((m) => m.length),
    [189, 565, 189],
  );
  // 7 users: 1.4 → 1, 5.6 → 6
  const seven = userGroups(withHead([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]), 8, 2);
  assert.deepEqual(
    seven.members.map((m) => m.length),
    [1, 5, 1],
  );
});

test('user groups: tie order options', () => {
  const shares = [0.5, 0.5, 0.5, 0.5, 0.5];
  const lo = userGroups(withHead(shares), 6, 2, { proportions: [0.4, 0.6] });
  assert.deepEqual(Array.from(lo.members[0]!), [1, 2]);
  const hi = userGroups(withHead(shares), 6, 2, { proportions: [0.4, 0.6], tieBreak: 'higherIdFirst' });
  assert.deepEqual(Array.from(hi.members[0]!), [5, 4]);
});

test('user groups: validation', () => {
  assert.throws(() => userGroups(new Float64Array(5), 3, 2), UserError);
  assert.throws(() => userGroups(new Float64Array(6), 3, 2, { proportions: [0.5, 0.6] }), UserError);
  assert.throws(() => userGroups(new Float64Array(6), 3, 2, { headGroup: 2 }), UserError);
});
