/**
 * The CaliTune fine-tuning loop (docs/numeric-contract.md §10), model- and metric-agnostic: it
 * drives any Recommender through forwardCandidates/backwardCandidates and gets validation
 * metrics from an injected callback. This module ties the parts together and is the public
 * face of fine-tuning (it re-exports the parts' public names):
 *   - src/calibration/finetune-state.ts: the state (users, trainable tensors, RowSparseRAdam,
 *     StepLR, RNG, candidates, selection progress) and its creation;
 *   - src/calibration/finetune-resume.ts: the resume state, saved after every epoch;
 *   - src/calibration/finetune-epoch.ts: one training epoch (batches, loss, backward, step);
 *   - src/calibration/finetune-selection.ts: validation and candidate regeneration, improvement
 *     bookkeeping, checkpoint hand-over, stop rules.
 *
 * Epoch 0 validates the backbone; then each epoch trains, validates and selects, until a stop
 * rule fires. Unlike the reference we checkpoint copies of the weights, and a collapsed epoch
 * is rolled back (src/calibration/collapse-guard.ts).
 *
 * What it keeps goes through a FinetuneJournal (the run store's experiment folder implements
 * it): the epoch log (one record per epoch, epoch 0 = before fine-tuning), the resume state
 * (after the last finished epoch, written each epoch) and the summary. Resume reloads the
 * state, truncates the log to its epoch, rolls checkpoints back to it and continues; the
 * result equals an uninterrupted run bit for bit.
 */
import type { Recommender } from '../models/recommender.js';
import { RowSparseRAdam } from '../nn/row-sparse-radam.js';
import type { ImprovementSink } from './checkpoints.js';
import {
  accuracyFloorNdcg,
  DEFAULT_ACCURACY_FLOOR,
  SELECTION_MODES,
  selectEpochs as selectEpochPoints,
  type SelectionMode,
} from '../selection/index.js';
import { captureRollbackPoint, rollBack } from './collapse-guard.js';
import type { FinetuneConfig } from './finetune-config.js';
import { InputError } from '../util/errors.js';
import { createFinetuneState, type FinetuneState } from './finetune-state.js';
import { restoreResumeState, writeResumeState } from './finetune-resume.js';
import { createBatchBuffers, trainEpoch, type BatchBuffers } from './finetune-epoch.js';
import { anchorScoreTable } from './loss-extended.js';
import { withGroupOffsets } from './group-offsets.js';
import {
  collapseGuardOn,
  validateAndSelect,
  validateBeforeFinetuning,
  type EpochValidator,
} from './finetune-selection.js';
import type {
  EpochLogRecord,
  FinetuneData,
  FinetuneJournal,
  FinetuneSummary,
  FusedValidate,
  SelectedEpoch,
  StopReason,
  ValidationResult,
} from './finetune-types.js';

// Re-exported: tests and callers reach the optimizer through the fine-tuner too.
export { RowSparseRAdam };

// The parts' public names, importable from here as before the split.
export type {
  CandidateGradRows,
  EpochLogRecord,
  FinetuneData,
  FinetuneJournal,
  FinetuneSummary,
  FusedValidate,
  SelectedEpoch,
  StopReason,
  ValidationResult,
} from './finetune-types.js';
export { checkUserAdapter, finetuneUsers, trainableParameters } from './finetune-state.js';
export { tradeoffScore } from './finetune-selection.js';
export type { SelectionMode };

/** What a fine-tuning runs on, where it keeps its records, and how it is observed. */
export interface FinetuneOptions {
  /** The backbone; its trainable tensors are updated in place. */
  model: Recommender;
  config: FinetuneConfig;
  data: FinetuneData;
  /** Validation of the current model (after each epoch, and before the first as epoch 0). */
  validate: (model: Recommender) => ValidationResult;
  /**
   * Optional fused pass of validation and relevance candidates, used instead of validate + a
   * separate regeneration when relevance candidates are regenerated.
   */
  fusedValidate?: FusedValidate;
  /** Where the epoch log, resume state and summary go. */
  journal: FinetuneJournal;
  /** Checkpoint writer (e.g. CheckpointStore); none → no checkpoints. */
  sink?: ImprovementSink;
  /** Continue from the journal's resume state (a new run when there is none). */
  resume?: boolean;
  /** Stop cleanly after this epoch (as if interrupted; the run can be resumed). */
  stopAfterEpoch?: number;
  /** Called with each epoch's log record (epoch 0 included) once it is in the log. */
  onEpoch?: (rec: EpochLogRecord) => void;
  /** Users per scoring block for relevance candidates (default 256). */
  scoreBlockUsers?: number;
}

/**
 * Validation-based selection per mode over epoch records (the one rule: src/selection): never
 * epoch 0, a rolled-back epoch, or one below `accuracyFloor` × epoch 0's valid NDCG@k.
 */
export function selectEpochs(
  records: readonly EpochLogRecord[],
  checkpointEpochs: readonly number[] = [],
  accuracyFloor = DEFAULT_ACCURACY_FLOOR,
): Record<SelectionMode, SelectedEpoch | null> {
  const has = new Set(checkpointEpochs);
  const points = records.map((r) => ({ epoch: r.epoch, validNdcg: r.valid_ndcg, jsd: r.jsd, tradeoff: r.tradeoff }));
  const rolledBack = new Set(records.filter((r) => r.rolled_back).map((r) => r.epoch));
  const epoch0 = records.find((r) => r.epoch === 0);
  const chosen = selectEpochPoints(points, {
    minValidNdcg: epoch0 ? accuracyFloorNdcg(epoch0.valid_ndcg, accuracyFloor) : 0,
    isRolledBack: (e) => rolledBack.has(e),
  });
  const out = {} as Record<SelectionMode, SelectedEpoch | null>;
  for (const mode of SELECTION_MODES) {
    const p = chosen[mode];
    out[mode] = p ? { ...p, checkpoint: has.has(p.epoch) } : null;
  }
  return out;
}

