/**
 * The JSON files of an experiment folder, read through their schemas:
 *   summary.json  the fine-tuner's summary (how it ended, the epoch each selection mode chose)
 *   config.json   the validated fine-tuning configuration it ran with (an object)
 * A value of the wrong type is refused naming the file and the field (src/store/json-files.ts).
 */
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { finiteOrNull, wholeNumber } from '../util/json-schema.js';
import { readJsonArtefact } from './json-files.js';

/** A validation-selected epoch as the summary stores it (null when the mode selected none). */
const selectedEpochSchema = z
  .object({ epoch: wholeNumber, validNdcg: finiteOrNull, jsd: finiteOrNull, tradeoff: finiteOrNull })
  .passthrough();

/** summary.json of an experiment, as far as readers use it (other keys are kept). */
const experimentSummarySchema = z
  .object({
    epochsRun: wholeNumber.optional(),
    stopReason: z.string().optional(),
    selected: z.record(selectedEpochSchema.nullable()).optional(),
    checkpointEpochs: z.array(wholeNumber).optional(),
  })
  .passthrough();

/** An experiment's summary.json as checked. */
export type StoredExperimentSummary = z.infer<typeof experimentSummarySchema>;

/** An experiment's summary.json, checked; undefined when absent (the fine-tuning has not finished). */
export function readExperimentSummary(path: string): StoredExperimentSummary | undefined {
  return existsSync(path) ? readJsonArtefact(path, experimentSummarySchema) : undefined;
}

/** An experiment's config.json (an object of settings), checked; undefined when absent. */
export function readExperimentConfigFile(path: string): Record<string, unknown> | undefined {
  return existsSync(path) ? readJsonArtefact(path, z.record(z.unknown())) : undefined;
}
