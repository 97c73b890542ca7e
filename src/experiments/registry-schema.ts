/**
 * The registry's SQLite schema: its tables, the version check on opening (a registry written by
 * a newer schema version is refused; an older one is migrated when opened for writing) and the
 * creation of a new one.
 *
 * Versions: 1 — grid / experiments points, their epochs, the CP curve; 2 — adds the tuning
 * studies and their trials (`calitune tune`). Migrating 1 → 2 creates the two new tables.
 */
import type Database from 'better-sqlite3';
import { UserError } from '../util/errors.js';

/** Version of the registry's SQLite schema; a newer one is refused, an older one migrated. */
export const REGISTRY_SCHEMA_VERSION = 2;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS schema_version (
  version INTEGER NOT NULL,
  written_by TEXT NOT NULL,
  created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS points (
  name TEXT PRIMARY KEY,
  source TEXT NOT NULL,
  config TEXT NOT NULL,
  varied TEXT NOT NULL DEFAULT '{}',
  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  queued_at TEXT,
  started_at TEXT,
  finished_at TEXT,
  seconds REAL,
  error TEXT,
  summary TEXT,
  frontier INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS epochs (
  name TEXT NOT NULL REFERENCES points(name) ON DELETE CASCADE,
  epoch INTEGER NOT NULL,
  valid_ndcg REAL NOT NULL,
  jsd REAL NOT NULL,
  tradeoff REAL,
  test_ndcg REAL NOT NULL,
  test_jsd REAL NOT NULL,
  frontier INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (name, epoch)
);
CREATE TABLE IF NOT EXISTS cp (
  lambda TEXT PRIMARY KEY,
  ndcg REAL NOT NULL,
  jsd REAL NOT NULL
);
`;

/** Version 2's new tables: tuning studies and their trials. */
const TUNE_TABLES = `
CREATE TABLE IF NOT EXISTS tune_studies (
  name TEXT PRIMARY KEY,
  model TEXT NOT NULL,
  settings TEXT NOT NULL,
  created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS trials (
  id TEXT PRIMARY KEY,
  study TEXT NOT NULL REFERENCES tune_studies(name) ON DELETE CASCADE,
  idx INTEGER NOT NULL,
  config TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'stopped', 'completed', 'failed')),
  stopped_at INTEGER,
  rungs TEXT NOT NULL DEFAULT '[]',
  curve TEXT NOT NULL DEFAULT '[]',
  epochs_run INTEGER,
  best_epoch INTEGER,
  best_valid_ndcg REAL,
  attempts INTEGER NOT NULL DEFAULT 0,
  started_at TEXT,
  finished_at TEXT,
  seconds REAL,
  error TEXT,
  UNIQUE (study, idx)
);
`;

/** Each older version's step to the next: index v − 1 migrates version v to v + 1. */
const MIGRATIONS: ReadonlyArray<(db: Database.Database) => void> = [(db) => db.exec(TUNE_TABLES)];

/**
 * Checks the schema version of an opened registry database and, unless `readonly`, sets its
 * pragmas (WAL, full sync, foreign keys) and creates the tables and the version row it lacks.
 * A database that is not a registry, or of another version, is refused with a UserError naming `path`.
 */
export function initRegistrySchema(db: Database.Database, path: string, readonly: boolean): number {
  db.pragma('busy_timeout = 5000');
  let version = REGISTRY_SCHEMA_VERSION;
  const hasVersion =
    db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'`).get() !== undefined;
  if (hasVersion) {
    const v = db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number | null };
    const row = db.prepare('SELECT written_by FROM schema_version ORDER BY version DESC LIMIT 1').get() as
      | { written_by: string }
      | undefined;
    if (v.v !== null && v.v > REGISTRY_SCHEMA_VERSION) {
      throw new UserError(
        `the registry was written by a newer calitune (schema version ${v.v}${row ? `, ${row.written_by}` : ''}); ` +
          `this calitune reads version ${REGISTRY_SCHEMA_VERSION}: upgrade calitune or use another run directory`,
        path,
      );
    }
    if (v.v !== null && v.v < REGISTRY_SCHEMA_VERSION && readonly) version = v.v;
    else if (v.v !== null && v.v < REGISTRY_SCHEMA_VERSION) {
      migrate(db, v.v);
      version = REGISTRY_SCHEMA_VERSION;
    }
  } else {
    const tables = db.prepare(`SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table'`).get() as { n: number };
    if (tables.n > 0)
      throw new UserError('an SQLite database without a calitune schema_version table: not a calitune registry', path);
    if (readonly) throw new UserError('the registry is empty', path);
  }
  if (readonly) return version;
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.exec(SCHEMA);
  db.exec(TUNE_TABLES);
  if (!hasVersion)
    db.prepare('INSERT INTO schema_version (version, written_by, created) VALUES (?, ?, ?)').run(
      REGISTRY_SCHEMA_VERSION,
      'calitune 0.1.0',
      new Date().toISOString(),
    );
  return version;
}

/**
 * Migrates a registry of schema version `from` to the current one, each step and its version
 * row in one transaction: a migration killed midway leaves the old version, which is migrated
 * again on the next opening.
 */
function migrate(db: Database.Database, from: number): void {
  for (let v = from; v < REGISTRY_SCHEMA_VERSION; v++) {
    const step = MIGRATIONS[v - 1];
    if (step === undefined) throw new Error(`no registry migration from schema version ${v}`);
    db.transaction(() => {
      step(db);
      db.prepare('INSERT INTO schema_version (version, written_by, created) VALUES (?, ?, ?)').run(
        v + 1,
        'calitune 0.1.0 (migrated)',
        new Date().toISOString(),
      );
    })();
  }
}
