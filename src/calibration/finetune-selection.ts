/**
 * The step after each training epoch (and the validation before the first), following the
 * reference's rules (docs/numeric-contract.md §10): new candidates and validation (one shared
 * scoring pass when a fused validator is given), the trade-off against epoch 0, improvement
 * bookkeeping (running bests starting at NDCG 0, JSD 1, trade-off 0; each improved metric
 * counts towards `model_save_interval`), the checkpoint hand-over (copies of the weights), and
 * the stop rules in their order: identical metrics 3 epochs in a row, early stopping after
 * `early_stopping_patience` epochs without improvement, `num_epochs`.
 */
import type { Recommender } from '../models/recommender.js';
import { candidateLabels, randomCandidates, relevanceCandidates } from './candidates.js';
import type { ImprovementSink, NamedTensor } from './checkpoints.js';
import type { EpochLosses } from './finetune-epoch.js';
import type { FinetuneState } from './finetune-state.js';
import type { EpochLogRecord, FusedValidate, ValidationResult } from './finetune-types.js';
import { accuracyFloorNdcg } from '../selection/epochs.js';
import type { FinetuneConfig } from './finetune-config.js';

/** (ndcg/ndcg₀)^0.5 · (jsd₀/jsd)^0.5; null when undefined (a zero denominator). */
export function tradeoffScore(ndcg: number, jsd: number, ndcg0: number, jsd0: number): number | null {
  const t = Math.sqrt(ndcg / ndcg0) * Math.sqrt(jsd0 / jsd);
  return Number.isFinite(t) ? t : null;
}

/** Whether the guard rolls back collapsed epochs under this configuration. */
export function collapseGuardOn(cfg: Pick<FinetuneConfig, 'collapse_guard' | 'accuracy_floor'>): boolean {
  return cfg.collapse_guard && cfg.accuracy_floor > 0;
}

/** Whether valid NDCG@k `ndcg` is below the run's accuracy floor (epoch 0's NDCG × `accuracy_floor`). */
export function belowAccuracyFloor(state: FinetuneState, ndcg: number): boolean {
  return ndcg < accuracyFloorNdcg(state.progress.initial.validNdcg, state.config.accuracy_floor);
}

/** How the model is validated between epochs. */
export interface EpochValidator {
  validate: (model: Recommender) => ValidationResult;
  /** Validation and relevance candidates in one scoring pass; given only for relevance candidates. */
  fused?: FusedValidate;
  /** Users per scoring block for relevance candidates. */
  scoreBlockUsers: number;
}

/** What validation found, with the seconds spent on new candidates and on validation. */
interface ValidationTimed {
  val: ValidationResult;
  regenS: number;
  validS: number;
}

/** New candidates of every training user (relevance: by the current scores; random: from the RNG), with labels. */
function makeCandidates(state: FinetuneState, scoreBlockUsers: number): void {
  const { model, users, candidates } = state;
  if (state.config.candidate_selection === 'relevance') {
    relevanceCandidates(model, users, state.picker, scoreBlockUsers, candidates);
  } else randomCandidates(state.rng, users.length, model.nItems, state.width, candidates);
  candidateLabels(state.data.train, users, candidates, state.width, state.labels);
}

/**
 * Validation of the current model and, when `regenerate`, new candidates (+ labels): one
 * scoring pass when the caller supplied the fused validator, else two. Times each part.
 */
function validateAndRegenerate(state: FinetuneState, v: EpochValidator, regenerate: boolean): ValidationTimed {
  const { model, users, candidates } = state;
  if (v.fused && regenerate) {
    const t0 = performance.now();
    const f = v.fused(model, { users, picker: state.picker, out: candidates });
    candidateLabels(state.data.train, users, candidates, state.width, state.labels);
    const all = (performance.now() - t0) / 1000;
    return { val: f.result, regenS: f.regenS, validS: Math.max(0, all - f.regenS) };
  }
  const tRegen = performance.now();
  if (regenerate) makeCandidates(state, v.scoreBlockUsers);
  const regenS = (performance.now() - tRegen) / 1000;
  const tValid = performance.now();
  const val = v.validate(model);
  return { val, regenS, validS: (performance.now() - tValid) / 1000 };
}

/** Epoch 0: the first candidates and the backbone's validation, which the trade-off compares against. */
export function validateBeforeFinetuning(state: FinetuneState, v: EpochValidator): EpochLogRecord {
  const { val: v0, validS, regenS } = validateAndRegenerate(state, v, true);
  state.progress.initial = { validNdcg: v0.validNdcg, jsd: v0.jsd };
  return {
    epoch: 0,
    lr: state.optimizer.lr,
    acc_loss: null,
    cal_loss: null,
    valid_ndcg: v0.validNdcg,
    jsd: v0.jsd,
    tradeoff: tradeoffScore(v0.validNdcg, v0.jsd, v0.validNdcg, v0.jsd),
    improved: [],
    checkpoint: false,
    train_s: 0,
    regen_s: regenS,
    valid_s: validS,
  };
}

