/**
 * The fine-tuning epoch log, RUN/experiments/NAME/log.jsonl: one JSON line per epoch (epoch 0 =
 * before fine-tuning), appended as each epoch ends. The one reader and the one writer of it.
 *
 * A line holds the fine-tuner's EpochLogRecord, its `jsd` written as `test_list_jsd`: the JSD@k
 * of the test-time lists, which uses no test labels (docs/numeric-contract.md §10) — the name
 * says which JSD it is. Logs written before the rename hold `jsd`; both are read. The reader
 * checks what every consumer relies on — `epoch` a whole number ≥ 0, `valid_ndcg` and the JSD
 * numbers (null for a NaN, as JSON.stringify writes it), `tradeoff` a number or null — and
 * names file and line otherwise.
 */
import { z } from 'zod';
import { writeFileAtomic } from '../util/atomic.js';
import { finiteOrNull, schemaProblem, wholeNumber } from '../util/json-schema.js';
import type { EpochLogRecord } from '../calibration/finetuner.js';
import { isJsonObject, readJsonLines } from './json-files.js';
import { appendSynced } from './background-writes.js';

/** The on-disk name of the record's `jsd`. */
const DISK_JSD = 'test_list_jsd';

/** A copy of `o` with key `from` renamed to `to`, in the same position. */
function renamed(o: object, from: string, to: string): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k === from ? to : k, v]));
}

/** One log line as written. */
function lineOf(record: EpochLogRecord): string {
  return JSON.stringify(renamed(record, 'jsd', DISK_JSD)) + '\n';
}

/** A line's fields every consumer relies on; the JSD under its on-disk name or the older `jsd`. */
const lineBase = z
  .object({ epoch: wholeNumber, valid_ndcg: finiteOrNull, tradeoff: finiteOrNull.optional() })
  .passthrough();
const lineSchemas = {
  [DISK_JSD]: lineBase.extend({ [DISK_JSD]: finiteOrNull }),
  jsd: lineBase.extend({ jsd: finiteOrNull }),
};

/** What is wrong with one parsed line (`field …: expected …, got …`), or undefined. */
export function epochLogLineProblem(v: unknown): string | undefined {
  const schema = isJsonObject(v) && DISK_JSD in v ? lineSchemas[DISK_JSD] : lineSchemas.jsd;
  return schemaProblem(schema, v);
}

/**
 * The records with epoch ≤ `maxEpoch`, in file order. A missing file has none; an interrupted
 * last append is dropped; a malformed line is a UserError naming file and line.
 */
export function readEpochLog(path: string, maxEpoch = Infinity): EpochLogRecord[] {
  return readJsonLines<Record<string, unknown>>(path, epochLogLineProblem)
    .map((l) => (DISK_JSD in l.record ? renamed(l.record, DISK_JSD, 'jsd') : l.record) as unknown as EpochLogRecord)
    .filter((r) => r.epoch <= maxEpoch);
}

/** Replaces the log with `records` (atomically). */
export function writeEpochLog(path: string, records: readonly EpochLogRecord[]): void {
  writeFileAtomic(path, records.map(lineOf).join(''));
}

/** One record as the bytes of its log line. */
export function epochLogLineBytes(record: EpochLogRecord): Uint8Array {
  return Buffer.from(lineOf(record), 'utf8');
}

/** Appends one record and syncs it to disk (a crash leaves at most a torn last line). */
export function appendEpochLog(path: string, record: EpochLogRecord): void {
  appendSynced(path, epochLogLineBytes(record));
}
