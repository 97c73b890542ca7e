/**
 * The run registry: RUN/registry.sqlite, an embedded SQLite database (better-sqlite3,
 * WAL journal) with every grid / experiments point — name, configuration, status (queued /
 * running / done / failed), timings, error and summary metrics (the base model, the
 * validation-selected epoch per selection mode with its test metrics, per-epoch validation and
 * test metrics of every stored epoch, frontier flag) — plus the CP curve of the run.
 *
 * One writer: the process that runs the grid (its worker processes never open the database).
 * Readers (`calitune runs …`, the report) may open it at any time; WAL keeps them consistent.
 * A database written by a newer schema version is refused with a clear error.
 *
 * Frontier (`registryFrontier`): every stored epoch of every done point is a candidate for the
 * validation Pareto front, compared with the stored CP curve by the rules of src/selection.
 */
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { InputError, UserError, type Naming } from '../util/errors.js';
import { DEFAULT_FINETUNE_CONFIG } from '../calibration/finetune-config.js';
import { cpCurve, frontierReport, validationFront, type CpCurve, type FrontierReport } from '../selection/index.js';
import { REGISTRY_FILE, registryPath } from '../store/registry-files.js';

export { REGISTRY_FILE, registryPath } from '../store/registry-files.js';

/** Version of the registry's SQLite schema; a registry of another version is refused. */
export const REGISTRY_SCHEMA_VERSION = 1;
/** The states of a point in the registry, in the order a point goes through them. */
export const POINT_STATUSES = ['queued', 'running', 'done', 'failed'] as const;
/** One of {@link POINT_STATUSES}. */
export type PointStatus = (typeof POINT_STATUSES)[number];

/** NDCG@k and JSD@k of one list set. */
export interface MetricPair {
  ndcg: number;
  jsd: number;
}

/** A point's validation-selected epoch: its validation metrics and its test metrics. */
export interface SelectedSummary {
  epoch: number;
  valid: { valid_ndcg: number; jsd: number; tradeoff: number | null };
  test: MetricPair & Record<string, number>;
}

/** What the registry keeps of a finished point: epochs run, why it stopped, backbone and selected metrics. */
export interface PointSummary {
  epochs_run: number | null;
  stop_reason: string | null;
  base: (MetricPair & Record<string, number>) | null;
  selected: Record<string, SelectedSummary | null>;
  results: string;
}

/** One stored epoch of a point with its validation and test metrics. */
export interface EpochRow {
  name: string;
  epoch: number;
  valid_ndcg: number;
  jsd: number;
  tradeoff: number | null;
  test_ndcg: number;
  test_jsd: number;
}

/** A point as the registry holds it: configuration, status, attempts, times, error and summary. */
export interface PointRow {
  name: string;
  source: string;
  config: Record<string, unknown>;
  varied: Record<string, unknown>;
  status: PointStatus;
  attempts: number;
  queued_at: string | null;
  started_at: string | null;
  finished_at: string | null;
  seconds: number | null;
  error: string | null;
  summary: PointSummary | null;
  /** Whether any stored epoch of the point is on the validation front over all points. */
  frontier: boolean;
  /** Those epochs, ascending (the front is over epochs, not points: see frontEpochs in `runs list`). */
  frontEpochs: number[];
}

/** One CP λ's test metrics in the registry. */
export interface CpRow {
  lambda: string;
  ndcg: number;
  jsd: number;
}

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

const now = () => new Date().toISOString();

function parseJson<T>(s: string | null): T | null {
  if (s === null || s === undefined) return null;
  try {
    return JSON.parse(s) as T;
  } catch {
    return null;
  }
}

interface RawPoint {
  name: string;
  source: string;
  config: string;
  varied: string;
  status: PointStatus;
  attempts: number;
  queued_at: string | null;
  started_at: string | null;
  finished_at: string | null;
  seconds: number | null;
  error: string | null;
  summary: string | null;
  frontier: number;
}

function rowOf(r: RawPoint, frontEpochs: readonly number[] = []): PointRow {
  return {
    name: r.name,
    source: r.source,
    config: parseJson(r.config) ?? {},
    varied: parseJson(r.varied) ?? {},
    status: r.status,
    attempts: r.attempts,
    queued_at: r.queued_at,
    started_at: r.started_at,
    finished_at: r.finished_at,
    seconds: r.seconds,
    error: r.error,
    summary: parseJson<PointSummary>(r.summary),
    frontier: r.frontier === 1,
    frontEpochs: [...frontEpochs],
  };
}

/** The run's registry (SQLite): grid points, their status and metrics, the epochs and CP's points. */
export class Registry {
  private constructor(
    readonly db: Database.Database,
    readonly path: string,
    readonly readonly: boolean,
  ) {}