/** A new run: refuses a folder that holds one already, validates epoch 0 and saves the first resume state. */
function startRun(
  journal: FinetuneJournal,
  state: FinetuneState,
  validator: EpochValidator,
  opts: Pick<FinetuneOptions, 'resume' | 'sink' | 'onEpoch'>,
): EpochLogRecord[] {
  if (!opts.resume && journal.hasResume()) {
    throw new InputError(
      (n) => `this run folder already holds a fine-tuning run: resume it with ${n.option('resume')} or use a new name`,
      { field: 'resume', file: journal.where },
    );
  }
  opts.sink?.rollbackTo?.(0);
  const rec0 = validateBeforeFinetuning(state, validator);
  journal.writeLog([rec0]);
  opts.onEpoch?.(rec0);
  writeResumeState(journal, state);
  return [rec0];
}

/** A resumed run: the saved state, the log up to its epoch, checkpoints rolled back to it. */
function resumeRun(
  journal: FinetuneJournal,
  state: FinetuneState,
  sink: ImprovementSink | undefined,
): EpochLogRecord[] {
  restoreResumeState(journal, state);
  const history = journal.readLog(state.progress.epoch);
  journal.writeLog(history);
  sink?.rollbackTo?.(state.progress.epoch);
  return history;
}

/** Trains the next epoch, then validates and selects; returns its log record. */
function runEpoch(
  state: FinetuneState,
  batch: BatchBuffers,
  validator: EpochValidator,
  sink: ImprovementSink | undefined,
): EpochLogRecord {
  const epoch = state.progress.epoch + 1;
  const lr = state.optimizer.lr;
  const tTrain = performance.now();
  const losses = trainEpoch(state, batch, epoch, sink);
  const trainS = (performance.now() - tTrain) / 1000;
  return validateAndSelect(state, validator, { epoch, lr, losses, trainS }, sink);
}

/** The run's summary: how it ended and the epoch each selection mode chooses. */
function summarize(
  state: FinetuneState,
  stopReason: StopReason,
  history: readonly EpochLogRecord[],
  sink: ImprovementSink | undefined,
): FinetuneSummary {
  const ckEpochs = sink?.epochs?.() ?? history.filter((r) => r.checkpoint).map((r) => r.epoch);
  const lastRec = history[history.length - 1]!;
  return {
    epochsRun: state.progress.epoch,
    stopReason,
    rollbacks: state.progress.rollbacks,
    initial: state.progress.initial,
    final: { validNdcg: lastRec.valid_ndcg, jsd: lastRec.jsd, tradeoff: lastRec.tradeoff },
    targetMetric: state.config.target_metric,
    selected: selectEpochs(history, ckEpochs, state.config.accuracy_floor),
    checkpointEpochs: ckEpochs,
    trainableTensors: state.params.map((p) => p.name),
    trainUsers: state.users.length,
  };
}

/**
 * Runs (or resumes) a fine-tuning; returns the summary (also written to the journal). Every
 * write of the journal and the sink has landed when it returns or throws.
 */
export function finetune(opts: FinetuneOptions): FinetuneSummary {
  const settle = (): void => {
    opts.sink?.settle?.();
    opts.journal.settle?.();
  };
  try {
    const summary = runFinetune(opts);
    settle();
    return summary;
  } catch (e) {
    try {
      settle();
    } catch {
      // the error that stopped the run is the one to report
    }
    throw e;
  }
}

/** The run itself: the state, epoch 0 or the resumed state, the epochs, the summary. */
function runFinetune(opts: FinetuneOptions): FinetuneSummary {
  const { config: cfg, data } = opts;
  // with group offsets, the backbone folded into a wider model (the caller's stays untouched)
  const model = withGroupOffsets(opts.model, cfg.group_offsets, data.itemGroups, data.nGroups);
  const journal = opts.journal;
  const state = createFinetuneState(model, cfg, data);
  // the backbone's scores, taken before a resume restores the fine-tuned weights
  const anchorTable = anchorScoreTable(model, cfg);
  const validator: EpochValidator = {
    validate: opts.validate,
    fused: cfg.candidate_selection === 'relevance' ? opts.fusedValidate : undefined,
    scoreBlockUsers: opts.scoreBlockUsers ?? 256,
  };
  const history =
    opts.resume && journal.hasResume()
      ? resumeRun(journal, state, opts.sink)
      : startRun(journal, state, validator, opts);
  const batch = createBatchBuffers(state, anchorTable);
  const st = state.progress;
  while (st.stopReason === null && st.epoch < cfg.num_epochs) {
    if (opts.stopAfterEpoch !== undefined && st.epoch >= opts.stopAfterEpoch) {
      st.stopReason = 'interrupted';
      break;
    }
    const before = collapseGuardOn(cfg) ? captureRollbackPoint(state) : undefined;
    const rec = runEpoch(state, batch, validator, opts.sink);
    if (before && rec.rolled_back) rollBack(state, before, rec.epoch);
    journal.appendLog(rec);
    history.push(rec);
    writeResumeState(journal, state);
    opts.onEpoch?.(rec);
  }
  const stopReason = st.stopReason ?? 'max_epochs';
  st.stopReason = stopReason;
  const summary = summarize(state, stopReason, history, opts.sink);
  if (stopReason !== 'interrupted') journal.writeSummary(summary);
  model.setItemsFrozen?.(false);
  return summary;
}
