/**
 * The pipeline API: one typed function per use-case, each taking one options object (its zod
 * schema beside it holds the defaults) and an optional Reporter, and returning a typed result.
 * Bad input is an InputError naming the option field.
 */
export { silentReporter, consoleReporter, nestedReporter, type Reporter, type ProgressHandle } from './reporter.js';
export { InputError, UserError, LIBRARY_NAMING, type Naming } from '../util/errors.js';
export { train, trainOptionsSchema, type TrainOptions, type TrainResult } from './train.js';
export { DEFAULT_SEED } from '../util/seed.js';
export {
  importReference,
  importReferenceOptionsSchema,
  type ImportReferenceOptions,
  type ImportReferenceResult,
} from './import-reference.js';
export { prepare, prepareOptionsSchema, type PrepareOptions, type PrepareResult } from './prepare.js';
export {
  postprocess,
  postprocessOptionsSchema,
  type PostprocessOptions,
  type PostprocessResult,
} from './postprocess.js';
export { finetune, finetuneOptionsSchema, type FinetuneOptions, type FinetuneResult } from './finetune.js';
export { evaluate, evaluateOptionsSchema, type EvaluateOptions, type EvaluateResult } from './evaluate.js';
export { compare, compareOptionsSchema, type CompareOptions, type CompareResult } from './compare.js';
export { report, reportOptionsSchema, type ReportOptions, type ReportResult } from './report.js';
export {
  grid,
  experiments,
  gridOptionsSchema,
  experimentsOptionsSchema,
  type GridOptions,
  type ExperimentsOptions,
  type GridResult,
  type GridView,
} from './grid.js';
export { serve, serveOptionsSchema, type ServeOptions, type ServeHandle } from './serve.js';
export { dataStats, dataStatsOptionsSchema, type DataStatsOptions, type DataStatsResult } from './data-stats.js';
export {
  fetchDataset,
  fetchDatasetOptionsSchema,
  type FetchDatasetOptions,
  type FetchDatasetResult,
} from './fetch-dataset.js';
export { demo, demoOptionsSchema, type DemoOptions, type DemoResult, type DemoStep } from './demo.js';
export { tune, tuneOptionsSchema, type TuneOptions, type TuneResult } from './tune.js';
export {
  prune,
  pruneOptionsSchema,
  type PruneOptions,
  type PruneOutcome,
  type PruneResult,
} from './prune.js';
