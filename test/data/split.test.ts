import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { csrNnz, csrRow, csrRowLength } from '../../src/math/csr.js';
import { idMapFromTokens } from '../../src/data/idmap.js';
import { Rng } from '../../src/math/rng.js';
import { assignSplit, randomSplit, splitSizes } from '../../src/data/split.js';
import { fingerprintSplit } from '../../src/data/fingerprint.js';
import type { InteractionLog } from '../../src/data/types.js';

test('split sizes: the check values of the numeric contract §2', () => {
  assert.deepEqual(splitSizes(1), [1, 0, 0]);
  assert.deepEqual(splitSizes(2), [1, 0, 1]);
  assert.deepEqual(splitSizes(3), [1, 1, 1]);
  assert.deepEqual(splitSizes(10), [8, 1, 1]);
  assert.deepEqual(splitSizes(19), [17, 1, 1]);
  assert.deepEqual(splitSizes(20), [16, 2, 2]);
  assert.deepEqual(splitSizes(0), [0, 0, 0]);
  assert.deepEqual(splitSizes(9), [7, 1, 1]);
  assert.deepEqual(splitSizes(30), [24, 3, 3]);
});

/** A log where user u (1..nU) has counts[u-1] interactions with distinct items, interleaved. */
function makeLog(counts: number[], seed = 7): InteractionLog {
  const us: number[] = [];
  const is: number[] = [];
  for (let u = 0; u < counts.length; u++)
    for (let j = 0; j < counts[u]!; j++) {
      us.push(u + 1);
      is.push(j + 1);
    }
  // Shuffle the file order so users are interleaved.
  const p = new Rng(seed).permutation(us.length);
  const users = Int32Array.from(p, (k) => us[k]!);
  const items = Int32Array.from(p, (k) => is[k]!);
  const maxItems = Math.max(1, ...counts);
  return {
    users,
    items,
    userMap: idMapFromTokens(
      'user_id',
      counts.map((_, u) => `u${u + 1}`),
    ),
    itemMap: idMapFromTokens(
      'item_id',
      Array.from({ length: maxItems }, (_, j) => `i${j + 1}`),
    ),
    source: 'test',
  };
}

function expectedSizes(n: number): [number, number, number] {
  // Independent restatement of the rule.
  const v = Math.floor(n / 10);
  const sizes: [number, number, number] = [n - 2 * v, v, v];
  for (const part of [2, 1] as const) {
    if (sizes[0] > 1 && n % 10 !== 0 && n < 10) {
      sizes[part]++;
      sizes[0]--;
    }
  }
  return sizes;
}

test('property: for n = 1…60 sizes follow the rule; partition disjoint and complete', () => {
  const counts = Array.from({ length: 60 }, (_, k) => k + 1);
  const log = makeLog(counts);
  const ds = randomSplit(log, 2024);
  assert.equal(ds.nUsers, 61);
  assert.equal(ds.nItems, 61);
  for (let n = 1; n <= 60; n++) {
    const sizes = [csrRowLength(ds.train, n), csrRowLength(ds.valid, n), csrRowLength(ds.test, n)];
    assert.deepEqual(sizes, expectedSizes(n), `n = ${n}`);
    assert.deepEqual(sizes, splitSizes(n));
    const all = [...csrRow(ds.train, n), ...csrRow(ds.valid, n), ...csrRow(ds.test, n)].sort((a, b) => a - b);
    assert.deepEqual(
      all,
      Array.from({ length: n }, (_, j) => j + 1),
      `partition of user ${n}`,
    );
  }
  assert.equal(csrNnz(ds.train) + csrNnz(ds.valid) + csrNnz(ds.test), log.users.length);
  assert.equal(csrRowLength(ds.train, 0), 0);
});

test('property: random logs — same seed same split, different seed different split', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 15 }),
      fc.integer(),
      (counts, seed) => {
        const log = makeLog(counts, seed);
        const a = assignSplit(log, seed);
        const b = assignSplit(log, seed);
        assert.deepEqual(a, b);
        const ds = randomSplit(log, seed);
        for (let u = 1; u <= counts.length; u++) {
          assert.deepEqual(
            [csrRowLength(ds.train, u), csrRowLength(ds.valid, u), csrRowLength(ds.test, u)],
            splitSizes(counts[u - 1]!),
          );
        }
        assert.equal(fingerprintSplit(ds), fingerprintSplit(randomSplit(log, seed)));
      },
    ),
    { numRuns: 100 },
  );
  const log = makeLog(Array.from({ length: 30 }, () => 40));
  assert.notDeepEqual(assignSplit(log, 1), assignSplit(log, 2));
  assert.notEqual(fingerprintSplit(randomSplit(log, 1)), fingerprintSplit(randomSplit(log, 2)));
});

test('order within a user: shuffled sequence → train, then valid, then test', () => {
  // One user with 10 interactions, file order = items 1..10.
  const log: InteractionLog = {
    users: new Int32Array(10).fill(1),
    items: Int32Array.from({ length: 10 }, (_, k) => k + 1),
    userMap: idMapFromTokens('user_id', ['a']),
    itemMap: idMapFromTokens(
      'item_id',
      Array.from({ length: 10 }, (_, k) => String(k + 1)),
    ),
    source: 'test',
  };
  const perm = new Rng(5).permutation(10);
  const part = assignSplit(log, 5);
  // perm[0..8) → train, perm[8] → valid, perm[9] → test.
  for (let p = 0; p < 8; p++) assert.equal(part[perm[p]!], 0);
  assert.equal(part[perm[8]!], 1);
  assert.equal(part[perm[9]!], 2);
});

test('a user with a single interaction goes to train and nothing crashes', () => {
  const ds = randomSplit(makeLog([1, 1, 2]), 3);
  assert.deepEqual([csrRowLength(ds.train, 1), csrRowLength(ds.valid, 1), csrRowLength(ds.test, 1)], [1, 0, 0]);
  assert.deepEqual([csrRowLength(ds.train, 3), csrRowLength(ds.valid, 3), csrRowLength(ds.test, 3)], [1, 0, 1]);
});
