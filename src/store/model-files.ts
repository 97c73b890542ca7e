/**
 * RUN/model: the backbone. The weights and sidecar are written and read by the model codec
 * (src/models/model-file.ts, which names the two files); this module knows the folder and the
 * training log:
 *   RUN/model/model.safetensors, model.json
 *   RUN/model/training_log.jsonl   one JSON line per backbone epoch (epoch, loss, valid_ndcg, …)
 */
import { appendFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { finiteOrNull, wholeNumber } from '../util/json-schema.js';
import { MODEL_SIDECAR_FILE, MODEL_TENSORS_FILE } from '../models/model-file.js';
import { readJsonLines, schemaLineCheck } from './json-files.js';
import { runPaths } from './run.js';
import { currentSetFolder, freshSetFolder, recoverSetFolder, swapInSetFolder, type FolderSet } from './folder-sets.js';

/** RUN/model as a set written whole (./folder-sets.ts): a new backbone is complete with its sidecar. */
const modelSet = (run: string): FolderSet => ({ parent: run, name: 'model', marker: MODEL_SIDECAR_FILE });

/** The backbone's training log, one JSON line per epoch, beside its weights. */
const TRAINING_LOG_FILE = 'training_log.jsonl';

/** The backbone's files inside folder `dir`. */
function modelFilesIn(dir: string) {
  return {
    dir,
    tensors: join(dir, MODEL_TENSORS_FILE),
    sidecar: join(dir, MODEL_SIDECAR_FILE),
    trainingLog: join(dir, TRAINING_LOG_FILE),
  };
}

/**
 * The backbone's folder in a run, its two files and its training log: RUN/model, or the complete old
 * one a crash left during a swap (./folder-sets.ts).
 */
export function modelPaths(run: string) {
  return modelFilesIn(currentSetFolder(modelSet(run)) ?? runPaths(run).model);
}

/**
 * The folder a new backbone is written into (created; its training log, weights and sidecar go there),
 * swapped into RUN/model by {@link commitNewModel}. The caller holds the run lock: what killed writers
 * left is recovered first.
 */
export function newModelFolder(run: string): ReturnType<typeof modelFilesIn> {
  recoverSetFolder(modelSet(run));
  const fresh = freshSetFolder(modelSet(run));
  mkdirSync(fresh, { recursive: true });
  return modelFilesIn(fresh);
}

/** Swaps the complete new backbone in `fresh` (from {@link newModelFolder}) into RUN/model. */
export function commitNewModel(run: string, fresh: string): void {
  swapInSetFolder(modelSet(run), fresh);
}

/** Whether the run has a backbone (its sidecar). */
export function hasModel(run: string): boolean {
  return existsSync(modelPaths(run).sidecar);
}

/** Creates RUN/model and removes an earlier training log (a new training starts). */
export function startTrainingLog(run: string): void {
  const p = modelPaths(run);
  mkdirSync(p.dir, { recursive: true });
  rmSync(p.trainingLog, { force: true });
}

/** Appends one epoch record to the backbone's training log. */
export function appendTrainingLog(run: string, record: Record<string, unknown>): void {
  appendFileSync(modelPaths(run).trainingLog, JSON.stringify(record) + '\n');
}

/** A training log line: its epoch, and the numbers readers plot (NaN written as null). */
const trainingLogLineSchema = z
  .object({ epoch: wholeNumber, loss: finiteOrNull.optional(), valid_ndcg: finiteOrNull.optional() })
  .passthrough();

/** The training log's records (a missing file has none; a malformed line names file:line). */
export function readTrainingLog(run: string): Record<string, unknown>[] {
  const check = schemaLineCheck(trainingLogLineSchema);
  return readJsonLines<Record<string, unknown>>(modelPaths(run).trainingLog, check).map((l) => l.record);
}
