import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectFormat, readInteractions, resolveInteractionFile } from '../../src/data/readers.js';
import { readIdMapTsv } from '../../src/data/split-io.js';
import { UserError } from '../../src/util/errors.js';
import { ML100K_INTER, ORACLE_DIR, requireShared } from '../helpers/shared.js';

const dir = mkdtempSync(join(tmpdir(), 'calitune-readers-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(name: string, text: string): string {
  const d = join(dir, String(++n));
  mkdirSync(d);
  const p = join(d, name);
  writeFileSync(p, text);
  return p;
}
function userError(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UserError, `expected a UserError, got ${String(e)}`);
    assert.match(e.message, re);
    return true;
  });
}

test('RecBole .inter: ids by first appearance, duplicates collapse to the first', () => {
  const p = file(
    'x.inter',
    'user_id:token\titem_id:token\trating:float\n' + 'u7\ti3\t4\nu2\ti3\t1\nu7\ti9\t5\nu7\ti3\t2\nu2\ti1\t3\n\n\n',
  );
  const log = readInteractions(p);
  assert.deepEqual([...log.users], [1, 2, 1, 2]);
  assert.deepEqual([...log.items], [1, 1, 2, 3]);
  assert.deepEqual(log.userMap.tokens, ['[PAD]', 'u7', 'u2']);
  assert.deepEqual(log.itemMap.tokens, ['[PAD]', 'i3', 'i9', 'i1']);
  assert.equal(log.itemMap.index.get('i9'), 2);
  assert.equal(log.source, p);
});

test('.inter: fields found by name in any order, configurable; min-rating filters before ids', () => {
  const p = file(
    'y.inter',
    'rating:float\tts:float\titem:token\tuser:token\r\n3\t0\ta\tx\r\n5\t0\tb\ty\r\n4\t0\tc\tx\r\n',
  );
  const log = readInteractions(p, { userCol: 'user', itemCol: 'item', minRating: 4 });
  assert.deepEqual(log.userMap.tokens, ['[PAD]', 'y', 'x']);
  assert.deepEqual(log.itemMap.tokens, ['[PAD]', 'b', 'c']);
  assert.deepEqual([...log.users], [1, 2]);
  assert.deepEqual([...log.items], [1, 2]);
});

test('MovieLens u.data, ratings.dat, csv and tsv', () => {
  const a = readInteractions(file('u.data', '196\t242\t3\t881250949\n186\t302\t3\t891717742\n196\t302\t1\t1\n'));
  assert.deepEqual(a.userMap.tokens, ['[PAD]', '196', '186']);
  assert.deepEqual([...a.items], [1, 2, 2]);
  const b = readInteractions(file('ratings.dat', '1::1193::5::978300760\n1::661::3::978302109\n2::1193::2::1\n'), {
    minRating: 3,
  });
  assert.deepEqual([...b.users], [1, 1]);
  assert.deepEqual(b.itemMap.tokens, ['[PAD]', '1193', '661']);
  const csv = 'userId,movieId,rating,timestamp\n1,"31",2.5,1\n1, 1029 ,3.0,2\n2,31,4,3\n';
  const c = readInteractions(file('ratings.csv', csv), { minRating: 3 });
  assert.deepEqual(c.itemMap.tokens, ['[PAD]', '1029', '31']);
  assert.deepEqual([...c.users], [1, 2]);
  const d = readInteractions(file('x.tsv', 'a\tb\n'.repeat(0) + '10\t20\n11\t20\n'));
  assert.deepEqual([...d.users], [1, 2]);
  assert.deepEqual([...d.items], [1, 1]);
  // Columns by index, custom separator, explicit header, format override.
  const e = readInteractions(file('data.txt', 'x;item;user\n0;i1;u1\n0;i2;u1\n'), {
    format: 'csv',
    sep: ';',
    header: true,
    userCol: 'user',
    itemCol: 1,
  });
  assert.deepEqual(e.userMap.tokens, ['[PAD]', 'u1']);
  assert.deepEqual(e.itemMap.tokens, ['[PAD]', 'i1', 'i2']);
  const f = readInteractions(file('noheader.csv', 'r,u,i\n'.slice(6) + '5,u1,i1\n1,u2,i1\n'), {
    userCol: 1,
    itemCol: '2',
    header: false,
    ratingCol: 0,
    minRating: 2,
  });
  assert.deepEqual(f.userMap.tokens, ['[PAD]', 'u1']);
});

