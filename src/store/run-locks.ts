/**
 * Who may write to a run at the same time (docs/architecture.md, "Run locks"). Every command
 * that writes to a run holds a lock on what it writes; the lock files live in RUN/.locks/:
 *
 *   run.lock               the whole run: train, import, prepare, postprocess
 *   grid.lock              the grid / experiments runner (one per run)
 *   report.lock            RUN/report
 *   experiment.NAME.lock   experiments/NAME and results/NAME.*: finetune, evaluate
 *                          (NAME 'base', a reserved name, for evaluate without an experiment)
 *
 * Two levels: the run lock excludes every other lock; a part lock (grid, report, experiment)
 * excludes the same part and the run lock, and parts run side by side. Each lock file is
 * created exclusively (lock-files.ts), so of two writers of the same kind exactly one wins;
 * the cross-level check comes after the own lock exists (the run writer looks for part locks,
 * a part writer for the run lock), so of a run writer and a part writer starting at the same
 * instant at least one sees the other and gives up — never do both proceed.
 *
 * The run lock's holder is the run's only writer: on taking it, what killed writers left in the
 * run's own folders is cleaned up (run-cleanup.ts).
 *
 * A use-case called by another one in the same call chain (the grid runner's postprocess) is
 * not blocked by its caller's locks: withRunLock records the locks of the chain in an
 * AsyncLocalStorage. Concurrent calls in one process (a server) have separate chains and
 * exclude each other like processes do.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { existsSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { UserError } from '../util/errors.js';
import { resultsNameProblem } from './experiment-name.js';
import {
  createExclusive,
  isStale,
  newLockHolder,
  readLockFile,
  removeDeadGuards,
  removeDirIfEmpty,
  removeIfMine,
  replaceStale,
  type LockFileState,
  type LockHolder,
} from './lock-files.js';
import { removeUnfinishedWritesOfDeadProcesses } from './unfinished-writes.js';
import { removeUnfinishedRunWrites } from './run-cleanup.js';
import { runPaths } from './run.js';

/** What a lock protects: the whole run, or one part of it. */
export type RunLockTarget = 'run' | 'grid' | 'report' | { experiment: string };

/** A lock this call chain holds. */
export interface HeldRunLock {
  path: string;
  holder: LockHolder;
  /** Removes the lock file (once; only while it is still this holder's). */
  release(): void;
}

/** What to lock, for which use-case, and where notes (a stale lock taken over) go. */
export interface RunLockRequest {
  run: string;
  target: RunLockTarget;
  /** The use-case taking the lock, recorded in the lock file (e.g. 'finetune'). */
  command: string;
  note?: (line: string) => void;
}

/** A second writer: what is locked and by whom (the CLI exits with code 2, like the grid lock always did). */
export class RunLockedError extends UserError {
  constructor(
    message: string,
    /** The holder, when its lock file could be read. */
    readonly holder?: LockHolder,
  ) {
    super(message);
    this.name = 'RunLockedError';
  }
}

/** The folder of a run's lock files. */
export function runLocksDir(run: string): string {
  return join(run, '.locks');
}

/** The lock file of `target` in `run`. */
export function runLockPath(run: string, target: RunLockTarget): string {
  if (typeof target !== 'string') {
    const problem = resultsNameProblem(target.experiment);
    if (problem !== undefined) throw new UserError(problem);
  }
  const file = typeof target === 'string' ? `${target}.lock` : `experiment.${target.experiment}.lock`;
  return join(runLocksDir(run), file);
}

const chainLocks = new AsyncLocalStorage<ReadonlySet<string>>();

function heldByChain(state: LockFileState | undefined): boolean {
  const token = state?.holder?.token;
  return token !== undefined && (chainLocks.getStore()?.has(token) ?? false);
}

function describeLockFile(path: string): string {
  const f = basename(path);
  if (f === 'run.lock') return 'the run';
  if (f === 'grid.lock') return 'the grid runner';
  if (f === 'report.lock') return 'the report';
  const m = /^experiment\.(.*)\.lock$/.exec(f);
  return m ? `experiment '${m[1]}'` : f;
}

function describeHolder(h: LockHolder): string {
  const script = h.argv[1] !== undefined ? basename(h.argv[1]) : '';
  let line = [script, ...h.argv.slice(2)].join(' ').trim();
  if (line.length > 160) line = `${line.slice(0, 157)}…`;
  return `${h.command} (pid ${h.pid}, started ${h.started}${line ? `; command line: ${line}` : ''})`;
}

/** The error for a live (or unreadable) lock at `path` that keeps `req` from proceeding. */
function lockedError(req: RunLockRequest, path: string, state: LockFileState): RunLockedError {
  const wanted = describeLockFile(runLockPath(req.run, req.target));
  const what = describeLockFile(path);
  const subject = wanted === what ? `${what} of ${req.run}` : `cannot lock ${wanted} of ${req.run}: ${what}`;
  if (state.holder === undefined) {
    return new RunLockedError(
      `${subject} is locked: ${path} is not a lock file this program wrote; ` +
        'remove it if no other command is working on the run',
    );
  }
  return new RunLockedError(
    `${subject} is locked by ${describeHolder(state.holder)}: wait for it to finish or stop it (lock file: ${path})`,
    state.holder,
  );
}

