/**
 * The rows of the run registry (registry.ts): what it keeps of every grid / experiments point,
 * its stored epochs and the run's CP curve, and how a stored points row becomes a PointRow.
 */

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

/** A points row as SQLite returns it: JSON columns still text, the frontier flag 0 or 1. */
export interface RawPoint {
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

function parseJson<T>(s: string | null): T | null {
  if (s === null || s === undefined) return null;
  try {
    return JSON.parse(s) as T;
  } catch {
    return null;
  }
}

/** A stored points row as a PointRow, with its epochs on the validation front. */
export function rowOf(r: RawPoint, frontEpochs: readonly number[] = []): PointRow {
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
