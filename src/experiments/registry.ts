/**
 * The run registry (issue 6): RUN/registry.sqlite, an embedded SQLite database (better-sqlite3,
 * WAL journal) with every grid / experiments point — name, configuration, status (queued /
 * running / done / failed), timings, error and summary metrics (the base model, the
 * validation-selected epoch per selection mode with its test metrics, per-epoch validation and
 * test metrics of every stored epoch, frontier flag) — plus the CP curve of the run.
 *
 * One writer: the process that runs the grid (its worker processes never open the database).
 * Readers (`calitune runs …`, the report) may open it at any time; WAL keeps them consistent.
 * A database written by a newer schema version is refused with a clear error.
 *
 * Frontier (`frontierTable`): the validation-selected Pareto front — every stored epoch of
 * every done point is a candidate; an epoch is on the front when no other candidate has a
 * higher valid NDCG@10 and a lower-or-equal JSD@10 (or equal NDCG and lower JSD). JSD@10 here
 * is that of the test-time lists, the fine-tuner's selection JSD. The front is reported with
 * its TEST NDCG@10 / JSD@10 and compared with CP's test curve: CP's NDCG at the same JSD is
 * interpolated linearly along its λ curve (base model = λ 0, then λ 0.1 … 0.9 by JSD).
 */
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { UserError } from '../util/errors.js';
import { DEFAULT_FINETUNE_CONFIG } from './finetune-config.js';
import { REGISTRY_FILE, registryPath } from '../store/registry-files.js';

export { REGISTRY_FILE, registryPath } from '../store/registry-files.js';

export const REGISTRY_SCHEMA_VERSION = 1;
export const POINT_STATUSES = ['queued', 'running', 'done', 'failed'] as const;
export type PointStatus = (typeof POINT_STATUSES)[number];

export interface MetricPair { ndcg: number; jsd: number }

export interface SelectedSummary {
  epoch: number;
  valid: { valid_ndcg: number; jsd: number; tradeoff: number | null };
  test: MetricPair & Record<string, number>;
}

export interface PointSummary {
  epochs_run: number | null;
  stop_reason: string | null;
  base: (MetricPair & Record<string, number>) | null;
  selected: Record<string, SelectedSummary | null>;
  results: string;
}

export interface EpochRow { name: string; epoch: number; valid_ndcg: number; jsd: number; tradeoff: number | null; test_ndcg: number; test_jsd: number }

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
  frontier: boolean;
}

export interface CpRow { lambda: string; ndcg: number; jsd: number }

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
  try { return JSON.parse(s) as T; } catch { return null; }
}

interface RawPoint {
  name: string; source: string; config: string; varied: string; status: PointStatus; attempts: number;
  queued_at: string | null; started_at: string | null; finished_at: string | null; seconds: number | null;
  error: string | null; summary: string | null; frontier: number;
}

function rowOf(r: RawPoint): PointRow {
  return {
    name: r.name, source: r.source, config: parseJson(r.config) ?? {}, varied: parseJson(r.varied) ?? {}, status: r.status,
    attempts: r.attempts, queued_at: r.queued_at, started_at: r.started_at, finished_at: r.finished_at, seconds: r.seconds,
    error: r.error, summary: parseJson<PointSummary>(r.summary), frontier: r.frontier === 1,
  };
}

export class Registry {
  private constructor(readonly db: Database.Database, readonly path: string, readonly readonly: boolean) {}

  /**
   * Opens (and with `create`, creates) RUN/registry.sqlite. Read-only opening of a missing
   * registry → UserError naming the commands that create it.
   */
  static open(run: string, opts: { create?: boolean; readonly?: boolean } = {}): Registry {
    const path = registryPath(run);
    if (!existsSync(path)) {
      if (!opts.create) throw new UserError(`${run} has no experiment registry (${REGISTRY_FILE}) yet: run 'calitune grid' or 'calitune experiments' first`);
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
      if (/not a database|malformed|file is encrypted/i.test(msg)) throw new UserError(`not a calitune registry (SQLite says: ${msg})`, path);
      throw e;
    }
    return reg;
  }

