/**
 * The tuning part of the run registry (schema version 2): a study is one `calitune tune` search
 * (its model and settings: space, seed, scheduler, epoch budget); its trials are the sampled
 * configurations with their status (queued, running, stopped at a rung, completed, failed), the
 * valid NDCG@10 at every epoch and at every rung, the best epoch and the seconds they took.
 * Written by the tuning process only (it holds the run's grid lock), read by `calitune runs`.
 */
import { UserError } from '../util/errors.js';
import type { Registry } from './registry.js';

/** The states of a trial: queued, running (interrupted unless a tune is running), and the three ends. */
export const TRIAL_STATUSES = ['queued', 'running', 'stopped', 'completed', 'failed'] as const;
/** One of {@link TRIAL_STATUSES}. */
export type TrialStatus = (typeof TRIAL_STATUSES)[number];

/** A trial's metric at a rung: the best valid NDCG@10 of its first `epochs` epochs (null: NaN). */
export interface TrialRung {
  epochs: number;
  metric: number | null;
}

/** How a trial ended: its rungs, its per-epoch valid NDCG@10 and its best epoch. */
export interface TrialOutcome {
  status: 'stopped' | 'completed';
  /** Epochs of the rung at which the scheduler stopped it (null when completed). */
  stoppedAt: number | null;
  rungs: TrialRung[];
  /** Valid NDCG@10 after each epoch (null: NaN). */
  curve: Array<number | null>;
  bestEpoch: number;
  bestValidNdcg: number | null;
  seconds: number;
}

/** A trial as the registry holds it. */
export interface TrialRow {
  id: string;
  study: string;
  /** 0-based position in the study's sampled sequence. */
  idx: number;
  config: Record<string, unknown>;
  status: TrialStatus;
  stopped_at: number | null;
  rungs: TrialRung[];
  curve: Array<number | null>;
  epochs_run: number | null;
  best_epoch: number | null;
  best_valid_ndcg: number | null;
  attempts: number;
  started_at: string | null;
  finished_at: string | null;
  seconds: number | null;
  error: string | null;
}

/** A study: its name, model and settings (JSON). */
export interface StudyRow {
  name: string;
  model: string;
  settings: Record<string, unknown>;
  created: string;
}

type RawTrial = Omit<TrialRow, 'config' | 'rungs' | 'curve'> & { config: string; rungs: string; curve: string };

const now = () => new Date().toISOString();

/** The trial id of position `idx` of `study`: study-t001, … (sorts in sampling order). */
export function trialId(study: string, idx: number): string {
  return `${study}-t${String(idx + 1).padStart(3, '0')}`;
}

function requireTuneTables(reg: Registry): void {
  if (reg.schemaVersion < 2) {
    throw new UserError(
      `the registry has schema version ${reg.schemaVersion} (no tuning trials); a tune on this run migrates it`,
      reg.path,
    );
  }
}

/** Whether the registry can hold trials (an older one opened read-only cannot, and has none). */
export function hasTrialTables(reg: Registry): boolean {
  return reg.schemaVersion >= 2;
}

/**
 * Registers study `name` with `settings`, or checks that the registered one has the same model
 * and settings: a study resumes only the search it started (UserError naming what differs).
 */
export function registerStudy(reg: Registry, name: string, model: string, settings: Record<string, unknown>): void {
  requireTuneTables(reg);
  const old = reg.db.prepare('SELECT model, settings FROM tune_studies WHERE name = ?').get(name) as
    | { model: string; settings: string }
    | undefined;
  const text = JSON.stringify(settings);
  if (!old) {
    reg.db
      .prepare('INSERT INTO tune_studies (name, model, settings, created) VALUES (?, ?, ?, ?)')
      .run(name, model, text, now());
    return;
  }
  if (old.model === model && old.settings === text) return;
  const was: Record<string, unknown> = { model: old.model, ...(JSON.parse(old.settings) as Record<string, unknown>) };
  const is: Record<string, unknown> = { model, ...settings };
  const diff = [...new Set([...Object.keys(was), ...Object.keys(is)])]
    .filter((k) => JSON.stringify(was[k]) !== JSON.stringify(is[k]))
    .map((k) => `${k}: ${JSON.stringify(was[k])} → ${JSON.stringify(is[k])}`);
  throw new UserError(
    `tuning study '${name}' is already in the registry with other settings (${diff.join('; ')}); ` +
      'give the study another name, or use another run directory',
  );
}

/**
 * Registers the study's trials in sampling order (new ones queued; a running one, left by a
 * killed tune, queued again). Returns every trial of the study at positions below `configs.length`.
 */
