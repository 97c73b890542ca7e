/**
 * The backbone's evaluation in a run:
 *   RUN/lists/base_{valid,test}.npy   its top-k lists, users × k int32 (row 0 = padding = −1)
 *   RUN/results/base_model.json       model type, k, valid and test NDCG@k, the lists' paths
 */
import { existsSync } from 'node:fs';
import { writeJsonAtomic } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import { readNpyMatrixI32 } from '../data/npy.js';
import type { BaseEvaluation, ListsNdcg } from '../eval/base-eval.js';
import { writeListMatrix } from './list-files.js';
import { z } from 'zod';
import { finiteNumber, wholeNumber } from '../util/json-schema.js';
import { readJsonArtefact } from './json-files.js';
import { runPaths } from './run.js';
import { currentInputFingerprints } from './provenance.js';
import { BASE_MODEL_NAME, checkResultsProvenance, type ResultsInputs } from './results-provenance.js';

/** Which stored base lists: valid-time or test-time. */
export type BaseListSplit = 'valid' | 'test';

/** Path of the stored base lists of one split. */
export function baseListPath(run: string, split: BaseListSplit): string {
  return runPaths(run).baseList(split);
}

/** Writes both splits' base lists (nUsers × k each), atomically. */
export function writeBaseLists(run: string, lists: Record<BaseListSplit, Int32Array>, k: number): void {
  writeListMatrix(baseListPath(run, 'valid'), lists.valid, k);
  writeListMatrix(baseListPath(run, 'test'), lists.test, k);
}

/** Whether both base lists are stored. */
export function hasBaseLists(run: string): boolean {
  return existsSync(baseListPath(run, 'valid')) && existsSync(baseListPath(run, 'test'));
}

/** One split's stored base lists, which must be exactly nUsers × k. */
export function readBaseList(run: string, split: BaseListSplit, nUsers: number, k: number): Int32Array {
  const p = baseListPath(run, split);
  const a = readNpyMatrixI32(p);
  if (a.rows !== nUsers || a.cols !== k)
    throw new UserError(`expected ${nUsers}×${k} lists, got ${a.rows}×${a.cols}`, p);
  return a.data;
}

/** The content of results/base_model.json (what train and import print with --json). */
export interface BaseModelResults {
  model_type: string;
  k: number;
  valid: ListsNdcg;
  test: ListsNdcg;
  lists: Record<BaseListSplit, string>;
}

/**
 * Writes the base lists and results/base_model.json of a backbone evaluation; the file records the
 * fingerprint of the weights it scored ('inputs', src/store/results-provenance.ts), so it is to be
 * written after RUN/model.
 */
export function writeBaseEvaluation(run: string, e: BaseEvaluation, modelType: string): BaseModelResults {
  writeBaseLists(run, e.lists, e.k);
  const summary: BaseModelResults = {
    model_type: modelType,
    k: e.k,
    valid: e.valid,
    test: e.test,
    lists: { valid: baseListPath(run, 'valid'), test: baseListPath(run, 'test') },
  };
  const inputs: ResultsInputs = { backbone: currentInputFingerprints(run).backbone ?? null };
  writeJsonAtomic(runPaths(run).baseResults, { ...summary, inputs });
  return summary;
}

/** The backbone's NDCG@k on one split as base_model.json stores it. */
const listsNdcgSchema = z
  .object({
    ndcg: finiteNumber,
    ndcg_users_with_items: finiteNumber,
    users: wholeNumber,
    users_with_items: wholeNumber,
  })
  .passthrough();

/** results/base_model.json as readers use it (other keys are kept). */
const baseModelResultsSchema = z
  .object({ model_type: z.string(), k: wholeNumber, valid: listsNdcgSchema, test: listsNdcgSchema })
  .passthrough();

/**
 * results/base_model.json as stored and checked (UserError naming the file and field), or undefined when
 * absent. A file whose recorded backbone is not the run's (a crash between the new weights and this file)
 * is refused naming train; `onNote` gets the note for a file that records no inputs (read unchecked).
 */
export function readBaseModelResults(
  run: string,
  onNote: (line: string) => void = () => {},
): Record<string, unknown> | undefined {
  const p = runPaths(run).baseResults;
  if (!existsSync(p)) return undefined;
  const j = readJsonArtefact(p, baseModelResultsSchema) as Record<string, unknown>;
  const note = checkResultsProvenance(run, BASE_MODEL_NAME, p, j.inputs);
  if (note !== undefined) onNote(note);
  return j;
}