  private init(): void {
    const db = this.db;
    db.pragma('busy_timeout = 5000');
    const hasVersion = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'`).get() !== undefined;
    if (hasVersion) {
      const v = db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number | null };
      const row = db.prepare('SELECT written_by FROM schema_version ORDER BY version DESC LIMIT 1').get() as { written_by: string } | undefined;
      if (v.v !== null && v.v > REGISTRY_SCHEMA_VERSION) {
        throw new UserError(`the registry was written by a newer calitune (schema version ${v.v}${row ? `, ${row.written_by}` : ''}); this calitune reads version ${REGISTRY_SCHEMA_VERSION}: upgrade calitune or use another run directory`, this.path);
      }
      if (v.v !== null && v.v < REGISTRY_SCHEMA_VERSION) {
        throw new UserError(`the registry has schema version ${v.v}, older than this calitune's ${REGISTRY_SCHEMA_VERSION}, and no migration exists`, this.path);
      }
    } else {
      const tables = db.prepare(`SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table'`).get() as { n: number };
      if (tables.n > 0) throw new UserError('an SQLite database without a calitune schema_version table: not a calitune registry', this.path);
      if (this.readonly) throw new UserError('the registry is empty', this.path);
    }
    if (this.readonly) return;
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.exec(SCHEMA);
    if (!hasVersion) db.prepare('INSERT INTO schema_version (version, written_by, created) VALUES (?, ?, ?)').run(REGISTRY_SCHEMA_VERSION, 'calitune 0.1.0', now());
  }

  close(): void {
    this.db.close();
  }

  get(name: string): PointRow | undefined {
    const r = this.db.prepare('SELECT * FROM points WHERE name = ?').get(name) as RawPoint | undefined;
    return r ? rowOf(r) : undefined;
  }

  list(): PointRow[] {
    return (this.db.prepare('SELECT * FROM points ORDER BY rowid').all() as RawPoint[]).map(rowOf);
  }

  /**
   * Registers a planned point. New → queued. Existing with another configuration → UserError.
   * Done → left as is ('skip'); running (interrupted), failed or queued → queued again ('resume').
   */
  plan(name: string, config: unknown, varied: unknown, source: string): 'new' | 'skip' | 'resume' {
    const cfg = JSON.stringify(config);
    const old = this.db.prepare('SELECT config, status FROM points WHERE name = ?').get(name) as { config: string; status: PointStatus } | undefined;
    if (!old) {
      this.db.prepare(`INSERT INTO points (name, source, config, varied, status, queued_at) VALUES (?, ?, ?, ?, 'queued', ?)`)
        .run(name, source, cfg, JSON.stringify(varied), now());
      return 'new';
    }
    if (old.config !== cfg) {
      const a = JSON.parse(old.config) as Record<string, unknown>, b = config as Record<string, unknown>;
      // A key that an older version did not have (e.g. candidates_per_group) held its default.
      const was = (k: string): unknown => (k in a ? a[k] : (DEFAULT_FINETUNE_CONFIG as Record<string, unknown>)[k]);
      const diff = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => JSON.stringify(was(k)) !== JSON.stringify(b[k]));
      if (diff.length === 0) {
        this.db.prepare('UPDATE points SET config = ? WHERE name = ?').run(cfg, name);
        return this.plan(name, config, varied, source);
      }
      throw new UserError(`point '${name}' is already in the registry with another configuration (${diff.map((k) => `${k}: ${JSON.stringify(was(k))} → ${JSON.stringify(b[k])}`).join(', ')}); use another run directory or name`);
    }
    if (old.status === 'done') return 'skip';
    this.db.prepare(`UPDATE points SET status = 'queued', queued_at = ?, source = ? WHERE name = ?`).run(now(), source, name);
    return 'resume';
  }

  markRunning(name: string): void {
    this.db.prepare(`UPDATE points SET status = 'running', started_at = ?, finished_at = NULL, error = NULL, attempts = attempts + 1 WHERE name = ?`).run(now(), name);
  }

  markFailed(name: string, error: string, seconds: number): void {
    this.db.prepare(`UPDATE points SET status = 'failed', finished_at = ?, seconds = ?, error = ? WHERE name = ?`).run(now(), seconds, error, name);
  }

  /** Done: summary, per-epoch metrics and the CP curve in one transaction. */
  markDone(name: string, seconds: number, summary: PointSummary, epochs: Omit<EpochRow, 'name'>[], cp: CpRow[]): void {
    const tx = this.db.transaction(() => {
      this.db.prepare('DELETE FROM epochs WHERE name = ?').run(name);
      const ins = this.db.prepare('INSERT INTO epochs (name, epoch, valid_ndcg, jsd, tradeoff, test_ndcg, test_jsd) VALUES (?, ?, ?, ?, ?, ?, ?)');
      for (const e of epochs) ins.run(name, e.epoch, e.valid_ndcg, e.jsd, e.tradeoff, e.test_ndcg, e.test_jsd);
      const cpIns = this.db.prepare('INSERT INTO cp (lambda, ndcg, jsd) VALUES (?, ?, ?) ON CONFLICT(lambda) DO UPDATE SET ndcg = excluded.ndcg, jsd = excluded.jsd');
      for (const c of cp) cpIns.run(c.lambda, c.ndcg, c.jsd);
      this.db.prepare(`UPDATE points SET status = 'done', finished_at = ?, seconds = ?, error = NULL, summary = ? WHERE name = ?`)
        .run(now(), seconds, JSON.stringify(summary), name);
    });
    tx();
  }

  epochs(name?: string): EpochRow[] {
    const q = name === undefined
      ? this.db.prepare(`SELECT e.* FROM epochs e JOIN points p ON p.name = e.name WHERE p.status = 'done' ORDER BY e.name, e.epoch`).all()
      : this.db.prepare('SELECT * FROM epochs WHERE name = ? ORDER BY epoch').all(name);
    return q as EpochRow[];
  }

  cp(): CpRow[] {
    return (this.db.prepare('SELECT lambda, ndcg, jsd FROM cp').all() as CpRow[]).sort((a, b) => Number(a.lambda) - Number(b.lambda));
  }

  /** Recomputes the frontier flags of points and epochs from the stored epochs. */
  updateFrontier(): FrontierPoint[] {
    const front = validationFront(this.epochs());
    const tx = this.db.transaction(() => {
      this.db.prepare('UPDATE points SET frontier = 0').run();
      this.db.prepare('UPDATE epochs SET frontier = 0').run();
      const up = this.db.prepare('UPDATE epochs SET frontier = 1 WHERE name = ? AND epoch = ?');
      const upP = this.db.prepare('UPDATE points SET frontier = 1 WHERE name = ?');
      for (const f of front) { up.run(f.name, f.epoch); upP.run(f.name); }
    });
    tx();
    return front;
  }
}

