/**
 * RUN/experiments/NAME/checkpoints: what the fine-tuner stores at each improvement.
 *   epoch_N/weights.safetensors   trainable tensors only (names as the model's parameters)
 *   epoch_N/valid_lists.npy       int32 nUsers × k (row 0 = padding user)
 *   epoch_N/test_lists.npy        int32 nUsers × k
 *   epoch_N/metrics.json          the epoch's validation metrics and the tensors' names and shapes
 *   checkpoints.json              index: { keep, checkpoints: [{ epoch, validNdcg, jsd, tradeoff, dir, weights }] }
 * A folder is complete once the index names it (the index is written last). All writes are atomic.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeSafetensors, type SafeTensor } from '../models/safetensors.js';
import { writeNpy } from '../data/npy.js';
import { writeJsonAtomic } from '../util/atomic.js';
import { finiteOrNull, wholeNumber } from '../util/json-schema.js';
import type {
  CheckpointRecord,
  EpochLists,
  EpochMetrics,
  KeepPolicy,
  NamedTensor,
} from '../calibration/checkpoints.js';
import { readJsonArtefact } from './json-files.js';

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

/** Writes the checkpoint index, atomically; it is written last, so it only names complete folders. */
export function writeCheckpointIndex(dir: string, keep: KeepPolicy, records: readonly CheckpointRecord[]): void {
  writeJsonAtomic(checkpointIndexPath(dir), { keep, checkpoints: records });
}

/** Writes an epoch's folder (weights, lists, metrics); returns its name relative to `dir`. */
export function writeCheckpointFolder(
  dir: string,
  epoch: number,
  tensors: readonly NamedTensor[],
  metrics: EpochMetrics,
  lists: EpochLists,
): string {
  const rel = checkpointFolderName(epoch);
  const d = join(dir, rel);
  const map = new Map<string, SafeTensor>();
  for (const t of tensors) map.set(t.name, { dtype: 'F32', shape: [...t.shape], data: t.data });
  writeSafetensors(join(d, CHECKPOINT_WEIGHTS_FILE), map, { epoch: String(epoch), format: 'calitune-checkpoint' });
  if (lists.valid)
    writeNpy(checkpointListsPath(dir, rel, 'valid'), '<i4', [lists.valid.length / lists.k, lists.k], lists.valid);
  if (lists.test)
    writeNpy(checkpointListsPath(dir, rel, 'test'), '<i4', [lists.test.length / lists.k, lists.k], lists.test);
  writeJsonAtomic(join(d, CHECKPOINT_METRICS_FILE), {
    ...metrics,
    tensors: tensors.map((t) => ({ name: t.name, shape: t.shape })),
  });
  return rel;
}

/** Deletes a checkpoint folder with everything in it. */
export function removeCheckpointFolder(dir: string, rel: string): void {
  rmSync(join(dir, rel), { recursive: true, force: true });
}

/** Deletes a checkpoint's weights, keeping its lists and metrics. */
export function removeCheckpointWeights(dir: string, rel: string): void {
  rmSync(checkpointWeightsPath(dir, rel), { force: true });
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