export function planTrials(reg: Registry, study: string, configs: readonly Record<string, unknown>[]): TrialRow[] {
  requireTuneTables(reg);
  const tx = reg.db.transaction(() => {
    const ins = reg.db.prepare(
      `INSERT INTO trials (id, study, idx, config, status) VALUES (?, ?, ?, ?, 'queued') ON CONFLICT(id) DO NOTHING`,
    );
    configs.forEach((c, idx) => {
      ins.run(trialId(study, idx), study, idx, JSON.stringify(c));
    });
    reg.db.prepare(`UPDATE trials SET status = 'queued' WHERE study = ? AND status = 'running'`).run(study);
  });
  tx();
  const rows = studyTrials(reg, study).filter((t) => t.idx < configs.length);
  for (const row of rows) {
    if (JSON.stringify(row.config) !== JSON.stringify(configs[row.idx])) {
      throw new UserError(`trial ${row.id} is in the registry with another configuration; use another study name`);
    }
  }
  return rows;
}

/** Marks a trial running (a new attempt). */
export function markTrialRunning(reg: Registry, id: string): void {
  reg.db
    .prepare(
      `UPDATE trials SET status = 'running', started_at = ?, finished_at = NULL, error = NULL, ` +
        'attempts = attempts + 1 WHERE id = ?',
    )
    .run(now(), id);
}

/** Records how a trial ended (stopped at a rung, or completed) with its curve and rungs. */
export function markTrialEnded(reg: Registry, id: string, o: TrialOutcome): void {
  reg.db
    .prepare(
      'UPDATE trials SET status = ?, stopped_at = ?, rungs = ?, curve = ?, epochs_run = ?, best_epoch = ?, ' +
        'best_valid_ndcg = ?, finished_at = ?, seconds = ?, error = NULL WHERE id = ?',
    )
    .run(
      o.status,
      o.stoppedAt,
      JSON.stringify(o.rungs),
      JSON.stringify(o.curve),
      o.curve.length,
      o.bestEpoch,
      o.bestValidNdcg,
      now(),
      o.seconds,
      id,
    );
}

/** What a failed trial leaves: its error, seconds, and the rungs and epochs it got through. */
export interface TrialFailure {
  error: string;
  seconds: number;
  rungs: TrialRung[];
  curve: Array<number | null>;
}

/** Records a failed trial; its rungs so far are kept (they took part in other trials' decisions). */
export function markTrialFailed(reg: Registry, id: string, f: TrialFailure): void {
  reg.db
    .prepare(
      `UPDATE trials SET status = 'failed', error = ?, seconds = ?, rungs = ?, curve = ?, epochs_run = ?, ` +
        'finished_at = ? WHERE id = ?',
    )
    .run(f.error, f.seconds, JSON.stringify(f.rungs), JSON.stringify(f.curve), f.curve.length, now(), id);
}

function rowOf(r: RawTrial): TrialRow {
  return {
    ...r,
    config: JSON.parse(r.config) as Record<string, unknown>,
    rungs: JSON.parse(r.rungs) as TrialRung[],
    curve: JSON.parse(r.curve) as Array<number | null>,
  };
}

/** The trials of `study` in sampling order. */
export function studyTrials(reg: Registry, study: string): TrialRow[] {
  if (!hasTrialTables(reg)) return [];
  const rows = reg.db.prepare('SELECT * FROM trials WHERE study = ? ORDER BY idx').all(study) as RawTrial[];
  return rows.map(rowOf);
}

/** Every trial of the registry, by study then sampling order. */
export function allTrials(reg: Registry): TrialRow[] {
  if (!hasTrialTables(reg)) return [];
  return (reg.db.prepare('SELECT * FROM trials ORDER BY study, idx').all() as RawTrial[]).map(rowOf);
}

/** One trial by id, or undefined. */
export function trialById(reg: Registry, id: string): TrialRow | undefined {
  if (!hasTrialTables(reg)) return undefined;
  const r = reg.db.prepare('SELECT * FROM trials WHERE id = ?').get(id) as RawTrial | undefined;
  return r ? rowOf(r) : undefined;
}

/** Every study of the registry, oldest first. */
export function allStudies(reg: Registry): StudyRow[] {
  if (!hasTrialTables(reg)) return [];
  const rows = reg.db.prepare('SELECT * FROM tune_studies ORDER BY created, name').all() as Array<
    Omit<StudyRow, 'settings'> & { settings: string }
  >;
  return rows.map((r) => ({ ...r, settings: JSON.parse(r.settings) as Record<string, unknown> }));
}
