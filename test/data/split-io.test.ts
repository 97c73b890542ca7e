import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { csrNnz } from '../../src/math/csr.js';
import { fingerprintSplit } from '../../src/data/fingerprint.js';
import { readInteractions } from '../../src/data/readers.js';
import { randomSplit } from '../../src/data/split.js';
import { readIdMapTsv, readSplitDir, readSplitTsv, splitPaths, writeSplitDir } from '../../src/data/split-io.js';
import { logStats, splitStats } from '../../src/data/stats.js';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { UserError } from '../../src/util/errors.js';
import { ML100K_INTER, ORACLE_DIR, requireShared } from '../helpers/shared.js';

const dir = mkdtempSync(join(tmpdir(), 'calitune-splitio-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
function userError(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof UserError && re.test(e.message));
}

test('write then read a split folder gives the same dataset and fingerprint', () => {
  const log = generateSynthetic({ users: 50, items: 80, interactions: 2000, seed: 3 });
  const ds = randomSplit(log, 11);
  const out = join(dir, 'run1');
  const p = writeSplitDir(out, ds);
  assert.equal(readFileSync(p.train, 'utf8').split('\n')[0], 'user_id\titem_id');
  assert.equal(readFileSync(p.userMap, 'utf8').split('\n')[0], 'user_id:token\tinternal_id');
  const back = readSplitDir(out);
  assert.equal(fingerprintSplit(back), fingerprintSplit(ds));
  assert.deepEqual(back.userMap.tokens, ds.userMap.tokens);
  assert.match(fingerprintSplit(ds), /^[0-9a-f]{64}$/);
  const st = splitStats(back);
  assert.equal(st.interactions, 2000);
  assert.equal(st.split!.train + st.split!.valid + st.split!.test, 2000);
});

test('split TSV and id map validation: unknown ids, bad lines, duplicates, overlap', () => {
  const f = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  userError(
    () => readSplitTsv(f('a.tsv', 'user_id\titem_id\n1\t2\n5\t1\n'), 4, 3),
    /a\.tsv:3: unknown user id 5 \(the user map has ids 1\.\.3\)/,
  );
  userError(() => readSplitTsv(f('b.tsv', 'user_id\titem_id\n1\t3\n'), 4, 3), /b\.tsv:2: unknown item id 3/);
  userError(() => readSplitTsv(f('c.tsv', 'user_id\titem_id\n1\n'), 4, 3), /c\.tsv:2: expected 2 tab-separated fields/);
  userError(
    () => readSplitTsv(f('d.tsv', 'user_id\titem_id\n1\tx\n'), 4, 3),
    /d\.tsv:2: item id 'x' is not an integer/,
  );
  userError(() => readSplitTsv(f('e.tsv', 'u\ti\n1\t1\n'), 4, 3), /e\.tsv:1: expected the header/);
  userError(
    () => readSplitTsv(f('g.tsv', 'user_id\titem_id\n1\t1\n1\t1\n'), 4, 3),
    /pair \(1, 1\) appears more than once/,
  );
  userError(() => readSplitTsv(join(dir, 'missing.tsv'), 4, 3), /missing\.tsv: no such file/);
  userError(
    () => readIdMapTsv(f('m1.tsv', 'user_id:token\tinternal_id\na\t1\nb\t3\n')),
    /ids must be 1\.\.2 without gaps; id 2 is missing/,
  );
  userError(
    () => readIdMapTsv(f('m2.tsv', 'user_id:token\tinternal_id\na\t1\na\t2\n')),
    /m2\.tsv:3: token 'a' appears twice/,
  );
  userError(() => readIdMapTsv(f('m3.tsv', 'user_id:token\tinternal_id\na\tz\n')), /m3\.tsv:2: internal id 'z'/);
  userError(
    () => readIdMapTsv(f('m4.tsv', 'item_id:token\tinternal_id\na\t1\n'), 'user_id'),
    /expected an id map for 'user_id'/,
  );
  const m = readIdMapTsv(f('m5.tsv', 'user_id:token\tinternal_id\nb\t2\na\t1\n'));
  assert.deepEqual(m.tokens, ['[PAD]', 'a', 'b']);
  // Overlap between train and test.
  const d = join(dir, 'overlap');
  mkdirSync(join(d, 'splits'), { recursive: true });
  const p = splitPaths(d);
  writeFileSync(p.userMap, 'user_id:token\tinternal_id\nx\t1\n');
  writeFileSync(p.itemMap, 'item_id:token\tinternal_id\ni\t1\nj\t2\n');
  writeFileSync(p.train, 'user_id\titem_id\n1\t1\n');
  writeFileSync(p.valid, 'user_id\titem_id\n1\t2\n');
  writeFileSync(p.test, 'user_id\titem_id\n1\t1\n');
  userError(() => readSplitDir(d), /test_split\.tsv: pair \(1, 1\) is in both train and test/);
});

test('oracle split: sizes, id maps, and the same per-user sizes as our split of ML-100K', (t) => {
  if (!requireShared(t, ORACLE_DIR) || !requireShared(t, ML100K_INTER)) return;
  const o = readSplitDir(ORACLE_DIR);
  assert.equal(o.nUsers, 944);
  assert.equal(o.nItems, 1683);
  assert.deepEqual([csrNnz(o.train), csrNnz(o.valid), csrNnz(o.test)], [80_808, 9_596, 9_596]);
  const log = readInteractions(ML100K_INTER);
  const ours = randomSplit(log, 2020);
  for (let u = 1; u < 944; u++) {
    const a = o.train.indptr[u + 1]! - o.train.indptr[u]!;
    const b = ours.train.indptr[u + 1]! - ours.train.indptr[u]!;
    assert.equal(a, b, `user ${u}`);
  }
  const st = logStats(log, ours);
  assert.deepEqual(
    { users: st.users, items: st.items, interactions: st.interactions, perUser: st.perUser, split: st.split },
    {
      users: 943,
      items: 1682,
      interactions: 100_000,
      perUser: { min: 20, median: 65, mean: 100_000 / 943, max: 737 },
      split: { train: 80_808, valid: 9_596, test: 9_596, usersWithValid: 943, usersWithTest: 943 },
    },
  );
  assert.equal(st.perItem.max, 583);
  assert.equal(st.perItem.min, 1);
  assert.ok(Math.abs(st.density - 100_000 / (943 * 1682)) < 1e-15);
});
