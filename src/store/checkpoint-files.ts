/**
 * RUN/experiments/NAME/checkpoints: what the fine-tuner stores at each improvement.
 *   epoch_N/weights.safetensors   trainable tensors only (names as the model's parameters)
 *   epoch_N/valid_lists.npy       int32 nUsers × k (row 0 = padding user)
 *   epoch_N/test_lists.npy        int32 nUsers × k
 *   epoch_N/metrics.json          the epoch's validation metrics and the tensors' names and shapes
 *   checkpoints.json              index: { keep, checkpoints: [{ epoch, validNdcg, jsd, tradeoff, dir, weights }] }
 * A folder is complete once the index names it (the index is written last). All writes are atomic.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { encodeSafetensors, type SafeTensor } from '../models/safetensors.js';
import { encodeNpy } from '../data/npy.js';
import { finiteOrNull, wholeNumber } from '../util/json-schema.js';
import type {
  CheckpointRecord,
  EpochLists,
  EpochMetrics,
  KeepPolicy,
  NamedTensor,
} from '../calibration/checkpoints.js';
import { readJsonArtefact } from './json-files.js';
import { performWrite, type BackgroundWrite } from './background-writes.js';

/** A JSON file's bytes as writeJsonAtomic writes them (two-space indent, final newline). */
function jsonBytes(value: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(value, null, 2) + '\n', 'utf8');
}

/** The checkpoint index in an experiment's checkpoints folder. */
export const CHECKPOINT_INDEX_FILE = 'checkpoints.json';
/** An epoch folder's trainable tensors. */
export const CHECKPOINT_WEIGHTS_FILE = 'weights.safetensors';
/** An epoch folder's validation metrics and tensor shapes. */
export const CHECKPOINT_METRICS_FILE = 'metrics.json';

/** Which lists of a checkpoint: valid-time or test-time. */
export type ListSplit = 'valid' | 'test';

/** Folder name of an epoch's checkpoint, relative to the checkpoints folder. */
export function checkpointFolderName(epoch: number): string {
  return `epoch_${epoch}`;
}

/** Path of the index of the checkpoints folder `dir`. */
export function checkpointIndexPath(dir: string): string {
  return join(dir, CHECKPOINT_INDEX_FILE);
}

/** `rel` = a record's `dir`. */
export function checkpointWeightsPath(dir: string, rel: string): string {
  return join(dir, rel, CHECKPOINT_WEIGHTS_FILE);
}

/** Path of one split's lists in the checkpoint folder `rel` (a record's `dir`). */
export function checkpointListsPath(dir: string, rel: string, split: ListSplit): string {
  return join(dir, rel, `${split}_lists.npy`);
}

/** The checkpoint index: the keep policy and one record per stored epoch. */
export interface CheckpointIndex {
  keep?: string;
  checkpoints: CheckpointRecord[];
}

/** One record of checkpoints.json. */
const checkpointRecordSchema = z.object({
  epoch: wholeNumber,
  dir: z.string().regex(/^epoch_\d+$/, 'a folder name epoch_N'),
  weights: z.boolean(),
  validNdcg: finiteOrNull,
  jsd: finiteOrNull,
  tradeoff: finiteOrNull,
});

/** checkpoints.json: the keep policy and the records (a missing list is an empty one). */
const checkpointIndexSchema = z.object({
  keep: z.unknown().optional(),
  checkpoints: z.array(checkpointRecordSchema).optional(),
});

/** The index of a checkpoints folder, or undefined when there is none. */
export function readCheckpointIndex(dir: string): CheckpointIndex | undefined {
  const path = checkpointIndexPath(dir);
  if (!existsSync(path)) return undefined;
  const v = readJsonArtefact(path, checkpointIndexSchema);
  const recs = (v.checkpoints ?? []) as CheckpointRecord[];
  const keep = v.keep;
  return { ...(typeof keep === 'string' ? { keep } : {}), checkpoints: recs };
}

/** The write of the checkpoint index (atomic; written last, so it only names complete folders). */
export function checkpointIndexWrite(
  dir: string,
  keep: KeepPolicy,
  records: readonly CheckpointRecord[],
): BackgroundWrite {
  return { kind: 'replace', path: checkpointIndexPath(dir), bytes: jsonBytes({ keep, checkpoints: records }) };
}

/** Writes the checkpoint index, atomically; it is written last, so it only names complete folders. */
export function writeCheckpointIndex(dir: string, keep: KeepPolicy, records: readonly CheckpointRecord[]): void {
  performWrite(checkpointIndexWrite(dir, keep, records));
}

/**
 * The writes of an epoch's folder (weights, lists, metrics, each atomic, in that order) with
 * its name relative to `dir`; the bytes are taken now.
 */
export function checkpointFolderWrites(
  dir: string,
  epoch: number,
  tensors: readonly NamedTensor[],
  metrics: EpochMetrics,
  lists: EpochLists,
): { rel: string; writes: BackgroundWrite[] } {
  const rel = checkpointFolderName(epoch);
  const d = join(dir, rel);
  const map = new Map<string, SafeTensor>();
  for (const t of tensors) map.set(t.name, { dtype: 'F32', shape: [...t.shape], data: t.data });
  const writes: BackgroundWrite[] = [
    {
      kind: 'replace',
      path: join(d, CHECKPOINT_WEIGHTS_FILE),
      bytes: encodeSafetensors(map, { epoch: String(epoch), format: 'calitune-checkpoint' }),
    },
  ];
  for (const split of ['valid', 'test'] as const) {
    const l = lists[split];
    if (l) {
      const bytes = encodeNpy('<i4', [l.length / lists.k, lists.k], l);
      writes.push({ kind: 'replace', path: checkpointListsPath(dir, rel, split), bytes });
    }
  }
  const meta = { ...metrics, tensors: tensors.map((t) => ({ name: t.name, shape: t.shape })) };
  writes.push({ kind: 'replace', path: join(d, CHECKPOINT_METRICS_FILE), bytes: jsonBytes(meta) });
  return { rel, writes };
}

/** Writes an epoch's folder (weights, lists, metrics); returns its name relative to `dir`. */
export function writeCheckpointFolder(
  dir: string,
  epoch: number,
  tensors: readonly NamedTensor[],
  metrics: EpochMetrics,
  lists: EpochLists,
): string {
  const { rel, writes } = checkpointFolderWrites(dir, epoch, tensors, metrics, lists);
  for (const w of writes) performWrite(w);
  return rel;
}

/** Epoch folders present in a checkpoints folder (complete or not), ascending. */
export function checkpointFolderEpochs(dir: string): number[] {
  if (!existsSync(dir)) return [];
  const out: number[] = [];
  for (const f of readdirSync(dir)) {
    const m = /^epoch_(\d+)$/.exec(f);
    if (m) out.push(Number(m[1]));
  }
  return out.sort((a, b) => a - b);
}
