import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Csr } from '../../src/math/csr.js';
import {
  itemPopularity,
  popularityGroups,
  popularityGroupsFromSplit,
  validateProportions,
} from '../../src/calibration/popularity.js';
import { userTargets } from '../../src/calibration/user-targets.js';
import {
  formatPopularityFile,
  formatUserBaselineFile,
  pyFloatRepr,
  readPopularityFile,
  readUserBaselineFile,
  writePopularityFile,
  writeUserBaselineFile,
} from '../../src/calibration/reference-files.js';
import { UserError } from '../../src/util/errors.js';
import { requireShared } from '../helpers/shared.js';
import { oraclePath, oracleSplit, oracleTokens } from '../eval/oracle-fixture.js';

/** CSR from per-row item lists (rows sorted by the caller). */
function csr(rows: number[][], nCols: number): Csr {
  const indptr = new Int32Array(rows.length + 1);
  const idx: number[] = [];
  rows.forEach((r, i) => {
    idx.push(...r);
    indptr[i + 1] = idx.length;
  });
  return { nRows: rows.length, nCols, indptr, indices: Int32Array.from(idx) };
}

test('popularity groups: hand-computed 20/60/20 split', () => {
  // items 1..6, popularity 5,3,1,1,0,10 → total 20; sorted 6(10) 1(5) 2(3) 3(1) 4(1) 5(0)
  // cumulative 10,15,18,19,20,20: head ends at item 6 (10 ≥ 4), mid at item 2 (18 ≥ 16).
  const r = popularityGroups(Int32Array.from([0, 5, 3, 1, 1, 0, 10]));
  assert.deepEqual(Array.from(r.itemGroup), [-1, 1, 1, 2, 2, 2, 0]);
  assert.deepEqual(r.summary.itemsPerGroup, [1, 2, 3]);
  assert.deepEqual(r.summary.massPerGroup, [0.5, 0.4, 0.1]);
  assert.deepEqual(r.summary.maxCount, [10, 5, 1]);
  assert.deepEqual(r.summary.minCount, [10, 3, 0]);
  assert.equal(r.summary.total, 20);
});

test('popularity groups: ties go to the lower id first; an exact hit of the threshold is "reached"', () => {
  // total 5, head threshold 1: item 1 (count 2) crosses → head; item 2 ties but comes after → mid.
  const a = popularityGroups(Int32Array.from([0, 2, 2, 1]));
  assert.deepEqual(Array.from(a.itemGroup), [-1, 0, 1, 2]);
  // same counts, ids swapped in position: still the lower id wins the tie
  const b = popularityGroups(Int32Array.from([0, 1, 2, 2]));
  assert.deepEqual(Array.from(b.itemGroup), [-1, 2, 0, 1]);
  // total 10: item 1 (2) hits 20% exactly → head alone; mid up to cumulative 8 exactly.
  const c = popularityGroups(Int32Array.from([0, 2, 2, 2, 2, 1, 1]));
  assert.deepEqual(Array.from(c.itemGroup), [-1, 0, 1, 1, 1, 2, 2]);
});

test('popularity groups: any number of groups ≥ 2', () => {
  // 4 groups of 25%: counts 4,3,2,1 (total 10): thresholds 2.5, 5, 7.5
  const r = popularityGroups(Int32Array.from([0, 1, 2, 3, 4]), [0.25, 0.25, 0.25, 0.25]);
  // sorted 4(4) cum 4 → g0; 3(3) prev 4 ≥ 2.5 → g1, cum 7; 2(2) prev 7 ≥ 5 → g2, cum 9; 1(1) prev 9 ≥ 7.5 → g3
  assert.deepEqual(Array.from(r.itemGroup), [-1, 3, 2, 1, 0]);
  const two = popularityGroups(Int32Array.from([0, 1, 2, 3, 4]), [0.5, 0.5]);
  assert.deepEqual(Array.from(two.itemGroup), [-1, 1, 1, 0, 0]);
});

test('popularity proportions are validated', () => {
  for (const bad of [[1], [0.5, 0.6], [0.2, 0, 0.8], [-0.2, 0.6, 0.6], [0.2, Number.NaN, 0.8]]) {
    assert.throws(() => validateProportions(bad), UserError, JSON.stringify(bad));
    assert.throws(() => popularityGroups(Int32Array.from([0, 1, 2]), bad), UserError);
  }
  validateProportions([0.1, 0.2, 0.3, 0.4]);
  assert.throws(() => popularityGroups(Int32Array.from([0, 0, 0])), UserError); // no interactions
});