/** The lock files that exclude `target` (other than its own file). */
function excludingLocks(run: string, target: RunLockTarget): string[] {
  if (target !== 'run') return [runLockPath(run, 'run')];
  const dir = runLocksDir(run);
  const own = runLockPath(run, 'run');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.lock') && !f.startsWith('.'))
    .map((f) => join(dir, f))
    .filter((p) => p !== own);
}

/** A live lock that excludes `req` (stale ones are removed on the way), or undefined. */
function findExcluding(req: RunLockRequest, mine: string): { path: string; state: LockFileState } | undefined {
  for (const path of excludingLocks(req.run, req.target)) {
    const state = readLockFile(path);
    if (state === undefined || heldByChain(state)) continue;
    if (isStale(state)) {
      if (replaceStale(path, state.raw, mine, undefined)) req.note?.(tookOverNote(path, state, 'removed'));
      continue;
    }
    return { path, state };
  }
  return undefined;
}

function tookOverNote(path: string, state: LockFileState, how: 'taken over' | 'removed'): string {
  const h = state.holder!;
  return (
    `note: the lock ${path} of ${h.command} (pid ${h.pid}, started ${h.started}) was left by a process ` +
    `that is gone: ${how}`
  );
}

/** Takes the lock file itself (or finds it held by this chain: undefined); throws when another holds it. */
function takeLockFile(req: RunLockRequest, path: string, mine: string): 'taken' | 'reentrant' {
  for (let attempt = 0; attempt < 5; attempt++) {
    if (createExclusive(path, mine)) return 'taken';
    const state = readLockFile(path);
    if (state === undefined) continue; // released meanwhile: try again
    if (heldByChain(state)) return 'reentrant';
    if (!isStale(state)) throw lockedError(req, path, state);
    if (replaceStale(path, state.raw, mine, mine)) {
      req.note?.(tookOverNote(path, state, 'taken over'));
      return 'taken';
    }
  }
  throw new RunLockedError(`cannot take the lock ${path}: other processes keep taking it; try again`);
}

/**
 * Takes the lock of `req.target` in `req.run` for this call chain (see the file comment); throws a
 * RunLockedError naming the holder when another writer holds it or an excluding lock. Prefer
 * {@link withRunLock}, which also releases it and records it for nested use-cases.
 */
export function acquireRunLock(req: RunLockRequest): HeldRunLock {
  const path = runLockPath(req.run, req.target);
  const runExisted = existsSync(req.run);
  const holder = newLockHolder(req.command);
  // A part of a run that does not exist has nothing to protect, and the lock folder must not
  // create the run: the use-case reports the missing run in its own words.
  if (!runExisted && req.target !== 'run') return { path, holder, release: () => undefined };
  const mine = `${JSON.stringify(holder, null, 2)}\n`;
  removeUnfinishedWritesOfDeadProcesses(runLocksDir(req.run));
  if (takeLockFile(req, path, mine) === 'reentrant') {
    const outer = readLockFile(path)!.holder!;
    return { path, holder: outer, release: () => undefined };
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    removeIfMine(path, mine);
    removeDirIfEmpty(runLocksDir(req.run));
    if (!runExisted) removeDirIfEmpty(req.run);
  };
  removeDeadGuards(runLocksDir(req.run), mine);
  const excluding = findExcluding(req, mine);
  if (excluding !== undefined) {
    release();
    throw lockedError(req, excluding.path, excluding.state);
  }
  try {
    if (req.target === 'run') removeUnfinishedRunWrites(req.run);
    else removeDeadWritersInSharedFolders(req.run);
  } catch (e) {
    release();
    throw e;
  }
  return { path, holder, release };
}

/**
 * What killed writers left in the folders part-lock holders share (results/, lists/): only the temp
 * files of processes that are gone, since a live holder of another part may be about to rename its own.
 */
function removeDeadWritersInSharedFolders(run: string): void {
  const p = runPaths(run);
  removeUnfinishedWritesOfDeadProcesses(p.results);
  removeUnfinishedWritesOfDeadProcesses(p.lists);
}

/**
 * Runs `fn` holding the lock of `req.target` (see the file comment) and releases it afterwards;
 * use-cases `fn` calls are not blocked by it. Throws a RunLockedError when another writer holds it.
 */
export async function withRunLock<T>(req: RunLockRequest, fn: (lock: HeldRunLock) => Promise<T> | T): Promise<T> {
  const lock = acquireRunLock(req);
  const chain = new Set(chainLocks.getStore() ?? []);
  chain.add(lock.holder.token);
  try {
    return await chainLocks.run(chain, () => fn(lock));
  } finally {
    lock.release();
  }
}
