/**
 * CaliTune for TypeScript as a library: calibrated recommendations at no extra inference cost.
 *
 * The pipeline functions (`train`, `prepare`, `postprocess`, `finetune`, `evaluate`, `compare`, …)
 * work on a run directory exactly as the CLI commands of the same name do; each takes one options
 * object and an optional {@link Reporter}, and throws an {@link InputError} naming the option field
 * for bad input. Below them, the building blocks work in memory: reading and generating interaction
 * data, the split, the {@link Recommender} interface, the metrics, CP re-ranking, the CaliTune loss,
 * epoch selection and the comparison with CP, and the run store's readers.
 *
 * Everything here is the public surface; modules not re-exported are internal and may change.
 * @packageDocumentation
 */
// Registers every model type, so that createModel and loadModel know them all.
import './models/all.js';

// ── How a backbone's training ended (train's result; demo, runs frontier and the report warn on it)
export {
  type BackboneConvergence,
  type ConvergenceStatus,
  backboneConvergence,
  convergenceSentence,
  stillImprovingAtCap,
  underTrainedWarning,
} from './train/convergence.js';

// ── Pipeline: one function per use-case, with its options schema, options and result
export {
  train,
  trainOptionsSchema,
  type TrainOptions,
  type TrainResult,
  importReference,
  importReferenceOptionsSchema,
  type ImportReferenceOptions,
  type ImportReferenceResult,
  prepare,
  prepareOptionsSchema,
  type PrepareOptions,
  type PrepareResult,
  postprocess,
  postprocessOptionsSchema,
  type PostprocessOptions,
  type PostprocessResult,
  finetune,
  finetuneOptionsSchema,
  type FinetuneOptions,
  type FinetuneResult,
  evaluate,
  evaluateOptionsSchema,
  type EvaluateOptions,
  type EvaluateResult,
  compare,
  compareOptionsSchema,
  type CompareOptions,
  type CompareResult,
  report,
  reportOptionsSchema,
  type ReportOptions,
  type ReportResult,
  grid,
  experiments,
  gridOptionsSchema,
  experimentsOptionsSchema,
  type GridOptions,
  type ExperimentsOptions,
  type GridResult,
  type GridView,
  serve,
  serveOptionsSchema,
  type ServeOptions,
  type ServeHandle,
  dataStats,
  dataStatsOptionsSchema,
  type DataStatsOptions,
  type DataStatsResult,
  fetchDataset,
  fetchDatasetOptionsSchema,
  type FetchDatasetOptions,
  type FetchDatasetResult,
  demo,
  demoOptionsSchema,
  type DemoOptions,
  type DemoResult,
  type DemoStep,
} from './pipeline/index.js';
export {
  dataSynth,
  dataSynthOptionsSchema,
  DATA_SYNTH_PRESETS,
  type DataSynthOptions,
  type DataSynthResult,
} from './pipeline/data-synth.js';
export { tune, tuneOptionsSchema, type TuneOptions, type TuneResult } from './pipeline/tune.js';
export {
  prune,
  pruneOptionsSchema,
  type PruneOptions,
  type PruneOutcome,
  type PruneResult,
} from './pipeline/prune.js';
export type { PointOutcome, RunPlanResult } from './pipeline/grid-runner.js';
export type { BaseSummary } from './pipeline/evaluate.js';
export type { RboPairSummary } from './pipeline/compare.js';

// ── Reporter: where a use-case's log lines, warnings and progress go
export {
  silentReporter,
  consoleReporter,
  nestedReporter,
  type Reporter,
  type ProgressHandle,
  type ConsoleReporterOptions,
} from './pipeline/reporter.js';

// ── Errors
export {
  UserError,
  InputError,
  isUserError,
  isInputError,
  LIBRARY_NAMING,
  type Naming,
  type InputMessage,
  type InputLocation,
} from './util/errors.js';
export { DEFAULT_SEED } from './util/seed.js';

