/**
 * Atomic writes of files too large to hold as one text: the parts come from an iterable that
 * makes each one only when it is written (a block of rows), so the memory held is one part, not
 * the file. Same guarantees as writeFileAtomic (src/util/atomic.ts): temp file in the same
 * folder, fsync, rename; a failed system call is thrown as a WriteError naming the file.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { tempPathFor } from './atomic.js';
import { writeFailure } from './write-errors.js';

/**
 * Writes the parts in order to a temp file beside `path`, fsyncs it and renames it into place.
 * Parts are taken from `parts` one at a time. Returns the number of bytes written. On failure
 * (of a write or of the iterable) the temp file is removed and `path` is left as it was.
 */
export function writeFileAtomicStreamed(path: string, parts: Iterable<Uint8Array>): number {
  let tmp: string | undefined;
  let bytes = 0;
  try {
    mkdirSync(dirname(path), { recursive: true });
    tmp = tempPathFor(path);
    const fd = openSync(tmp, 'w');
    try {
      for (const p of parts) {
        let off = 0;
        while (off < p.length) off += writeSync(fd, p, off, p.length - off);
        bytes += p.length;
      }
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    if (tmp !== undefined) rmSync(tmp, { force: true });
    throw writeFailure(path, e);
  }
  return bytes;
}
