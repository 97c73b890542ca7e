/**
 * RUN/results: what `evaluate` writes (format in src/eval/results-format.ts).
 *   RUN/results/NAME.json           NAME = an experiment, or 'base' (evaluate without one)
 *   RUN/results/NAME_per_user.tsv   src/eval/per-user-table.ts
 *   RUN/results/base_model.json     the backbone's NDCG (src/store/base-files.ts), not a results file
 * The one reader of results files is strict: a file without our format version (written by
 * the reference or an older calitune), with another version, or without the reference's
 * shape is refused with a message that says which and what to do; a metric that is not a
 * number (a "NaN" string) is refused naming the file and the field.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeJsonAtomic } from '../util/atomic.js';
import { InputError, UserError, type InputMessage } from '../util/errors.js';
import { finiteNumber, finiteOrNull, wholeNumber } from '../util/json-schema.js';
import { RESULTS_FORMAT_VERSION, type ResultsFile } from '../eval/results-format.js';
import { writePerUserTable, type PerUserTableInput } from '../eval/per-user-table.js';
import { checkJsonArtefact, isJsonObject, readJsonFile, readJsonFileLenient } from './json-files.js';
import { isValidExperimentName } from './experiment-name.js';
import { runPaths } from './run.js';

/** The results name of an evaluation without an experiment. */
export const BASE_RESULTS_NAME = 'base';

/** Paths of the results JSON and the per-user TSV of results name `name` (an experiment, or 'base'). */
export function resultsPaths(run: string, name: string) {
  return {
    json: join(runPaths(run).results, `${name}.json`),
    perUser: join(runPaths(run).results, `${name}_per_user.tsv`),
  };
}

/** Options of {@link readResults}. */
export interface ReadResultsOptions {
  /**
   * Accept the bare NaN / Infinity tokens Python's json writes (read as null); called with
   * their count when the file is otherwise accepted. Without it such a file is not JSON.
   */
  onNonFinite?: (count: number) => void;
}

function formatProblem(r: Record<string, unknown>): InputMessage | undefined {
  const c = r.calitune;
  const v = isJsonObject(c) ? c.format_version : undefined;
  if (typeof v !== 'number') {
    const what = r.base_recommendations
      ? 'the reference implementation or an older calitune'
      : 'an older calitune (before evaluate wrote the reference shape)';
    return (n) =>
      `an older results format (no calitune.format_version; written by ${what}); ` +
      `re-run '${n.step('evaluate')}' to rewrite it in format ${RESULTS_FORMAT_VERSION}`;
  }
  if (v < RESULTS_FORMAT_VERSION) {
    return (n) =>
      `an older results format (format_version ${v}, this calitune reads ${RESULTS_FORMAT_VERSION}); ` +
      `re-run '${n.step('evaluate')}'`;
  }
  if (v > RESULTS_FORMAT_VERSION)
    return (
      `results format_version ${v} is newer than this calitune reads ` +
      `(${RESULTS_FORMAT_VERSION}); ` +
      'upgrade calitune'
    );
  return undefined;
}

/** A block of metrics: each a finite number, or null (a NaN as JSON.stringify writes it). */
const metricsSchema = z.record(finiteOrNull);

/** A validation-selected epoch: its number and validation metrics (the split's metrics beside them). */
const selectedSchema = z
  .object({
    epoch: wholeNumber,
    valid: z.object({ valid_ndcg: finiteOrNull, jsd: finiteOrNull, tradeoff: finiteOrNull }).passthrough(),
  })
  .passthrough();

/** Our block, as far as readers use it; other keys are kept as they are. */
const calituneSchema = z
  .object({
    format_version: z.number(),
    split: z.enum(['test', 'valid']),
    k: z.number().int().positive(),
    rbo_p: finiteNumber.optional(),
    prepared: z.boolean().optional(),
    user_group_names: z.array(z.string()).optional(),
    user_group_sizes: z.array(wholeNumber).optional(),
    postprocess: z.object({ lambdas: z.array(z.string()), files: z.record(z.string()) }).optional(),
    experiment: z
      .object({ epochs: z.array(wholeNumber) })
      .passthrough()
      .optional(),
    selected: z.record(selectedSchema.nullable()).optional(),
  })
  .passthrough();

/** A results file in our format (src/eval/results-format.ts). */
const resultsSchema = z
  .object({
    base_recommendations: metricsSchema,
    postprocessed: z.record(metricsSchema).optional(),
    finetuned: z.record(metricsSchema).optional(),
    calitune: calituneSchema,
  })
  .passthrough();

/** Reads and checks a results file written by `evaluate` (UserError naming the file otherwise). */
export function readResults(path: string, opts: ReadResultsOptions = {}): ResultsFile {
  if (!existsSync(path)) {
    throw new InputError((n) => `no results file; run '${n.step('evaluate')}' first`, { file: path });
  }
  let value: unknown,
    replaced = 0;
  if (opts.onNonFinite) ({ value, replaced } = readJsonFileLenient(path));
  else value = readJsonFile(path);
  if (!isJsonObject(value)) throw new UserError('not a results object', path);
  const problem = formatProblem(value);
  if (problem !== undefined) throw new InputError(problem, { file: path });
  checkJsonArtefact(path, value, resultsSchema);
  if (replaced > 0) opts.onNonFinite?.(replaced);
  return value as unknown as ResultsFile;
}

/**
 * Writes the per-user table of an evaluation; returns its SHA-256, which the results file (written
 * after it) records as `calitune.per_user_sha256` so that readers can tell a table of another
 * evaluation (a crash between the two writes) from its own ({@link perUserTableProblem}).
 */
export function writePerUserResults(path: string, table: PerUserTableInput): string {
  writePerUserTable(path, table);
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/**
 * Why the per-user table at `path` is not the one the results file `results` was written with (its
 * SHA-256 differs from the recorded one), or undefined when it is or the file records none (older files).
 */
export function perUserTableProblem(results: ResultsFile, path: string): InputMessage | undefined {
  const recorded = results.calitune.per_user_sha256;
  if (typeof recorded !== 'string' || !existsSync(path)) return undefined;
  if (createHash('sha256').update(readFileSync(path)).digest('hex') === recorded) return undefined;
  const { run, name } = results.calitune;
  const options: Record<string, string> = name === BASE_RESULTS_NAME ? { run } : { run, experiment: name };
  return (n) =>
    `this per-user table is not the one its results file was written with (an evaluation was interrupted); ` +
    `re-run '${n.step('evaluate', options)}'`;
}

/** Writes a results file, atomically. */
export function writeResults(path: string, results: ResultsFile): void {
  writeJsonAtomic(path, results);
}

/** Experiment names with a results file in RUN/results (not 'base', not base_model.json), unsorted. */
export function resultsExperimentNames(run: string): string[] {
  const dir = runPaths(run).results;
  if (!existsSync(dir)) return [];
  const names: string[] = [];
  for (const f of readdirSync(dir)) {
    const m = /^(.+)\.json$/.exec(f);
    if (m && isValidExperimentName(m[1]!)) names.push(m[1]!);
  }
  return names;
}
