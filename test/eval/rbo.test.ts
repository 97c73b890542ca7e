import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rbo, rboOf, rboPerUser, summarize, summarizePerUser } from '../../src/eval/rbo.js';
import { userGroups } from '../../src/eval/user-groups.js';
import { UserError } from '../../src/util/errors.js';

test('RBO known answers (numeric contract §12)', () => {
  assert.ok(Math.abs(rboOf('abcdefg', 'bacdefg') - 0.9) < 1e-12);
  const ten = 'abcdefghij';
  const rev = [...ten].reverse().join('');
  assert.ok(Math.abs(rboOf(ten, rev) - 0.5116) < 5e-5, String(rboOf(ten, rev)));
  assert.equal(rboOf('abc', 'xyz'), 0);
  assert.ok(Math.abs(rboOf(ten, ten) - 1) < 1e-12);
  assert.ok(Math.abs(rboOf(ten, ten, 0.5) - 1) < 1e-12);
  // hand: 'ab' vs 'ac', p = 0.5: X1 = 1, X2 = 1 → (1/2)·0.25 + 1·(1·0.5 + 0.5·0.25) = 0.75
  assert.ok(Math.abs(rboOf('ab', 'ac', 0.5) - 0.75) < 1e-12);
  assert.throws(() => rboOf('ab', 'abc'), UserError);
  assert.throws(() => rboOf('ab', 'ab', 1), UserError);
});

test('RBO of int lists: empty slots never match', () => {
  const a = Int32Array.from([1, 2, -1]);
  const b = Int32Array.from([1, 2, -1]);
  // X = 1, 2, 2 with p = .9: (2/3)·.729 + (1/9)·(.9 + .81 + (2/3)·.729)
  const expected = (2 / 3) * 0.729 + (1 / 9) * (0.9 + 0.81 + (2 / 3) * 0.729);
  assert.ok(Math.abs(rbo(a, 0, b, 0, 3) - expected) < 1e-12);
});

test('per-user RBO and summaries overall and per user group', () => {
  // users 0..4, lists of 3; user u's list vs base
  const base = Int32Array.from([-1, -1, -1, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3]);
  const other = Int32Array.from([-1, -1, -1, 1, 2, 3, 2, 1, 3, 4, 5, 6, 3, 2, 1]);
  const r = rboPerUser(base, other, 5, 3);
  assert.equal(r[0], 0);
  assert.ok(Math.abs(r[1]! - 1) < 1e-12);
  assert.equal(r[3], 0);
  assert.ok(r[2]! > r[4]! && r[4]! > 0);
  const s = summarize(Float64Array.from([1, 2, 3, 4]));
  assert.deepEqual(s, { n: 4, mean: 2.5, min: 1, q1: 1.75, median: 2.5, q3: 3.25, max: 4 });
  const targets = Float64Array.from([0, 1, 0.9, 0.1, 0.8, 0.2, 0.1, 0.9, 0.5, 0.5]);
  const g = userGroups(targets, 5, 2, { proportions: [0.5, 0.5] });
  const sp = summarizePerUser(r, g);
  assert.equal(sp.overall.n, 4);
  assert.deepEqual(
    sp.byGroup.map((x) => x.n),
    [2, 2],
  );
  assert.ok(Math.abs(sp.byGroup[0]!.mean - (r[1]! + r[2]!) / 2) < 1e-12);
  // RBO of a list matrix with itself is 1 for every user with a full list
  const self = rboPerUser(base, base, 5, 3);
  for (let u = 1; u < 5; u++) assert.ok(Math.abs(self[u]! - 1) < 1e-12);
  assert.throws(() => rboPerUser(base, other.subarray(3), 5, 3), UserError);
});
