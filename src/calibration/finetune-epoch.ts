/**
 * One training epoch of the fine-tuning (docs/numeric-contract.md §10): shuffle the training
 * users with the seeded RNG; per batch of `train_batch_size` users, the scores of their
 * candidates → CaliTune loss (§9) → gradients → one RAdam step over the trainable tensors; then
 * the optimizer's lagging rows are brought up to date and the learning-rate schedule steps.
 *
 * A model with its own accuracy loss (the optional Recommender.nativeAccuracyLoss, e.g.
 * MultiVAE's CE + β·KL) gets it as the accuracy term in place of the listwise KL over the
 * candidates, weighted 1 − α; the calibration term is unchanged.
 */
import { UserError } from '../util/errors.js';
import { CaliTuneLoss, type CaliTuneLossValue } from './loss.js';
import { ExtendedCaliTuneLoss, usesExtendedLoss } from './loss-extended.js';
import type { ImprovementSink } from './checkpoints.js';
import type { FinetuneState } from './finetune-state.js';

/** Buffers of one batch, sized for the largest one and reused across batches and epochs. */
export interface BatchBuffers {
  readonly users: Int32Array;
  /** B × width candidate items, their train labels and popularity groups. */
  readonly candidates: Int32Array;
  readonly positives: Uint8Array;
  readonly groups: Int32Array;
  /** B × nGroups target distributions. */
  readonly targets: Float64Array;
  /** d(loss)/d(scores), B × width. */
  readonly dScores: Float32Array;
  /** The CaliTune loss, or with any optional term configured the extended one. */
  readonly loss: CaliTuneLoss | ExtendedCaliTuneLoss;
}

/**
 * The batch buffers for `state`'s batch size, candidate width and groups. `anchorTable` is the
 * backbone's score table (anchorScoreTable) when the anchor term is on.
 */
export function createBatchBuffers(state: FinetuneState, anchorTable?: Float32Array): BatchBuffers {
  const maxB = Math.min(state.config.train_batch_size, state.users.length);
  const K = state.width,
    G = state.data.nGroups;
  return {
    users: new Int32Array(maxB),
    candidates: new Int32Array(maxB * K),
    positives: new Uint8Array(maxB * K),
    groups: new Int32Array(maxB * K),
    targets: new Float64Array(maxB * G),
    dScores: new Float32Array(maxB * K),
    loss: usesExtendedLoss(state.config)
      ? new ExtendedCaliTuneLoss(state.config, anchorTable, state.model.nItems)
      : new CaliTuneLoss(),
  };
}

/** Sums of the batch losses of an epoch (their means are the epoch log's loss terms). */
export interface EpochLosses {
  accSum: number;
  calSum: number;
  nBatches: number;
}

/** Copies the users at perm[start .. start+B) with their candidates, labels, groups and targets. */
function fillBatch(state: FinetuneState, buf: BatchBuffers, perm: ArrayLike<number>, start: number, B: number): void {
  const { users, candidates, labels, data, width: K } = state;
  const G = data.nGroups;
  // with calibration_candidates 'unseen', train items count in no group of the calibration term
  const unseenOnly = state.config.calibration_candidates === 'unseen';
  for (let b = 0; b < B; b++) {
    const row = perm[start + b]!;
    const u = users[row]!;
    buf.users[b] = u;
    for (let c = 0; c < K; c++) {
      const item = candidates[row * K + c]!;
      const positive = labels[row * K + c]!;
      buf.candidates[b * K + c] = item;
      buf.positives[b * K + c] = positive;
      buf.groups[b * K + c] = unseenOnly && positive ? -1 : data.itemGroups[item]!;
    }
    for (let g = 0; g < G; g++) buf.targets[b * G + g] = data.userTargets[u * G + g]!;
  }
}

/**
 * Forward pass and loss of the first B users of the batch. With `ownAccuracy` the model's own
 * accuracy loss replaces the listwise one; it writes its (1 − α)-scaled gradients right away,
 * but they reach the weights only through the optimizer step, after the finiteness check.
 */
function batchLoss(state: FinetuneState, buf: BatchBuffers, B: number, ownAccuracy: boolean): CaliTuneLossValue {
  const { model, alpha, width: K } = state;
  const G = state.data.nGroups;
  const scores = model.forwardCandidates(buf.users.subarray(0, B), buf.candidates.subarray(0, B * K), K);
  const v = buf.loss.forward({
    users: buf.users.subarray(0, B),
    candidates: buf.candidates.subarray(0, B * K),
    B,
    K,
    G,
    scores,
    positives: buf.positives.subarray(0, B * K),
    groups: buf.groups.subarray(0, B * K),
    targets: buf.targets.subarray(0, B * G),
    alpha,
    skipAccuracy: ownAccuracy,
  });
  if (ownAccuracy) {
    v.accuracy = model.nativeAccuracyLoss!(buf.users.subarray(0, B), { scale: 1 - alpha, grad: true });
    v.total += (1 - alpha) * v.accuracy;
  }
  return v;
}

/** The error of a non-finite loss: nothing was updated; names the last good checkpoint and resume state. */
function divergedError(epoch: number, v: CaliTuneLossValue, state: FinetuneState, sink?: ImprovementSink): UserError {
  const ck = sink?.epochs?.() ?? [];
  const lastGood = ck.length ? `epoch ${ck[ck.length - 1]}` : 'none';
  return new UserError(
    `fine-tuning diverged in epoch ${epoch}: the loss is ${v.total} (accuracy ${v.accuracy}, ` +
      `calibration ${v.calibration}); stopped before the update. The last good checkpoint is ${lastGood} ` +
      `and the resume state is at epoch ${state.progress.epoch}. Try a lower learning_rate.`,
  );
}

/**
 * Trains epoch `epoch` over all batches and steps the schedule; returns the loss sums.
 * UserError (before any update of the batch) when a loss is not finite.
 */
export function trainEpoch(
  state: FinetuneState,
  buf: BatchBuffers,
  epoch: number,
  sink?: ImprovementSink,
): EpochLosses {
  const { model, config: cfg, optimizer, params, rowHints, alpha, width: K } = state;
  const nTrain = state.users.length;
  // A model with its own accuracy loss (MultiVAE) replaces the listwise accuracy term.
  const ownAccuracy = typeof model.nativeAccuracyLoss === 'function' && alpha < 1;
  const perm = state.rng.permutation(nTrain);
  let accSum = 0,
    calSum = 0,
    nBatches = 0;
  for (let start = 0; start < nTrain; start += cfg.train_batch_size) {
    const B = Math.min(cfg.train_batch_size, nTrain - start);
    fillBatch(state, buf, perm, start, B);
    if (!state.gradsSelfZeroing || nBatches === 0) model.zeroGrad();
    const v = batchLoss(state, buf, B, ownAccuracy);
    if (!Number.isFinite(v.total)) throw divergedError(epoch, v, state, sink);
    accSum += v.accuracy;
    calSum += v.calibration;
    nBatches++;
    if (alpha > 0 || !ownAccuracy || buf.loss instanceof ExtendedCaliTuneLoss) {
      buf.loss.backward(buf.dScores);
      model.backwardCandidates(buf.dScores.subarray(0, B * K));
    }
    optimizer.step(rowHints ? params.map((p) => rowHints.candidateGradRows(p.name)) : undefined);
  }
  optimizer.flush();
  if (cfg.schedule_lr) state.schedule.step();
  return { accSum, calSum, nBatches };
}