test('itemPopularity counts distinct users over several splits', () => {
  const train = csr([[], [1, 2], [2], [3]], 5);
  const test = csr([[], [2, 4], [1], []], 5); // user 1 item 2 duplicated across splits
  assert.deepEqual(Array.from(itemPopularity([train])), [0, 1, 2, 1, 0]);
  assert.deepEqual(Array.from(itemPopularity([train, test])), [0, 2, 2, 1, 1]);
  const ds = { train, valid: csr([[], [], [], []], 5), test };
  assert.deepEqual(Array.from(popularityGroupsFromSplit(ds, 'all').popularity), [0, 2, 2, 1, 1]);
  assert.throws(() => popularityGroupsFromSplit(ds, 'bogus' as 'all'), UserError);
});

test('user targets: fractions of train items per group; empty users flagged with zero rows', () => {
  const itemGroup = Int32Array.from([-1, 0, 1, 1, 2]);
  const train = csr([[], [1, 2, 3, 4], [], [4]], 5);
  const t = userTargets(train, itemGroup, 3);
  assert.deepEqual(Array.from(t.targets), [0, 0, 0, 0.25, 0.5, 0.25, 0, 0, 0, 0, 0, 1]);
  assert.deepEqual(Array.from(t.emptyUsers), [2]);
});

test('pyFloatRepr matches Python repr(float)', () => {
  const cases: [number, string][] = [
    [0, '0.0'],
    [1, '1.0'],
    [0.375, '0.375'],
    [0.18181818181818182, '0.18181818181818182'],
    [5e-5, '5e-05'],
    [0.0001, '0.0001'],
    [1.5e-7, '1.5e-07'],
    [123.25, '123.25'],
    [1e16, '1e+16'],
    [-0.5, '-0.5'],
    [2 / 3, '0.6666666666666666'],
    [100, '100.0'],
  ];
  for (const [x, s] of cases) assert.equal(pyFloatRepr(x), s, String(x));
});