// ── Selection: epoch selection, Pareto front, CP's curve and the verdict against CP
export {
  SELECTION_MODES,
  SELECTION_MODE_LABELS,
  isSelectionMode,
  selectionModeOr,
  type SelectionMode,
  selectEpochs,
  type SelectionRules,
  DEFAULT_ACCURACY_FLOOR,
  accuracyFloorNdcg,
  type EpochPoint,
  type EpochSelection,
  paretoFront,
  paretoStatus,
  onParetoFront,
  type TradeoffPoint,
  AHEAD_TOLERANCE,
  cpCurve,
  cpAtJsd,
  verdictOf,
  compareWithCp,
  aheadOfCp,
  closestCpLambda,
  type CurvePoint,
  type CpCurve,
  type CurvePosition,
  type CpAtJsd,
  type Verdict,
  type CpComparison,
  validationFront,
  frontierReport,
  type FrontCandidate,
  type FrontierRow,
  type FrontierSegment,
  type FrontierReport,
  DEFAULT_MARGIN_TARGETS,
  frontEnvelope,
  envelopeAt,
  marginsAtTargets,
  type MarginsAtTargets,
} from './selection/index.js';

// ── Data: interaction logs, the synthetic generator, the split
export type { IdMap, InteractionLog, SplitDataset } from './data/types.js';
export type { Csr } from './math/csr.js';
export {
  readInteractions,
  detectFormat,
  resolveInteractionFile,
  INTERACTION_FORMATS,
  type ReadOptions,
  type InteractionFormat,
  type ColumnSpec,
} from './data/readers.js';
export {
  generateSynthetic,
  generateSyntheticWithTruth,
  writeInterFile,
  SYNTHETIC_PRESETS,
  type SyntheticOptions,
  type SyntheticResult,
  type SyntheticPreset,
} from './data/synthetic.js';
export { randomSplit, splitSizes } from './data/split.js';
export { csrFromCoo, csrRow } from './math/csr.js';
export { PAD_TOKEN, idOf, tokenOf } from './data/idmap.js';
export { logStats, splitStats, type DataStats, type CountSummary, type SplitSizes } from './data/stats.js';
export type { FetchResult, DatasetName } from './data/fetch.js';

// ── Models and backbone training
export { MODEL_TYPES, type ModelType, type Recommender } from './models/recommender.js';
export type { Parameter } from './nn/parameter.js';
export {
  createModel,
  registerModel,
  knownModelTypes,
  saveModel,
  loadModel,
  readSidecar,
  type ModelFactory,
  type ModelInfo,
  type ModelSidecar,
  type LoadedModel,
  type IdMapJson,
} from './models/model-file.js';
export {
  trainBackbone,
  type BackboneConfig,
  type BackboneOptions,
  type BackboneResult,
} from './train/train-any.js';
export { bprConfigSchema, DEFAULT_BPR_CONFIG, type BprConfig } from './train/configs/bpr.js';
export { dmfFieldsSchema, DEFAULT_DMF_CONFIG, type DmfConfig } from './train/configs/dmf.js';
export { multiVaeConfigSchema, DEFAULT_MULTIVAE_CONFIG, type MultiVaeConfig } from './train/configs/multivae.js';
export type { TrainData } from './train/train-data.js';
export type { EpochInfo } from './train/epoch-loop.js';

// ── Tuning a backbone: search spaces, seeded trials, early stopping of trials (ASHA)
export {
  parseSearchSpace,
  sampleTrials,
  type SearchSpace,
  type Dimension,
  type TrialConfig,
  type ConfigValue,
} from './tune/search-space.js';
export {
  AshaScheduler,
  NoScheduler,
  schedulerFromState,
  ashaRungs,
  backboneEpochCap,
  DEFAULT_ETA,
  DEFAULT_GRACE_EPOCHS,
  type TrialScheduler,
  type Decision,
  type AshaOptions,
  type SchedulerState,
  type RungReport,
} from './tune/asha.js';

