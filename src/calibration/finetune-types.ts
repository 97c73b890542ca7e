/**
 * The fine-tuner's data types: what it is given (data, validation results), what it records
 * (epoch log records, selected epochs, the summary) and the journal that keeps those records.
 * They live apart from the loop so that every part of it (src/calibration/finetune-*.ts) can
 * name them; src/calibration/finetuner.ts re-exports them.
 */
import type { Csr } from '../math/csr.js';
import type { Recommender } from '../models/recommender.js';
import type { SafeTensor, SafeTensorsFile } from '../models/safetensors.js';
import type { SelectionMode } from '../selection/index.js';
import type { TargetMetric } from './finetune-config.js';
import type { CandidatePicker } from './candidates.js';

/**
 * Optional fused pass: validation that also writes the relevance candidates of `cand.users`
 * (cand.picker's choice by the current scores, item 0 masked) into cand.out, sharing one
 * scoring pass. `regenS` is the part of its time spent on the candidates.
 */
export type FusedValidate = (
  model: Recommender,
  cand: { users: Int32Array; picker: CandidatePicker; out: Int32Array },
) => { result: ValidationResult; regenS: number };

/** The data a fine-tuning reads besides the model: train interactions and calibration targets. */
export interface FinetuneData {
  /** Train interactions (rows = users incl. padding 0, sorted columns). */
  readonly train: Csr;
  /** Popularity group per item (−1 = none), length nItems. */
  readonly itemGroups: Int32Array;
  /** Number of popularity groups. */
  readonly nGroups: number;
  /** Target distribution per user, nUsers × nGroups. */
  readonly userTargets: Float64Array | Float32Array;
}

/** What the validation callback reports for the current model (docs/numeric-contract.md §10). */
export interface ValidationResult {
  /** Valid NDCG@k, train items masked. */
  validNdcg: number;
  /** JSD@k of test-time lists (train and valid masked). */
  jsd: number;
  /** nUsers × k valid-time lists (stored with checkpoints). */
  validLists?: Int32Array;
  /** nUsers × k test-time lists. */
  testLists?: Int32Array;
}

/** One line of the epoch log (epoch 0 = before fine-tuning); `*_s` are seconds per phase. */
export interface EpochLogRecord {
  epoch: number;
  lr: number;
  acc_loss: number | null;
  cal_loss: number | null;
  valid_ndcg: number;
  jsd: number;
  tradeoff: number | null;
  improved: string[];
  checkpoint: boolean;
  train_s: number;
  regen_s: number;
  valid_s: number;
  /**
   * Set on an epoch whose valid NDCG@k fell below the accuracy floor while the collapse guard
   * was on: the run went back to the weights before it, so it is never selected (absent otherwise).
   */
  rolled_back?: true;
}

/**
 * Why a fine-tuning ended; `interrupted` runs can be resumed; `collapse`: the collapse guard
 * rolled back more often than `collapse_max_rollbacks` allows.
 */
export type StopReason = 'max_epochs' | 'early_stopping' | 'identical_metrics' | 'collapse' | 'interrupted';

/** The epoch one selection mode chose, with its validation metrics. */
export interface SelectedEpoch {
  epoch: number;
  validNdcg: number;
  jsd: number;
  tradeoff: number | null;
  /** Whether a checkpoint (lists, and weights unless pruned) exists for it. */
  checkpoint: boolean;
}

/** What a fine-tuning returns and writes to its journal at the end. */
export interface FinetuneSummary {
  epochsRun: number;
  stopReason: StopReason;
  /** How often the collapse guard rolled the run back (epochs marked `rolled_back` in the log). */
  rollbacks: number;
  initial: { validNdcg: number; jsd: number };
  final: { validNdcg: number; jsd: number; tradeoff: number | null };
  targetMetric: TargetMetric;
  /** Validation-selected epoch per selection mode (null if no epoch ran). */
  selected: Record<SelectionMode, SelectedEpoch | null>;
  checkpointEpochs: number[];
  trainableTensors: string[];
  trainUsers: number;
}

/** The fine-tuner's persistent state; `where` and `resumeName` only name it in messages. */
export interface FinetuneJournal {
  readonly where: string;
  readonly resumeName: string;
  hasResume(): boolean;
  readResume(): SafeTensorsFile;
  writeResume(tensors: ReadonlyMap<string, SafeTensor>, metadata: Record<string, string>): void;
  /** Epoch records with epoch ≤ maxEpoch. */
  readLog(maxEpoch: number): EpochLogRecord[];
  /** Replaces the log. */
  writeLog(records: readonly EpochLogRecord[]): void;
  appendLog(record: EpochLogRecord): void;
  writeSummary(summary: FinetuneSummary): void;
  /**
   * Waits until every write handed over so far has landed (a journal that writes in the
   * background); throws the first that failed. Optional: a synchronous journal has nothing to wait for.
   */
  settle?(): void;
}

/**
 * Optional model capability (BprModel has it): the rows of parameter `name` that the last
 * backwardCandidates may have written — all other rows of its gradient are untouched. Lets the
 * optimizer skip scanning the gradients for non-zero rows.
 */
export interface CandidateGradRows {
  candidateGradRows(name: string): Int32Array | undefined;
}