  /**
   * Opens (and with `create`, creates) RUN/registry.sqlite. Read-only opening of a missing
   * registry → InputError naming the steps that create it.
   */
  static open(run: string, opts: { create?: boolean; readonly?: boolean } = {}): Registry {
    const path = registryPath(run);
    if (!existsSync(path)) {
      if (!opts.create) {
        const steps = (n: Naming) => `'${n.step('grid')}' or '${n.step('experiments')}'`;
        throw new InputError((n) => `${run} has no experiment registry (${REGISTRY_FILE}) yet: run ${steps(n)} first`, {
          field: 'run',
        });
      }
      if (!existsSync(run)) throw new UserError(`run directory ${run} does not exist`);
    }
    let db: Database.Database;
    try {
      db = new Database(path, { readonly: opts.readonly === true, fileMustExist: !opts.create });
    } catch (e) {
      throw new UserError(`cannot open the registry: ${(e as Error).message}`, path);
    }
    const reg = new Registry(db, path, opts.readonly === true);
    try {
      reg.init();
    } catch (e) {
      db.close();
      if (e instanceof UserError) throw e;
      const msg = (e as Error).message;
      if (/not a database|malformed|file is encrypted/i.test(msg))
        throw new UserError(`not a calitune registry (SQLite says: ${msg})`, path);
      throw e;
    }
    return reg;
  }