/** The metrics `target_metric` counts that beat their running best (which they replace). */
function improvedMetrics(state: FinetuneState, val: ValidationResult, trade: number | null): string[] {
  const tm = state.config.target_metric;
  const best = state.progress.best;
  const improved: string[] = [];
  if ((tm === 'ndcg' || tm === 'any') && val.validNdcg > best.ndcg) {
    best.ndcg = val.validNdcg;
    improved.push('ndcg');
  }
  if ((tm === 'pop_jsd' || tm === 'any') && val.jsd < best.jsd) {
    best.jsd = val.jsd;
    improved.push('pop_jsd');
  }
  if ((tm === 'tradeoff' || tm === 'any') && trade !== null && trade > best.tradeoff) {
    best.tradeoff = trade;
    improved.push('tradeoff');
  }
  return improved;
}

/**
 * Once `model_save_interval` improvements have accumulated, hands a copy of the trainable
 * tensors, the metrics and the lists to the sink and restarts the count; true if it did hand over.
 */
function handOverCheckpoint(
  state: FinetuneState,
  epoch: number,
  val: ValidationResult,
  trade: number | null,
  sink: ImprovementSink | undefined,
): boolean {
  const cfg = state.config,
    st = state.progress;
  if (!(cfg.model_save_interval > 0 && st.improvementCounter >= cfg.model_save_interval)) return false;
  let saved = false;
  if (sink) {
    const tensors: NamedTensor[] = state.params.map((p) => ({
      name: p.name,
      shape: [...p.shape],
      data: p.value.slice(),
    }));
    sink.onImprovement(
      epoch,
      tensors,
      { epoch, validNdcg: val.validNdcg, jsd: val.jsd, tradeoff: trade ?? NaN },
      { valid: val.validLists, test: val.testLists, k: cfg.top_k_ndcg },
    );
    saved = true;
  }
  st.improvementCounter = 0;
  return saved;
}

/** Records `epoch` as finished and sets the stop reason when a stop rule fires. */
function applyStopRules(state: FinetuneState, epoch: number, val: ValidationResult): void {
  const st = state.progress;
  const identical = Math.abs(val.validNdcg - st.last.validNdcg) < 1e-6 && Math.abs(val.jsd - st.last.jsd) < 1e-6;
  if (identical) st.identicalCounter++;
  else st.identicalCounter = 0;
  st.last = { validNdcg: val.validNdcg, jsd: val.jsd };
  st.epoch = epoch;
  if (st.identicalCounter >= 3) st.stopReason = 'identical_metrics';
  else applyPatienceAndLimit(state, epoch);
}

/** The stop rules after the identical-metrics one: patience without improvement, then `num_epochs`. */
export function applyPatienceAndLimit(state: FinetuneState, epoch: number): void {
  const st = state.progress,
    cfg = state.config;
  if (epoch - st.lastImprovementEpoch >= cfg.early_stopping_patience) st.stopReason = 'early_stopping';
  else if (epoch >= cfg.num_epochs) st.stopReason = 'max_epochs';
}

/** What the training part of an epoch contributes to its log record. */
export interface TrainedEpoch {
  epoch: number;
  /** The learning rate the epoch trained with. */
  lr: number;
  losses: EpochLosses;
  trainS: number;
}

/**
 * Validation and selection after the training of `t.epoch`: candidates, metrics, improvements,
 * checkpoint, stop rules. Advances the progress to the epoch and returns its log record.
 */
export function validateAndSelect(
  state: FinetuneState,
  v: EpochValidator,
  t: TrainedEpoch,
  sink: ImprovementSink | undefined,
): EpochLogRecord {
  const { epoch, losses } = t;
  const st = state.progress,
    alpha = state.alpha;
  const { val, regenS, validS } = validateAndRegenerate(state, v, state.config.regenerate_candidates);
  const trade = tradeoffScore(val.validNdcg, val.jsd, st.initial.validNdcg, st.initial.jsd);
  // A collapsed epoch under the guard changes no running best and leaves no checkpoint: the
  // fine-tuner rolls it back (src/calibration/collapse-guard.ts).
  const collapsed = collapseGuardOn(state.config) && belowAccuracyFloor(state, val.validNdcg);
  const improved = collapsed ? [] : improvedMetrics(state, val, trade);
  if (improved.length) {
    st.lastImprovementEpoch = epoch;
    st.improvementCounter += improved.length;
  }
  const saved = !collapsed && handOverCheckpoint(state, epoch, val, trade, sink);
  applyStopRules(state, epoch, val);
  const rec: EpochLogRecord = {
    epoch,
    lr: t.lr,
    acc_loss: alpha < 1 ? losses.accSum / losses.nBatches : null,
    cal_loss: alpha > 0 ? losses.calSum / losses.nBatches : null,
    valid_ndcg: val.validNdcg,
    jsd: val.jsd,
    tradeoff: trade,
    improved,
    checkpoint: saved,
    train_s: t.trainS,
    regen_s: regenS,
    valid_s: validS,
  };
  if (collapsed) rec.rolled_back = true;
  return rec;
}
