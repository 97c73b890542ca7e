/**
 * Files the user names (interaction data, configurations, grid files, imported arrays and
 * maps). Only regular files are read: a FIFO, a device, a socket or a folder given by mistake is
 * refused at once with a message, instead of blocking forever on a FIFO or reading without end
 * from a device. Text files are also checked for NUL bytes, the mark of a binary file.
 */
import { closeSync, constants, fstatSync, openSync, readFileSync, type Stats } from 'node:fs';
import { InputError } from './errors.js';

/** What a file system entry is, in words, for a refusal. */
function kindOf(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  if (st.isDirectory()) return 'a folder';
  return 'not a regular file';
}

/** Why an open or read failed, in words (the reason of a system error). */
function reasonOf(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return e instanceof Error ? e.message : String(e);
}

/**
 * Opens a user-given file for reading and returns its descriptor; refuses (InputError naming the
 * file) anything but a regular file. The open never blocks: a FIFO is opened non-blocking and
 * refused. `what` names the file in messages ("cannot read the grid file: no such file").
 */
export function openRegularFile(path: string, what?: string): number {
  const cannot = what === undefined ? 'cannot read' : `cannot read ${what}`;
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO without a writer would otherwise wait forever.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw new InputError(`${cannot}: ${reasonOf(e)}`, { file: path });
  }
  let st: Stats;
  try {
    st = fstatSync(fd);
  } catch (e) {
    closeSync(fd);
    throw new InputError(`${cannot}: ${reasonOf(e)}`, { file: path });
  }
  if (!st.isFile()) {
    closeSync(fd);
    throw new InputError(`${cannot}: it is ${kindOf(st)}, not a regular file`, { file: path });
  }
  return fd;
}

/** The size and kind of a user-given file, refused unless it is a regular file (see {@link openRegularFile}). */
export function statRegularFile(path: string, what?: string): Stats {
  const fd = openRegularFile(path, what);
  try {
    return fstatSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The bytes of a user-given regular file (see {@link openRegularFile}). */
export function readRegularFile(path: string, what?: string): Buffer {
  const fd = openRegularFile(path, what);
  try {
    return readFileSync(fd);
  } catch (e) {
    throw new InputError(`${what === undefined ? 'cannot read' : `cannot read ${what}`}: ${reasonOf(e)}`, {
      file: path,
    });
  } finally {
    closeSync(fd);
  }
}

/**
 * The UTF-8 text of a user-given regular file; a file with a NUL byte is refused as binary,
 * naming the line of the first one.
 */
export function readRegularTextFile(path: string, what?: string): string {
  const bytes = readRegularFile(path, what);
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw binaryFileError(path, lineAt(bytes, nul));
  return bytes.toString('utf8');
}

/** The refusal of a text file with NUL bytes, at its 1-based `line`. */
export function binaryFileError(path: string, line: number): InputError {
  return new InputError('the file looks binary (a NUL byte on this line); expected a text file', {
    file: path,
    line,
  });
}

function lineAt(bytes: Uint8Array, offset: number): number {
  let line = 1;
  for (let i = bytes.indexOf(10); i >= 0 && i < offset; i = bytes.indexOf(10, i + 1)) line++;
  return line;
}
