/**
 * The run registry: RUN/registry.sqlite, an embedded SQLite database (better-sqlite3,
 * WAL journal) with every grid / experiments point — name, configuration, status (queued /
 * running / done / failed), timings, error and summary metrics (the base model, the
 * validation-selected epoch per selection mode with its test metrics, per-epoch validation and
 * test metrics of every stored epoch, frontier flag) — plus the CP curve of the run.
 *
 * One writer: the process that runs the grid (its worker processes never open the database).
 * Readers (`calitune runs …`, the report) may open it at any time; WAL keeps them consistent.
 * A database written by a newer schema version is refused with a clear error; a damaged one
 * (a corrupted page found by any statement) with a message naming the file and what to do.
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
import {
  pointConfig,
  rowOf,
  type CpRow,
  type EpochRow,
  type PointRow,
  type PointStatus,
  type PointSummary,
  type RawPoint,
} from './registry-rows.js';
import { initRegistrySchema, REGISTRY_SCHEMA_VERSION } from './registry-schema.js';
import { corruptRegistryError, guardedDatabase, isCorruptionError } from './registry-guard.js';

export { REGISTRY_FILE, registryPath } from '../store/registry-files.js';
export { REGISTRY_SCHEMA_VERSION } from './registry-schema.js';
export {
  POINT_STATUSES,
  type CpRow,
  type EpochRow,
  type MetricPair,
  type PointRow,
  type PointStatus,
  type PointSummary,
  type SelectedSummary,
} from './registry-rows.js';

const now = () => new Date().toISOString();

/** The run's registry (SQLite): grid points, their status and metrics, the epochs and CP's points. */
export class Registry {
  private version = REGISTRY_SCHEMA_VERSION;

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
    const raw = db;
    db = guardedDatabase(raw, path);
    const reg = new Registry(db, path, opts.readonly === true);
    try {
      reg.version = initRegistrySchema(raw, path, opts.readonly === true);
    } catch (e) {
      db.close();
      if (e instanceof UserError) throw e;
      const msg = (e as Error).message;
      if (/not a database|file is encrypted/i.test(msg))
        throw new UserError(`not a calitune registry (SQLite says: ${msg})`, path);
      if (isCorruptionError(e)) throw corruptRegistryError(path, e as Error);
      throw e;
    }
    return reg;
  }

  /**
   * The schema version of the open database: the current one, except for an older registry
   * opened read-only (not migrated), whose newer tables are missing.
   */
  get schemaVersion(): number {
    return this.version;
  }

  close(): void {
    this.db.close();
  }

  get(name: string): PointRow | undefined {
    const r = this.db.prepare('SELECT * FROM points WHERE name = ?').get(name) as RawPoint | undefined;
    return r ? rowOf(r, this.frontEpochs().get(name), this) : undefined;
  }

  list(): PointRow[] {
    const front = this.frontEpochs();
    return (this.db.prepare('SELECT * FROM points ORDER BY rowid').all() as RawPoint[]).map((r) =>
      rowOf(r, front.get(r.name), this),
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
      const a = pointConfig(old.config, name, this),
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
      const changes = diff.map((k) => `${k}: ${JSON.stringify(was(k))} → ${JSON.stringify(b[k])}`).join(', ');
      throw new UserError(
        `point '${name}' is already in the registry with another configuration (${changes}); ` +
          'use another run directory or name',
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
        `UPDATE points SET status = 'running', started_at = ?, finished_at = NULL, error = NULL, ` +
          'attempts = attempts + 1 WHERE name = ?',
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
        'INSERT INTO cp (lambda, ndcg, jsd) VALUES (?, ?, ?) ' +
          'ON CONFLICT(lambda) DO UPDATE SET ndcg = excluded.ndcg, jsd = excluded.jsd',
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
              'SELECT e.* FROM epochs e JOIN points p ON p.name = e.name ' +
                `WHERE p.status = 'done' ORDER BY e.name, e.epoch`,
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