// ------------------------------------------------------------------ frontier

export type FrontierPoint = EpochRow;

/**
 * Pareto front on validation: maximise valid NDCG, minimise JSD. Sorted by JSD ascending.
 * Exact duplicates (same valid NDCG and JSD) keep the first by (name, epoch).
 */
export function validationFront(rows: readonly EpochRow[]): FrontierPoint[] {
  const ok = rows.filter((r) => Number.isFinite(r.valid_ndcg) && Number.isFinite(r.jsd));
  // sort by JSD ascending, then NDCG descending; sweep keeping strictly increasing NDCG
  const sorted = [...ok].sort((a, b) => a.jsd - b.jsd || b.valid_ndcg - a.valid_ndcg || a.name.localeCompare(b.name) || a.epoch - b.epoch);
  const out: FrontierPoint[] = [];
  let best = -Infinity;
  for (const r of sorted) {
    if (r.valid_ndcg > best) { out.push(r); best = r.valid_ndcg; }
  }
  return out;
}

/**
 * CP's test NDCG at a given JSD: linear interpolation along the CP curve sorted by JSD
 * (the base model is λ = 0). Above the base model's JSD the base NDCG is used (CP cannot do
 * worse than not re-ranking); below the lowest CP JSD → null (no comparison).
 */
export function cpNdcgAt(curve: readonly CpRow[], jsd: number): number | null {
  const c = [...curve].filter((p) => Number.isFinite(p.jsd) && Number.isFinite(p.ndcg)).sort((a, b) => a.jsd - b.jsd);
  if (c.length === 0) return null;
  if (jsd < c[0]!.jsd) return null;
  const last = c[c.length - 1]!;
  if (jsd >= last.jsd) return last.ndcg;
  for (let i = 1; i < c.length; i++) {
    const a = c[i - 1]!, b = c[i]!;
    if (jsd <= b.jsd) {
      if (b.jsd === a.jsd) return Math.max(a.ndcg, b.ndcg);
      const t = (jsd - a.jsd) / (b.jsd - a.jsd);
      return a.ndcg + t * (b.ndcg - a.ndcg);
    }
  }
  return last.ndcg;
}

