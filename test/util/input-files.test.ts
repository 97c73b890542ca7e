/** User-given files: only regular files are read (a FIFO or device is refused at once); NUL bytes mean binary. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeFifo } from '../helpers/hostile-inputs.js';
import { InputError } from '../../src/util/errors.js';
import { readRegularFile, readRegularTextFile, statRegularFile } from '../../src/util/input-files.js';

const tmp = mkdtempSync(join(tmpdir(), 'calitune-input-files-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

/** A FIFO without a writer: a plain open for reading would block forever. */
const fifo = (name: string): string => makeFifo(join(tmp, name));

function refused(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof InputError && pattern.test(e.message));
}

test('a FIFO is refused at once, naming the file', () => {
  const p = fifo('config.yaml');
  const started = Date.now();
  refused(
    () => readRegularTextFile(p, 'the configuration'),
    /config\.yaml: cannot read the configuration: it is a FIFO/,
  );
  refused(() => statRegularFile(p), /a FIFO \(named pipe\), not a regular file/);
  assert.ok(Date.now() - started < 5000);
});

test('a character device and a folder are refused', () => {
  refused(
    () => readRegularFile('/dev/zero'),
    /^\/dev\/zero: cannot read: it is a character device, not a regular file$/,
  );
  const dir = join(tmp, 'folder.yaml');
  mkdirSync(dir);
  refused(() => readRegularTextFile(dir, 'the grid file'), /cannot read the grid file: it is a folder/);
});

test('a missing file is "no such file"; a regular file is read', () => {
  refused(
    () => readRegularTextFile(join(tmp, 'nope.yaml'), 'the grid file'),
    /cannot read the grid file: no such file$/,
  );
  const p = join(tmp, 'ok.txt');
  writeFileSync(p, 'a\nb\n');
  assert.equal(readRegularTextFile(p), 'a\nb\n');
  assert.equal(statRegularFile(p).size, 4);
});

test('a text file with a NUL byte looks binary; the message names its line and quotes none of it', () => {
  const p = join(tmp, 'binary.yaml');
  writeFileSync(p, Buffer.concat([Buffer.from('a: 1\nb: 2\nc'), Buffer.alloc(3), Buffer.from('\n'.repeat(5))]));
  assert.throws(
    () => readRegularTextFile(p),
    (e: unknown) =>
      e instanceof InputError &&
      e.message === `${p}:3: the file looks binary (a NUL byte on this line); expected a text file`,
  );
});
