/**
 * One lock file: created whole and atomically, taken over when its holder's process is gone,
 * released only by its holder. What a lock protects and which locks exclude each other is
 * run-locks.ts's business; this file only knows one path at a time.
 *
 * A lock file is JSON ({@link LockHolder}): pid, use-case, command line, start time and a
 * random token that makes every lock instance unique.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  rmdirSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { tempPathFor } from '../util/atomic.js';

/** What a lock file says about the process holding it. */
export interface LockHolder {
  pid: number;
  /** The use-case that holds the lock (e.g. 'finetune'). */
  command: string;
  /** The holder's command line (process.argv). */
  argv: string[];
  /** When the lock was taken (ISO 8601). */
  started: string;
  /** Random: tells two lock instances of one pid apart. */
  token: string;
}

/** A lock file as read: its raw text (what a take-over compares) and the holder, when the text parses. */
export interface LockFileState {
  raw: string;
  holder?: LockHolder;
}

/** The holder record of this process for `command`. */
export function newLockHolder(command: string): LockHolder {
  return {
    pid: process.pid,
    command,
    argv: [...process.argv],
    started: new Date().toISOString(),
    token: randomBytes(12).toString('hex'),
  };
}

/**
 * Whether process `pid` is alive: it exists (EPERM: it exists but belongs to someone else) and,
 * where /proc tells, is no zombie. A killed worker whose parent was killed too is a zombie until
 * init reaps it, which can take a while; its locks are stale.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !isZombie(pid);
}

/** Whether /proc/PID/stat says the process is a zombie or dead (false where there is no /proc). */
function isZombie(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  // "PID (COMMAND) STATE …": the command may hold spaces and parentheses, the state follows the last ')'.
  const state = stat.slice(stat.lastIndexOf(')') + 1).trim()[0];
  return state === 'Z' || state === 'X';
}

function parseHolder(raw: string): LockHolder | undefined {
  try {
    const h = JSON.parse(raw) as Partial<LockHolder>;
    const ok =
      Number.isInteger(h.pid) && (h.pid ?? 0) > 0 && typeof h.command === 'string' && typeof h.token === 'string';
    if (!ok) return undefined;
    return {
      pid: h.pid!,
      command: h.command!,
      argv: Array.isArray(h.argv) ? h.argv.map(String) : [],
      started: typeof h.started === 'string' ? h.started : '?',
      token: h.token!,
    };
  } catch {
    return undefined;
  }
}

/** The lock file at `path`, or undefined when there is none. */
export function readLockFile(path: string): LockFileState | undefined {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const holder = parseHolder(raw);
  return holder ? { raw, holder } : { raw };
}

/**
 * Whether the lock is stale: its holder's process is gone. A file that does not parse as a
 * holder is never stale (somebody wrote it by hand; the message asks to remove it).
 */
export function isStale(state: LockFileState): boolean {
  return state.holder !== undefined && !processAlive(state.holder.pid);
}

/**
 * Creates `path` with `content` unless it exists; true when created. The content goes to a temp
 * file first and link() gives it the lock's name: link fails with EEXIST when the name is taken
 * (the same atomic test-and-create as open(O_CREAT|O_EXCL), 'wx'), and the lock appears complete,
 * so no reader ever sees a half-written lock file.
 */
export function createExclusive(path: string, content: string): boolean {
  for (let attempt = 0; ; attempt++) {
    mkdirSync(dirname(path), { recursive: true });
    const tmp = tempPathFor(path);
    try {
      writeFileSync(tmp, content, { flag: 'wx' });
      linkSync(tmp, path);
      return true;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return false;
      // ENOENT: the lock folder was removed by a releasing holder between mkdir and link.
      if (code !== 'ENOENT' || attempt >= 5) throw e;
    } finally {
      rmSync(tmp, { force: true });
    }
  }
}

/** The guard file that serialises the take-over of the lock instance whose text is `raw`. */
function guardPath(path: string, raw: string): string {
  const digest = createHash('sha256').update(raw).digest('hex').slice(0, 16);
  return `${path}.takeover-${digest}`;
}

/**
 * Replaces (or, with `replacement` undefined, removes) the stale lock `path` whose text was `seen`;
 * true when this process did it. Why it is safe: only the process that creates the guard file
 * for this very lock instance (named after a hash of `seen`; created exclusively) may touch the
 * lock, and it first re-reads the lock: if the text is no longer `seen`, somebody else already
 * replaced it and nothing is done. The replacement is a rename over the lock (atomic), and the
 * guard is removed only after it, so a slower process that read the same stale text either fails
 * to create the guard or, once the guard is gone, re-reads a lock that is no longer `seen`. A guard
 * whose own holder died is taken over the same way, one level up (at most three levels).
 */
export function replaceStale(
  path: string,
  seen: string,
  me: string,
  replacement: string | undefined,
  depth = 0,
): boolean {
  const guard = guardPath(path, seen);
  if (!createExclusive(guard, me)) {
    const g = readLockFile(guard);
    if (g === undefined || !isStale(g) || depth >= 3) return false;
    if (!replaceStale(guard, g.raw, me, me, depth + 1)) return false;
  }
  try {
    if (readLockFile(path)?.raw !== seen) return false;
    if (replacement === undefined) rmSync(path, { force: true });
    else {
      const tmp = tempPathFor(path);
      try {
        writeFileSync(tmp, replacement, { flag: 'wx' });
        renameSync(tmp, path);
      } finally {
        rmSync(tmp, { force: true });
      }
    }
    return true;
  } finally {
    removeIfMine(guard, me);
  }
}

/** Removes the lock file at `path` if it still holds `mine` (a holder never removes another's lock). */
export function removeIfMine(path: string, mine: string): void {
  if (readLockFile(path)?.raw === mine) rmSync(path, { force: true });
}

/**
 * Removes the take-over guards in `dir` whose holder died mid-take-over (the same guarded way as a
 * stale lock, so a live taker's guard is never touched); `me` is this process's holder text.
 */
export function removeDeadGuards(dir: string, me: string): void {
  if (!existsSync(dir)) return;
  for (const f of readdirSync(dir)) {
    if (!f.includes('.takeover-') || f.startsWith('.')) continue;
    const path = join(dir, f);
    const state = readLockFile(path);
    if (state !== undefined && isStale(state)) replaceStale(path, state.raw, me, undefined);
  }
}

/** Removes `dir` if it is empty (another process may just have put a lock into it: then it stays). */
export function removeDirIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    /* not empty, or gone */
  }
}
