/**
 * Failed writes that say where: a full disk (ENOSPC), a missing permission (EACCES, EPERM), a
 * read-only file system (EROFS) or a disk quota (EDQUOT) are reported with the path being
 * written and what to do, instead of Node's bare "ENOSPC: no space left on device, write".
 */

/** What to do about a failed write, by error code. */
const HINTS: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on the device: free some space (or write elsewhere) and run again',
  EDQUOT: 'the disk quota is exceeded: free some space (or write elsewhere) and run again',
  EACCES: 'permission denied: make the folder writable for this user (or write elsewhere)',
  EPERM: 'operation not permitted: make the folder writable for this user (or write elsewhere)',
  EROFS: 'the file system is read-only: write elsewhere',
};

/** A write that failed, naming the path written; `code` is the system error code (ENOSPC, EACCES, …). */
export class WriteError extends Error {
  constructor(
    readonly path: string,
    readonly code: string | undefined,
    cause: unknown,
  ) {
    const hint = code !== undefined ? HINTS[code] : undefined;
    const why = hint ?? (cause instanceof Error ? cause.message : String(cause));
    super(`cannot write ${path}: ${why}${hint !== undefined ? ` (${code})` : ''}`, { cause });
    this.name = 'WriteError';
  }
}

/**
 * `e` as a {@link WriteError} naming `path` when it is a system error (it has a code);
 * any other error (a bug, an error already wrapped) is returned unchanged.
 */
export function writeFailure(path: string, e: unknown): unknown {
  if (e instanceof WriteError) return e;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? new WriteError(path, code, e) : e;
}