export interface FrontierRow extends FrontierPoint { cp_ndcg: number | null; delta: number | null }

/** Δ NDCG within ± this counts as even for the headline (float noise near the base model). */
export const AHEAD_TOLERANCE = 5e-4;

export interface FrontierSegment {
  /** Whether CaliTune's front is ahead of CP (Δ NDCG > 0) over this JSD range. */
  ahead: boolean;
  fromJsd: number;
  toJsd: number;
  points: number;
  meanDelta: number;
  /** Largest |Δ| in the segment, signed. */
  maxDelta: number;
}

export interface FrontierReport {
  rows: FrontierRow[];
  cp: CpRow[];
  /** Runs of consecutive front points (by test JSD) with the same sign of Δ, lowest JSD first. */
  segments: FrontierSegment[];
  /** Estimated JSDs where the sign changes (Δ interpolated linearly between neighbours). */
  crossings: number[];
  /**
   * The headline: the lowest JSD X such that at every front point with JSD ≥ X CaliTune is
   * ahead of CP or within AHEAD_TOLERANCE of it (null: nowhere clearly ahead).
   */
  aheadFromJsd: number | null;
  /** Mean and largest Δ NDCG over the front points with JSD ≥ aheadFromJsd; how many are strictly ahead. */
  meanGainAhead: number | null;
  maxGainAhead: number | null;
  aheadPoints: number;
  rangePoints: number;
  /** Front points with lower test JSD than the lowest CP point (no comparison). */
  beyondCp: number;
}

export function frontierTable(epochs: readonly EpochRow[], cp: readonly CpRow[]): FrontierReport {
  const front = validationFront(epochs);
  const rows: FrontierRow[] = front.map((f) => {
    const c = cpNdcgAt(cp, f.test_jsd);
    return { ...f, cp_ndcg: c, delta: c === null ? null : f.test_ndcg - c };
  });
  const comparable = rows.filter((r) => r.delta !== null).sort((a, b) => a.test_jsd - b.test_jsd);
  const segments: FrontierSegment[] = [];
  const crossings: number[] = [];
  for (let i = 0; i < comparable.length; i++) {
    const r = comparable[i]!;
    const ahead = r.delta! > 0;
    const last = segments[segments.length - 1];
    if (last && last.ahead === ahead) {
      last.meanDelta = (last.meanDelta * last.points + r.delta!) / (last.points + 1);
      last.points++;
      last.toJsd = r.test_jsd;
      if (Math.abs(r.delta!) > Math.abs(last.maxDelta)) last.maxDelta = r.delta!;
    } else {
      if (last) {
        const a = comparable[i - 1]!;
        const t = a.delta! / (a.delta! - r.delta!);
        crossings.push(a.test_jsd + (Number.isFinite(t) ? t : 0.5) * (r.test_jsd - a.test_jsd));
      }
      segments.push({ ahead, fromJsd: r.test_jsd, toJsd: r.test_jsd, points: 1, meanDelta: r.delta!, maxDelta: r.delta! });
    }
  }
  // Headline: walk down from the highest JSD while CaliTune is ahead or even.
  const desc = [...comparable].reverse();
  let n = 0;
  while (n < desc.length && desc[n]!.delta! > -AHEAD_TOLERANCE) n++;
  const range = desc.slice(0, n);
  const clearly = range.some((r) => r.delta! > AHEAD_TOLERANCE);
  const ds = range.map((r) => r.delta!);
  return {
    rows, cp: [...cp].sort((a, b) => a.jsd - b.jsd), segments, crossings,
    aheadFromJsd: clearly ? range[range.length - 1]!.test_jsd : null,
    meanGainAhead: clearly ? ds.reduce((a, b) => a + b, 0) / ds.length : null,
    maxGainAhead: clearly ? Math.max(...ds) : null,
    aheadPoints: clearly ? ds.filter((d) => d > 0).length : 0,
    rangePoints: clearly ? ds.length : 0,
    beyondCp: rows.filter((r) => r.delta === null).length,
  };
}
