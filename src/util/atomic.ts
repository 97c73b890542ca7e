import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { writeFailure } from './write-errors.js';

/**
 * The calls that create and fill the temp file. Tests pass ones that fail the way a full disk
 * (ENOSPC) or a read-only folder (EACCES) does: as root, permission bits do not stop a write.
 */
export interface AtomicWriteIo {
  openSync(path: string, flags: 'w'): number;
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number): number;
}

const NODE_IO: AtomicWriteIo = { openSync, writeSync };

let counter = 0;

/** A temp path in the same folder as `path`, so the final rename never crosses file systems. */
export function tempPathFor(path: string): string {
  counter++;
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${counter}`);
}

/**
 * Writes a file atomically: temp file in the same folder, fsync, rename. A killed process
 * leaves either the old file or the new one, never a truncated one. A failed system call
 * (ENOSPC, EACCES, …) is thrown as a WriteError naming `path`; the temp file is removed.
 */
export function writeFileAtomic(
  path: string,
  data: string | Uint8Array | readonly Uint8Array[],
  io: AtomicWriteIo = NODE_IO,
): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    const tmp = tempPathFor(path);
    writeTemp(tmp, data, io);
    try {
      renameSync(tmp, path);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e;
    }
  } catch (e) {
    throw writeFailure(path, e);
  }
  syncFolder(dirname(path));
}

/** Creates `tmp` with `data` and fsyncs it; removes it when any step fails. */
function writeTemp(tmp: string, data: string | Uint8Array | readonly Uint8Array[], io: AtomicWriteIo): void {
  const fd = io.openSync(tmp, 'w');
  try {
    const parts = typeof data === 'string' ? [Buffer.from(data, 'utf8')] : data instanceof Uint8Array ? [data] : data;
    for (const p of parts) {
      let off = 0;
      while (off < p.length) off += io.writeSync(fd, p, off, p.length - off);
    }
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
}

/** fsyncs the folder so that a rename into it survives a crash. */
function syncFolder(dir: string): void {
  try {
    const dfd = openSync(dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    /* not supported everywhere; the rename is still atomic */
  }
}

/** Writes `value` as indented JSON with a final newline, atomically (temp file, fsync, rename). */
export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}
