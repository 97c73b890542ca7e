/**
 * The rows of the run registry (registry.ts): what it keeps of every grid / experiments point,
 * its stored epochs and the run's CP curve, and how a stored points row becomes a PointRow
 * (its JSON columns checked against their schemas).
 */
import { z } from 'zod';
import { InputError } from '../util/errors.js';
import { finiteOrNull, schemaProblem, wholeNumber } from '../util/json-schema.js';

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

/** The metrics of a list set: each a finite number, or null (a NaN). */
const metricsSchema = z.record(finiteOrNull);

/** The summary column of a done point, as the registry's readers use it (other keys are kept). */
const pointSummarySchema = z
  .object({
    epochs_run: wholeNumber.nullable(),
    stop_reason: z.string().nullable(),
    base: metricsSchema.nullable(),
    selected: z.record(
      z
        .object({
          epoch: wholeNumber,
          valid: z.object({ valid_ndcg: finiteOrNull, jsd: finiteOrNull, tradeoff: finiteOrNull }).passthrough(),
          test: metricsSchema.optional(),
        })
        .passthrough()
        .nullable(),
    ),
    results: z.string(),
  })
  .passthrough();

/** Where a row was read from, for messages: the registry file. */
export interface RowSource {
  path: string;
}

/** A JSON column of point `name`, parsed and checked (InputError naming the registry, point and field otherwise). */
function parseColumn(
  text: string | null,
  schema: z.ZodTypeAny,
  name: string,
  column: string,
  src?: RowSource,
): unknown {
  if (text === null || text === undefined) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw damagedRow(name, `${column} is not valid JSON (${(e as Error).message})`, src);
  }
  const problem = schemaProblem(schema, value);
  if (problem !== undefined) throw damagedRow(name, `${column} ${problem}`, src);
  return value;
}

function damagedRow(name: string, what: string, src?: RowSource): InputError {
  return new InputError(
    (n) =>
      `point '${name}': ${what}; restore a copy of the registry, ` +
      `or move it aside and run '${n.step('grid')}' again (its points are fine-tuned again)`,
    src ? { file: src.path } : {},
  );
}

const objectColumn = z.record(z.unknown());

/** The config column of point `name`, parsed and checked to be an object. */
export function pointConfig(text: string, name: string, src?: RowSource): Record<string, unknown> {
  return (parseColumn(text, objectColumn, name, 'config', src) as Record<string, unknown> | null) ?? {};
}

/** A stored points row as a PointRow, with its epochs on the validation front; JSON columns are checked. */
export function rowOf(r: RawPoint, frontEpochs: readonly number[] = [], src?: RowSource): PointRow {
  return {
    name: r.name,
    source: r.source,
    config: pointConfig(r.config, r.name, src),
    varied: (parseColumn(r.varied, objectColumn, r.name, 'varied', src) as Record<string, unknown> | null) ?? {},
    status: r.status,
    attempts: r.attempts,
    queued_at: r.queued_at,
    started_at: r.started_at,
    finished_at: r.finished_at,
    seconds: r.seconds,
    error: r.error,
    summary: parseColumn(r.summary, pointSummarySchema, r.name, 'summary', src) as PointSummary | null,
    frontier: r.frontier === 1,
    frontEpochs: [...frontEpochs],
  };
}
