/**
 * RUN/postprocess/summary.json through its schema: the λs, their keys, m, n, the modes and the
 * lists' files, as readers use them (other keys are kept). A value of the wrong type is refused
 * naming the file and the field (src/store/json-files.ts).
 */
import { z } from 'zod';
import type { PostprocessSummary } from '../rerank/postprocess.js';
import { finiteNumber, wholeNumber } from '../util/json-schema.js';
import { readJsonArtefact } from './json-files.js';

const cpModeSchema = z.enum(['test', 'valid']);

/** summary.json of RUN/postprocess. */
const postprocessSummarySchema = z
  .object({
    format_version: z.number(),
    method: z.literal('cp'),
    lambdas: z.array(finiteNumber),
    lambda_keys: z.array(z.string()),
    m: wholeNumber,
    n: wholeNumber,
    modes: z.array(cpModeSchema),
    users: wholeNumber,
    files: z.record(z.record(z.string())),
  })
  .passthrough();

/** Reads and checks CP's summary at `path` (which must exist). */
export function readPostprocessSummaryFile(path: string): PostprocessSummary {
  return readJsonArtefact(path, postprocessSummarySchema) as unknown as PostprocessSummary;
}
