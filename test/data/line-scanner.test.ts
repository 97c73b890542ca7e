import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { field, scanLines, type ScanOptions } from '../../src/data/line-scanner.js';
import { UserError } from '../../src/util/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'calitune-scanner-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const CHUNK = 8 << 20;

/** Every non-blank line as [line number, ...fields]. */
function scan(text: string | Buffer, opt: ScanOptions): { lines: (string | number)[][]; physical: number } {
  const p = join(dir, 'f.txt');
  writeFileSync(p, text);
  const lines: (string | number)[][] = [];
  const physical = scanLines(p, opt, (v) => {
    const row: (string | number)[] = [v.lineNo];
    for (let k = 0; k < v.count; k++) row.push(field(v, k));
    lines.push(row);
  });
  return { lines, physical };
}

const TAB: ScanOptions = { sep: '\t', trim: false, quotes: false };

/** ASCII filler lines of 16 bytes each, up to `bytes`. */
function filler(bytes: number): string[] {
  const out: string[] = [];
  for (let n = 0; n * 16 < bytes; n++) out.push(`${String(n).padStart(7, '0')}\tabcdefg`);
  return out;
}

test('lines and characters that straddle the chunk boundary come through whole', () => {
  for (const lead of [3, 2, 1, 0]) {
    // The 4-byte character starts `lead` bytes before the boundary: cut in two for lead 1…3.
    const head = filler(CHUNK - 16);
    const pad = 'x'.repeat(15 - lead);
    const special = `${pad}\t𝄞 Jürgen Café ☕`;
    const tail = ['Zoë\t☕', 'last\tline'];
    const text = `${[...head, special, ...tail].join('\n')}`; // no final newline
    const { lines, physical } = scan(text, TAB);
    assert.equal(physical, head.length + 3);
    assert.equal(lines.length, head.length + 3);
    assert.deepEqual(lines[head.length], [head.length + 1, pad, '𝄞 Jürgen Café ☕']);
    assert.deepEqual(lines.at(-2), [head.length + 2, 'Zoë', '☕']);
    assert.deepEqual(lines.at(-1), [head.length + 3, 'last', 'line']);
  }
});

test('an ASCII first chunk followed by UTF-8 text, CRLF endings, blank lines and a byte-order mark', () => {
  const head = filler(CHUNK);
  const text = `\ufeff${head.join('\r\n')}\r\n\r\n  \t \r\nñ\tö\r\n`;
  const { lines, physical } = scan(text, TAB);
  assert.equal(physical, head.length + 3);
  assert.deepEqual(lines[0], [1, '0000000', 'abcdefg']);
  assert.deepEqual(lines.at(-1), [head.length + 3, 'ñ', 'ö']);
  assert.equal(lines.length, head.length + 1);
});

test('csv: quotes, doubled quotes, separators inside quotes, trimming, multi-character separators', () => {
  const csv: ScanOptions = { sep: ',', trim: true, quotes: true };
  assert.deepEqual(scan(' a , "b,c" ,"d""e",,"" \n', csv).lines, [[1, 'a', 'b,c', 'd"e', '', '']]);
  const multi: ScanOptions = { sep: '::', trim: false, quotes: true };
  assert.deepEqual(scan('1::"2::3"::4\n', multi).lines, [[1, '1', '2::3', '4']]);
  assert.throws(
    () => scan('1,2\n3,"4\n', csv),
    (e: unknown) => e instanceof UserError && /f\.txt:2: unterminated quoted field$/.test(e.message),
  );
});
