/**
 * Failed atomic writes name the path. Tests run as root in CI, and root ignores permission bits,
 * so a read-only folder does not make a write fail: the failures are injected through
 * writeFileAtomic's io argument, failing exactly as a full disk (ENOSPC on write) and a
 * read-only folder (EACCES on open) fail.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic, type AtomicWriteIo } from '../../src/util/atomic.js';
import { WriteError, writeFailure } from '../../src/util/write-errors.js';

const tmp = mkdtempSync(join(tmpdir(), 'calitune-write-errors-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

function systemError(code: string, syscall: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: failed, ${syscall}`), { code, syscall });
}

test('ENOSPC while writing names the target, says what to do, and leaves no temp file', () => {
  const dir = join(tmp, 'full');
  const target = join(dir, 'model.safetensors');
  let calls = 0;
  const fullDisk: AtomicWriteIo = {
    openSync: (p, flags) => openSync(p, flags),
    writeSync: (fd, buf, off, len) => {
      // the first write goes through, the second finds the disk full
      if (calls++ > 0) throw systemError('ENOSPC', 'write');
      return writeSync(fd, buf, off, Math.min(len, 4));
    },
  };
  assert.throws(
    () => writeFileAtomic(target, 'some bytes that do not fit', fullDisk),
    (e: unknown) =>
      e instanceof WriteError &&
      e.code === 'ENOSPC' &&
      e.message ===
        `cannot write ${target}: no space left on the device: ` +
          'free some space (or write elsewhere) and run again (ENOSPC)',
  );
  assert.deepEqual(readdirSync(dir), []);
});

test('EACCES on open names the target; the old file stays', () => {
  const target = join(tmp, 'results.json');
  writeFileAtomic(target, 'old\n');
  const readOnly: AtomicWriteIo = {
    openSync: () => {
      throw systemError('EACCES', 'open');
    },
    writeSync,
  };
  assert.throws(
    () => writeFileAtomic(target, 'new\n', readOnly),
    new RegExp(
      `^WriteError: cannot write ${target.replace(/[.]/g, '\\.')}: permission denied: make the folder writable`,
    ),
  );
  assert.equal(readFileSync(target, 'utf8'), 'old\n');
});

test('a real refusal: /sys takes no new files, even from root (EACCES, or EROFS when mounted read-only)', {
  skip: !existsSync('/sys/kernel'),
}, () => {
  const target = '/sys/calitune-out.json';
  assert.throws(
    () => writeFileAtomic(target, '{}'),
    (e: unknown) =>
      e instanceof WriteError &&
      ['EACCES', 'EROFS', 'EPERM'].includes(e.code ?? '') &&
      e.message.startsWith(`cannot write ${target}: `),
  );
  assert.equal(existsSync(target), false);
});

test('errors without a system code pass through unchanged', () => {
  const bug = new TypeError('not a system error');
  assert.equal(writeFailure('/x', bug), bug);
  const wrapped = writeFailure('/x', systemError('EROFS', 'open'));
  assert.ok(wrapped instanceof WriteError && /read-only/.test(wrapped.message));
  assert.equal(writeFailure('/y', wrapped), wrapped);
});