  private init(): void {
    const db = this.db;
    db.pragma('busy_timeout = 5000');
    const hasVersion =
      db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'`).get() !== undefined;
    if (hasVersion) {
      const v = db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number | null };
      const row = db.prepare('SELECT written_by FROM schema_version ORDER BY version DESC LIMIT 1').get() as
        | { written_by: string }
        | undefined;
      if (v.v !== null && v.v > REGISTRY_SCHEMA_VERSION) {
        throw new UserError(
          `the registry was written by a newer calitune (schema version ${v.v}${row ? `, ${row.written_by}` : ''}); this calitune reads version ${REGISTRY_SCHEMA_VERSION}: upgrade calitune or use another run directory`,
          this.path,
        );
      }
      if (v.v !== null && v.v < REGISTRY_SCHEMA_VERSION) {
        throw new UserError(
          `the registry has schema version ${v.v}, older than this calitune's ${REGISTRY_SCHEMA_VERSION}, and no migration exists`,
          this.path,
        );
      }
    } else {
      const tables = db.prepare(`SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table'`).get() as { n: number };
      if (tables.n > 0)
        throw new UserError(
          'an SQLite database without a calitune schema_version table: not a calitune registry',
          this.path,
        );
      if (this.readonly) throw new UserError('the registry is empty', this.path);
    }
    if (this.readonly) return;
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.exec(SCHEMA);
    if (!hasVersion)
      db.prepare('INSERT INTO schema_version (version, written_by, created) VALUES (?, ?, ?)').run(
        REGISTRY_SCHEMA_VERSION,
        'calitune 0.1.0',
        now(),
      );
  }

  close(): void {
    this.db.close();
  }

  get(name: string): PointRow | undefined {
    const r = this.db.prepare('SELECT * FROM points WHERE name = ?').get(name) as RawPoint | undefined;
    return r ? rowOf(r, this.frontEpochs().get(name)) : undefined;
  }

  list(): PointRow[] {
    const front = this.frontEpochs();
    return (this.db.prepare('SELECT * FROM points ORDER BY rowid').all() as RawPoint[]).map((r) =>
      rowOf(r, front.get(r.name)),
    );
  }

  /** Per point: its epochs flagged on the validation front by the last updateFrontier. */
  private frontEpochs(): Map<string, number[]> {
    const rows = this.db.prepare('SELECT name, epoch FROM epochs WHERE frontier = 1 ORDER BY name, epoch').all() as {
      name: string;
      epoch: number;
    }[];
    const out = new Map<string, number[]>();
    for (const r of rows) out.set(r.name, [...(out.get(r.name) ?? []), r.epoch]);
    return out;
  }

  /**
   * Registers a planned point. New → queued. Existing with another configuration → UserError.
   * Done → left as is ('skip'); running (interrupted), failed or queued → queued again ('resume').
   */
  plan(name: string, config: unknown, varied: unknown, source: string): 'new' | 'skip' | 'resume' {
    const cfg = JSON.stringify(config);
    const old = this.db.prepare('SELECT config, status FROM points WHERE name = ?').get(name) as
      | { config: string; status: PointStatus }
      | undefined;
    if (!old) {
      this.db
        .prepare(
          `INSERT INTO points (name, source, config, varied, status, queued_at) VALUES (?, ?, ?, ?, 'queued', ?)`,
        )
        .run(name, source, cfg, JSON.stringify(varied), now());
      return 'new';
    }
    if (old.config !== cfg) {
      const a = JSON.parse(old.config) as Record<string, unknown>,
        b = config as Record<string, unknown>;
      // A key that an older version did not have (e.g. candidates_per_group) held its default.
      const was = (k: string): unknown => (k in a ? a[k] : (DEFAULT_FINETUNE_CONFIG as Record<string, unknown>)[k]);
      const diff = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter(
        (k) => JSON.stringify(was(k)) !== JSON.stringify(b[k]),
      );
      if (diff.length === 0) {
        this.db.prepare('UPDATE points SET config = ? WHERE name = ?').run(cfg, name);
        return this.plan(name, config, varied, source);
      }
      throw new UserError(
        `point '${name}' is already in the registry with another configuration (${diff.map((k) => `${k}: ${JSON.stringify(was(k))} → ${JSON.stringify(b[k])}`).join(', ')}); use another run directory or name`,
      );
    }
    if (old.status === 'done') return 'skip';
    this.db
      .prepare(`UPDATE points SET status = 'queued', queued_at = ?, source = ? WHERE name = ?`)
      .run(now(), source, name);
    return 'resume';
  }

  markRunning(name: string): void {
    this.db
      .prepare(
        `UPDATE points SET status = 'running', started_at = ?, finished_at = NULL, error = NULL, attempts = attempts + 1 WHERE name = ?`,
      )
      .run(now(), name);
  }

  markFailed(name: string, error: string, seconds: number): void {
    this.db
      .prepare(`UPDATE points SET status = 'failed', finished_at = ?, seconds = ?, error = ? WHERE name = ?`)
      .run(now(), seconds, error, name);
  }

  /** Done: summary, per-epoch metrics and the CP curve in one transaction. */
  markDone(name: string, seconds: number, summary: PointSummary, epochs: Omit<EpochRow, 'name'>[], cp: CpRow[]): void {
    const tx = this.db.transaction(() => {
      this.db.prepare('DELETE FROM epochs WHERE name = ?').run(name);
      const ins = this.db.prepare(
        'INSERT INTO epochs (name, epoch, valid_ndcg, jsd, tradeoff, test_ndcg, test_jsd) VALUES (?, ?, ?, ?, ?, ?, ?)',
      );
      for (const e of epochs) ins.run(name, e.epoch, e.valid_ndcg, e.jsd, e.tradeoff, e.test_ndcg, e.test_jsd);
      const cpIns = this.db.prepare(
        'INSERT INTO cp (lambda, ndcg, jsd) VALUES (?, ?, ?) ON CONFLICT(lambda) DO UPDATE SET ndcg = excluded.ndcg, jsd = excluded.jsd',
      );
      for (const c of cp) cpIns.run(c.lambda, c.ndcg, c.jsd);
      this.db
        .prepare(
          `UPDATE points SET status = 'done', finished_at = ?, seconds = ?, error = NULL, summary = ? WHERE name = ?`,
        )
        .run(now(), seconds, JSON.stringify(summary), name);
    });
    tx();
  }

  epochs(name?: string): EpochRow[] {
    const q =
      name === undefined
        ? this.db
            .prepare(
              `SELECT e.* FROM epochs e JOIN points p ON p.name = e.name WHERE p.status = 'done' ORDER BY e.name, e.epoch`,
            )
            .all()
        : this.db.prepare('SELECT * FROM epochs WHERE name = ? ORDER BY epoch').all(name);
    return q as EpochRow[];
  }

  cp(): CpRow[] {
    return (this.db.prepare('SELECT lambda, ndcg, jsd FROM cp').all() as CpRow[]).sort(
      (a, b) => Number(a.lambda) - Number(b.lambda),
    );
  }

  /** Recomputes the frontier flags of points and epochs from the stored epochs. */
  updateFrontier(): FrontierPoint[] {
    const front = validationFront(this.epochs());
    const tx = this.db.transaction(() => {
      this.db.prepare('UPDATE points SET frontier = 0').run();
      this.db.prepare('UPDATE epochs SET frontier = 0').run();
      const up = this.db.prepare('UPDATE epochs SET frontier = 1 WHERE name = ? AND epoch = ?');
      const upP = this.db.prepare('UPDATE points SET frontier = 1 WHERE name = ?');
      for (const f of front) {
        up.run(f.name, f.epoch);
        upP.run(f.name);
      }
    });
    tx();
    return front;
  }
}

// ------------------------------------------------------------------ frontier

/** A candidate of the registry's Pareto front: one stored epoch. */
export type FrontierPoint = EpochRow;

/** The stored CP curve (λ "0" is the backbone) in the selection module's form. */
export function registryCurve(cp: readonly CpRow[]): CpCurve {
  return cpCurve(
    null,
    cp.map((c) => ({ lambda: Number(c.lambda), ndcg: c.ndcg, jsd: c.jsd })),
  );
}

/** The validation-selected front of every done point against the stored CP curve (src/selection). */
export function registryFrontier(reg: Registry): FrontierReport<EpochRow> {
  return frontierReport(reg.epochs(), registryCurve(reg.cp()));
}