test('UTF-8 tokens and a byte-order mark', () => {
  const log = readInteractions(file('z.inter', '\ufeffuser_id:token\titem_id:token\nJürgen\tCafé ☕\nZoë\tCafé ☕\n'));
  assert.deepEqual(log.userMap.tokens, ['[PAD]', 'Jürgen', 'Zoë']);
  assert.deepEqual(log.itemMap.tokens, ['[PAD]', 'Café ☕']);
});

test('format detection and dataset folders', () => {
  assert.equal(detectFormat('/a/ml-100k.inter'), 'inter');
  assert.equal(detectFormat('u.data'), 'ml-100k');
  assert.equal(detectFormat('x/ratings.dat'), 'ml-1m');
  assert.equal(detectFormat('r.CSV'), 'csv');
  assert.equal(detectFormat('r.tsv'), 'tsv');
  userError(() => detectFormat('/a/data.bin'), /cannot tell the format.*data\.bin/);
  const p = file('u.data', '1\t2\t3\t4\n');
  const top = join(p, '..', '..');
  mkdirSync(join(top, 'wrap'), { recursive: true });
  assert.equal(resolveInteractionFile(join(p, '..')), p);
});

test('bad input: missing file, empty file, header without the user/item field', () => {
  userError(() => readInteractions(join(dir, 'nope.inter')), /nope\.inter: no such file/);
  userError(() => readInteractions(file('e.inter', '')), /e\.inter: file is empty/);
  userError(() => readInteractions(file('b.inter', '\n\n  \n')), /b\.inter: file is empty/);
  userError(() => readInteractions(file('h.inter', 'user_id:token\titem_id:token\n')), /no interactions/);
  userError(
    () => readInteractions(file('f.inter', 'uid:token\titem_id:token\trating:float\n1\t2\t3\n')),
    /f\.inter:1: header has no user field 'user_id' \(fields found: uid, item_id, rating\)/,
  );
  userError(
    () => readInteractions(file('g.inter', 'user_id:token\titem:token\n1\t2\n')),
    /header has no item field 'item_id' \(fields found: user_id, item\)/,
  );
  userError(
    () => readInteractions(file('r.inter', 'user_id:token\titem_id:token\n1\t2\n'), { minRating: 3 }),
    /header has no rating field 'rating'/,
  );
});

test('bad input: too few columns and non-numeric ratings name file and line', () => {
  userError(
    () => readInteractions(file('c.inter', 'user_id:token\titem_id:token\trating:float\n1\t2\t3\n\n1\t5\n')),
    /c\.inter:4: line has 2 fields, expected 3/,
  );
  userError(() => readInteractions(file('u.data', '1\t2\t3\t4\n7\n')), /u\.data:2: line has 1 field, expected 2/);
  userError(
    () => readInteractions(file('ratings.dat', '1::2::5::0\n1::3::x::0\n'), { minRating: 4 }),
    /ratings\.dat:2: rating 'x' is not a number/,
  );
  userError(
    () => readInteractions(file('m.inter', 'user_id:token\titem_id:token\trating:float\n1\t2\t\n'), { minRating: 1 }),
    /m\.inter:2: rating '' is not a number/,
  );
  // Without min-rating the rating column is never parsed.
  assert.equal(readInteractions(file('ratings.dat', '1::2::x::0\n')).users.length, 1);
  userError(
    () => readInteractions(file('ratings.dat', '1::2::1::0\n'), { minRating: 4 }),
    /all 1 rows have rating < 4/,
  );
});

