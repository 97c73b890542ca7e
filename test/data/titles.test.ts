/** Item titles: RecBole .item, MovieLens u.item (Latin-1) and movies.dat, and finding the file beside a dataset. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findTitlesFile, readItemTitles } from '../../src/data/titles.js';
import { isUserError } from '../../src/util/errors.js';

test('readItemTitles reads the three formats', () => {
  const dir = mkdtempSync(join(tmpdir(), 'calitune-titles-'));
  try {
    const atomic = join(dir, 'ml.item');
    writeFileSync(
      atomic,
      'item_id:token\tmovie_title:token_seq\trelease_year:token\n1\tToy Story\t1995\n2\tGoldenEye\t1995\n',
    );
    assert.deepEqual(
      [...readItemTitles(atomic)],
      [
        ['1', 'Toy Story'],
        ['2', 'GoldenEye'],
      ],
    );
    const uItem = join(dir, 'u.item');
    writeFileSync(uItem, Buffer.from('1|Toy Story (1995)|01-Jan-1995||0|1\n7|Misérables, Les (1995)|x\n', 'latin1'));
    assert.deepEqual(
      [...readItemTitles(uItem)],
      [
        ['1', 'Toy Story (1995)'],
        ['7', 'Misérables, Les (1995)'],
      ],
    );
    const movies = join(dir, 'movies.dat');
    writeFileSync(movies, '1::Toy Story (1995)::Animation|Comedy\r\n2::Jumanji (1995)::Adventure\r\n');
    assert.equal(readItemTitles(movies).get('2'), 'Jumanji (1995)');
    const noTitle = join(dir, 'bad.item');
    writeFileSync(noTitle, 'item_id:token\tyear:token\n1\t1995\n');
    assert.throws(
      () => readItemTitles(noTitle),
      (e) => isUserError(e) && /no item_id or movie_title/.test(e.message),
    );
    assert.throws(() => readItemTitles(join(dir, 'titles.txt')), isUserError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('findTitlesFile: the .item beside an interaction file, u.item / movies.dat in a folder, else nothing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'calitune-titles-'));
  try {
    const a = join(dir, 'a');
    mkdirSync(a);
    writeFileSync(join(a, 'ml.inter'), 'user_id:token\titem_id:token\n');
    assert.equal(findTitlesFile(join(a, 'ml.inter')), undefined);
    writeFileSync(join(a, 'ml.item'), 'item_id:token\tmovie_title:token_seq\n');
    assert.equal(findTitlesFile(join(a, 'ml.inter')), join(a, 'ml.item'));
    assert.equal(findTitlesFile(a), join(a, 'ml.item'));
    const b = join(dir, 'b');
    mkdirSync(b);
    writeFileSync(join(b, 'u.data'), '');
    writeFileSync(join(b, 'u.item'), '');
    assert.equal(findTitlesFile(join(b, 'u.data')), join(b, 'u.item'));
    assert.equal(findTitlesFile(join(dir, 'missing')), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