// ── Calibration: popularity groups, user targets, the CaliTune loss
export {
  itemPopularity,
  popularityGroups,
  popularityGroupsFromSplit,
  DEFAULT_PROPORTIONS,
  type PopularityGroups,
  type PopularityGroupSummary,
  type PopularitySource,
} from './calibration/popularity.js';
export { userTargets, type UserTargets } from './calibration/user-targets.js';
export {
  computePrepared,
  type Prepared,
  type PreparedCore,
  type PrepareSummary,
  type PrepareSummaryCore,
  type PrepareOptions as PrepareDataOptions,
} from './calibration/prepare.js';
export {
  CaliTuneLoss,
  caliTuneLoss,
  CALIBRATION_EPS,
  type CaliTuneBatch,
  type CaliTuneLossValue,
} from './calibration/loss.js';
export {
  finetuneConfigSchema,
  DEFAULT_FINETUNE_CONFIG,
  type FinetuneConfig,
  type TargetMetric,
} from './calibration/finetune-config.js';
export { KEEP_POLICIES, type KeepPolicy } from './calibration/checkpoints.js';
export type { FinetuneSummary, SelectedEpoch, StopReason, EpochLogRecord } from './calibration/finetuner.js';

// ── Evaluation: NDCG, JSD, RBO, user groups
export { ndcgAtK } from './eval/ndcg.js';
export { JSD_EPS, jsdMetric, listGroupDistribution } from './eval/jsd.js';
export { rbo, rboOf, rboPerUser, summarize, type DistributionSummary } from './eval/rbo.js';
export { userGroups, USER_GROUP_NAMES, type UserGroups, type UserGroupTieBreak } from './eval/user-groups.js';
export {
  perUserMetrics,
  summarizeMetrics,
  evaluateLists,
  toReferenceMetrics,
  type ListsInput,
  type PerUserMetrics,
  type MetricSummary,
  type ReferenceMetrics,
} from './eval/metrics.js';
export { meanNdcg, evaluateBase, type ListsNdcg, type BaseEvaluation } from './eval/base-eval.js';
export { recommendationLists, type ListSplit } from './eval/base-lists.js';
export {
  RESULTS_FORMAT_VERSION,
  type ResultsFile,
  type CalituneBlock,
  type SelectedOut,
  type SelectionMetrics,
  type RboEntry,
  type EvalSplit,
} from './eval/results-format.js';
export type { StoredCpVerdict } from './eval/cp-verdicts.js';
export type { ImprovementTables, Table, Row } from './eval/improvement.js';

// ── CP re-ranking
export {
  cpRerank,
  cpRerankSync,
  prepareCpCandidates,
  maskScores,
  type CpOptions,
  type CpResult,
  type CpCandidates,
} from './rerank/cp.js';
export {
  cpCandidatesFromModel,
  DEFAULT_LAMBDAS,
  lambdaKey,
  type CpMode,
  type PostprocessSummary,
} from './rerank/postprocess.js';

// ── Run store: reading what the pipeline wrote
export {
  runPaths,
  isRunDirectory,
  readRunInfo,
  loadRunData,
  type RunInfo,
} from './store/run.js';
export { modelPaths, hasModel, readTrainingLog } from './store/model-files.js';
export { readBaseList, readBaseModelResults, type BaseModelResults, type BaseListSplit } from './store/base-files.js';
export { preparePaths, hasPrepared, loadPrepared } from './store/prepare-files.js';
export {
  postprocessPaths,
  readPostprocessSummary,
  storedCpLambdas,
  readCpList,
  type StoredPostprocessSummary,
} from './store/postprocess-files.js';
export {
  type InputFingerprints,
  currentInputFingerprints,
  staleInputs,
  describeStaleInputs,
  experimentInputs,
} from './store/provenance.js';
export { experimentPaths, experimentFolderNames } from './store/experiment-files.js';
export { isValidExperimentName } from './store/experiment-name.js';
export { readEpochLog } from './store/epoch-log.js';
export { readResumePruneRecord, type ResumePruneRecord } from './store/resume-prune.js';
export { readCheckpointIndex, type CheckpointIndex } from './store/checkpoint-files.js';
export type { CheckpointRecord, EpochMetrics } from './calibration/checkpoints.js';
export { findExperiment, type StoredExperiment, type StoredEpoch } from './store/stored-experiment.js';
export { readResults, resultsPaths, resultsExperimentNames, type ReadResultsOptions } from './store/results-files.js';
export {
  readCurrentResults,
  resultsProvenance,
  type FingerprintCache,
  type ReadCurrentResultsOptions,
  type ResultsInputKey,
  type ResultsInputs,
  type ResultsProvenance,
} from './store/results-provenance.js';
export { readListMatrix } from './store/list-files.js';
