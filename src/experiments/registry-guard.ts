/**
 * A damaged registry file. SQLite finds a corrupted page only when a statement reads it, long
 * after the file was opened, and says "database disk image is malformed" without naming the
 * file. Every statement of the registry goes through {@link guardedDatabase}, which turns that
 * report into an InputError naming the registry file and what to do.
 */
import type Database from 'better-sqlite3';
import { InputError } from '../util/errors.js';

const CORRUPTION_CODES = new Set(['SQLITE_CORRUPT', 'SQLITE_NOTADB']);

/** Whether `e` is SQLite's report of a damaged or foreign database file. */
export function isCorruptionError(e: unknown): boolean {
  if (!(e instanceof Error) || e instanceof InputError) return false;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && CORRUPTION_CODES.has(code.replace(/_VTAB$|_INDEX$|_SEQUENCE$/, ''))) return true;
  return /database disk image is malformed|file is not a database/i.test(e.message);
}

/** The message for a damaged registry at `path`. */
export function corruptRegistryError(path: string, e: Error): InputError {
  return new InputError(
    (n) =>
      `the registry database is damaged (SQLite says: ${e.message}); restore a copy of it, or move it aside ` +
      `and run '${n.step('grid')}' again, which creates a new registry and fine-tunes its points again`,
    { file: path },
  );
}

function guard<T>(path: string, call: () => T): T {
  try {
    return call();
  } catch (e) {
    if (isCorruptionError(e)) throw corruptRegistryError(path, e as Error);
    throw e;
  }
}

function guardedStatement(stmt: Database.Statement, path: string): Database.Statement {
  return new Proxy(stmt, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target) as unknown;
      if (typeof v !== 'function') return v;
      const fn = v as (...a: unknown[]) => unknown;
      if (prop === 'run' || prop === 'get' || prop === 'all' || prop === 'iterate')
        return (...args: unknown[]) => guard(path, () => fn.apply(target, args));
      return fn.bind(target);
    },
  });
}

/**
 * `db` with every prepare, statement run, transaction, exec and pragma guarded: SQLite's
 * corruption errors become {@link corruptRegistryError} naming `path`; other errors pass.
 */
export function guardedDatabase(db: Database.Database, path: string): Database.Database {
  return new Proxy(db, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target) as unknown;
      if (typeof v !== 'function') return v;
      const fn = v as (...a: unknown[]) => unknown;
      if (prop === 'prepare')
        return (...args: unknown[]) =>
          guardedStatement(guard(path, () => fn.apply(target, args)) as Database.Statement, path);
      if (prop === 'transaction') {
        return (body: (...a: unknown[]) => unknown) => {
          const tx = fn.call(target, body) as (...a: unknown[]) => unknown;
          return (...args: unknown[]) => guard(path, () => tx(...args));
        };
      }
      if (prop === 'exec' || prop === 'pragma')
        return (...args: unknown[]) => guard(path, () => fn.apply(target, args));
      return fn.bind(target);
    },
  });
}