test('reference files: write → read round trip, bad files are UserErrors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'calitune-ref-'));
  try {
    const itemGroup = Int32Array.from([-1, 0, 2, 1]);
    writePopularityFile(join(dir, 'x.popularity'), itemGroup, 3, ['[PAD]', 'a', 'b', 'c']);
    assert.equal(
      readFileSync(join(dir, 'x.popularity'), 'utf8'),
      'item\tGroup_1\tGroup_2\tGroup_3\n[PAD]\t0\t0\t0\na\t1\t0\t0\nb\t0\t0\t1\nc\t0\t1\t0\n',
    );
    const p = readPopularityFile(join(dir, 'x.popularity'));
    assert.deepEqual(Array.from(p.itemGroup), Array.from(itemGroup));
    assert.deepEqual(p.tokens, ['[PAD]', 'a', 'b', 'c']);
    const targets = Float64Array.from([0, 0, 0, 0.25, 0.5, 0.25, 1 / 3, 2 / 3, 0]);
    writeUserBaselineFile(join(dir, 'x.userbaseline'), targets, 3, ['[PAD]', 'u1', 'u2']);
    assert.ok(formatUserBaselineFile(targets, 3).includes('\n1\t0.25\t0.5\t0.25\n2\t'));
    assert.equal(
      readFileSync(join(dir, 'x.userbaseline'), 'utf8'),
      'user_id\tGroup_1\tGroup_2\tGroup_3\n[PAD]\t0.0\t0.0\t0.0\nu1\t0.25\t0.5\t0.25\n' +
        'u2\t0.3333333333333333\t0.6666666666666666\t0.0\n',
    );
    assert.deepEqual(Array.from(readUserBaselineFile(join(dir, 'x.userbaseline')).targets), Array.from(targets));
    const text = readFileSync(join(dir, 'x.popularity'), 'utf8');
    const f = join(dir, 'broken.popularity');
    for (const broken of [
      text.replace('a\t1\t0\t0', 'a\t1\t1\t0'),
      text.replace('Group_2', 'G2'),
      text.replace('[PAD]', 'x'),
      text.replace('b\t0\t0\t1', 'b\t0\t0'),
      text.replace('c\t0\t1\t0', 'c\t0\tx\t0'),
      'item\n',
    ]) {
      writeFileSync(f, broken);
      assert.throws(() => readPopularityFile(f), UserError, JSON.stringify(broken));
    }
    const ub = readFileSync(join(dir, 'x.userbaseline'), 'utf8');
    for (const broken of [
      ub.replace('0.25\t0.5', 'abc\t0.5'),
      ub.replace('0.5', '1.5'),
      ub.replace('user_id', 'user'),
    ]) {
      writeFileSync(f, broken);
      assert.throws(() => readUserBaselineFile(f), UserError, JSON.stringify(broken));
    }
    assert.throws(() => readPopularityFile(join(dir, 'missing')), UserError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Byte equality with a short message (first differing line) instead of a huge diff. */
function sameText(actual: string, expected: string): void {
  if (actual === expected) return;
  const a = actual.split('\n'),
    e = expected.split('\n');
  const i = a.findIndex((l, k) => l !== e[k]);
  assert.fail(
    `texts differ at line ${i + 1}: ${JSON.stringify(a[i])} vs ${JSON.stringify(e[i])} ` +
      `(${a.length} vs ${e.length} lines)`,
  );
}

test('oracle: popularity on all splits reproduces ml-100k.popularity and .userbaseline', (t) => {
  if (!requireShared(t, oraclePath('ml-100k.popularity'))) return;
  const split = oracleSplit();
  const pg = popularityGroupsFromSplit(split, 'all');
  const ref = readPopularityFile(oraclePath('ml-100k.popularity'));
  assert.equal(ref.itemGroup.length, split.nItems);
  let diff = 0;
  for (let i = 0; i < split.nItems; i++) if (pg.itemGroup[i] !== ref.itemGroup[i]) diff++;
  // The tie order (lower id first) matches the reference on this split: the two items with
  // 259 users (119 and 361) straddle the head/mid boundary and land as in the oracle.
  assert.equal(diff, 0);
  assert.equal(pg.popularity[119], 259);
  assert.equal(pg.popularity[361], 259);
  assert.equal(pg.itemGroup[119], 0);
  assert.equal(pg.itemGroup[361], 1);
  assert.deepEqual(pg.summary.itemsPerGroup, [59, 477, 1146]);
  assert.deepEqual(
    pg.summary.massPerGroup.map((m) => Math.round(m * 1e5) / 1e5),
    [0.2025, 0.59798, 0.19952],
  );
  assert.deepEqual(
    [pg.summary.minCount[0], pg.summary.maxCount[1], pg.summary.minCount[1], pg.summary.maxCount[2]],
    [259, 259, 60, 59],
  );

  const targets = userTargets(split.train, pg.itemGroup, 3);
  assert.equal(targets.emptyUsers.length, 0);
  const refT = readUserBaselineFile(oraclePath('ml-100k.userbaseline'));
  assert.equal(refT.targets.length, targets.targets.length);
  let maxErr = 0;
  for (let i = 0; i < refT.targets.length; i++)
    maxErr = Math.max(maxErr, Math.abs(refT.targets[i]! - targets.targets[i]!));
  assert.ok(maxErr <= 1e-6, `max target error ${maxErr}`);

  // Our writers produce the reference's files byte for byte.
  // (.popularity rows carry external item tokens, .userbaseline rows internal user ids.)
  const itemTokens = oracleTokens('item_id_map.tsv');
  sameText(formatPopularityFile(pg.itemGroup, 3, itemTokens), readFileSync(oraclePath('ml-100k.popularity'), 'utf8'));
  sameText(formatUserBaselineFile(targets.targets, 3), readFileSync(oraclePath('ml-100k.userbaseline'), 'utf8'));
});

test('oracle: train-only popularity differs from the reference (the leak is removed)', (t) => {
  if (!requireShared(t, oraclePath('ml-100k.popularity'))) return;
  const split = oracleSplit();
  const pg = popularityGroupsFromSplit(split, 'train');
  assert.equal(pg.summary.total, 80808);
  const s = pg.summary.itemsPerGroup;
  assert.equal(s[0]! + s[1]! + s[2]!, 1682);
  assert.ok(pg.summary.massPerGroup[0]! >= 0.2 && pg.summary.massPerGroup[0]! < 0.21);
});