test('a large file reads fast (200k rows)', () => {
  const lines = ['user_id:token\titem_id:token\trating:float\ttimestamp:float'];
  for (let k = 0; k < 200_000; k++) lines.push(`${k % 5000}\t${Math.floor(k / 5000)}\t${1 + (k % 5)}\t${k}`);
  const p = file('big.inter', lines.join('\n') + '\n');
  const t0 = performance.now();
  const log = readInteractions(p, { minRating: 2 });
  const ms = performance.now() - t0;
  assert.equal(log.users.length, 160_000);
  assert.equal(log.userMap.tokens.length, 4001); // users with k % 5 = 0 only have rating 1
  assert.equal(log.itemMap.tokens.length, 41);
  assert.ok(ms < 2000, `took ${ms} ms`);
});

test('ML-100K atomic file: 943 × 1682 × 100,000 and the oracle id maps', (t) => {
  if (!requireShared(t, ML100K_INTER)) return;
  const log = readInteractions(ML100K_INTER);
  assert.equal(log.users.length, 100_000);
  assert.equal(log.userMap.tokens.length, 944);
  assert.equal(log.itemMap.tokens.length, 1683);
  if (!requireShared(t, ORACLE_DIR)) return;
  assert.deepEqual(log.userMap.tokens, readIdMapTsv(join(ORACLE_DIR, 'user_id_map.tsv')).tokens);
  assert.deepEqual(log.itemMap.tokens, readIdMapTsv(join(ORACLE_DIR, 'item_id_map.tsv')).tokens);
  const kept = readInteractions(ML100K_INTER, { minRating: 4 });
  assert.equal(kept.users.length, 55_375);
});

test('bad input: folders with no or several interaction files, bad columns, empty and unterminated fields', () => {
  const none = join(dir, 'none');
  mkdirSync(join(none, 'sub'), { recursive: true });
  writeFileSync(join(none, 'sub', 'notes.txt'), 'x');
  userError(
    () => readInteractions(none),
    /none: no interaction file found \(looked for \*\.inter, u\.data, ratings\.dat, ratings\.csv\)$/,
  );
  const many = join(dir, 'many');
  mkdirSync(join(many, 'b'), { recursive: true });
  mkdirSync(join(many, 'a'));
  writeFileSync(join(many, 'b', 'u.data'), '1\t2\n');
  writeFileSync(join(many, 'a', 'ratings.csv'), '1,2\n');
  userError(
    () => resolveInteractionFile(many),
    /many: several interaction files found: ratings\.csv, u\.data; name one$/,
  );
  userError(
    () => readInteractions(file('x.inter', 'user_id:token\titem_id:token\n1\t2\n'), { itemCol: 5 }),
    /x\.inter:1: item column index 5 is beyond the header's 2 fields \(user_id, item_id\)$/,
  );
  userError(
    () => readInteractions(file('u.data', '1\t2\n'), { userCol: 'user' }),
    /u\.data: user column 'user' is a name, but the file has no header; give a 0-based column index$/,
  );
  userError(
    () => readInteractions(file('x.csv', '1,2\n'), { userCol: -1 }),
    /^user column index must be a non-negative integer, got -1$/,
  );
  userError(() => readInteractions(file('x.csv', '1,2\n ,3\n')), /x\.csv:2: empty user field$/);
  userError(() => readInteractions(file('x.csv', '1,2\n3,"4\n')), /x\.csv:2: unterminated quoted field$/);
  const q = readInteractions(file('q.csv', 'user,item\n"a,1","say ""hi"""\na,1,x\n'));
  assert.deepEqual(q.userMap.tokens, ['[PAD]', 'a,1', 'a']);
  assert.deepEqual(q.itemMap.tokens, ['[PAD]', 'say "hi"', '1']);
});
