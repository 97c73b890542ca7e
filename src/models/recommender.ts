/**
 * The one interface every backbone implements (docs/architecture.md, `models`). Trainers, the CaliTune fine-tuner
 * and the evaluation drive models only through it; no caller special-cases a model type.
 */
import type { Csr } from '../math/csr.js';
import type { Parameter } from '../nn/parameter.js';

/** Every model type, the trained backbones first; the one list the CLI, trainers and model files use. */
export const MODEL_TYPES = ['bpr', 'dmf', 'multivae', 'mostpop', 'random'] as const;
/** A model type name: a trained backbone (bpr, dmf, multivae) or a baseline (mostpop, random). */
export type ModelType = (typeof MODEL_TYPES)[number];

/**
 * What every model offers: scoring all items, scoring and backpropagating through candidate lists, its
 * parameters. Ids include padding 0; matrices are row-major Float32Arrays.
 */
export interface Recommender {
  readonly type: ModelType;
  /** Users including padding user 0. */
  readonly nUsers: number;
  /** Items including padding item 0. */
  readonly nItems: number;
  /** Model sizes and options, stored in the model file's sidecar. */
  readonly hyper: Readonly<Record<string, unknown>>;

  /** Scores of every item for each user: users.length × nItems, row-major, written to `out`. */
  scoreAll(users: Int32Array, out?: Float32Array): Float32Array;

  /**
   * Optional, for models whose scoreAll is σ of the candidate path's scores (DMF: σ of its
   * logits): those logits for every item, laid out as scoreAll's, so that scoreAll = σ(this)
   * elementwise. Lets a score offset act on the scale fine-tuning trains on.
   */
  scoreAllLogits?(users: Int32Array, out?: Float32Array): Float32Array;

  /**
   * Scores of K candidate items per user (`candidates` is users.length × K, row-major) in
   * training mode, remembering what `backwardCandidates` needs.
   */
  forwardCandidates(users: Int32Array, candidates: Int32Array, k: number): Float32Array;

  /** Adds d(loss)/d(parameters) for the last forwardCandidates, given d(loss)/d(scores). */
  backwardCandidates(dScores: Float32Array): void;

  /** All tensors, in a stable order (also the save order). */
  parameters(): Parameter[];

  /** Sets every parameter's gradient to zero (item-side ones may be skipped while frozen). */
  zeroGrad(): void;

  /**
   * Optional: freeze (true) or unfreeze the item-side tensors for the candidate path
   * (forwardCandidates / backwardCandidates / zeroGrad). While frozen the model need not
   * compute, accumulate or zero item-side gradients (their grad buffers stay zero), which
   * saves that work when fine-tuning with `freeze_item_emb`. Callers still pass only the
   * non-item-side parameters to the optimizer.
   */
  setItemsFrozen?(frozen: boolean): void;

  /**
   * Optional: models whose inputs are interaction rows (DMF, MultiVAE) take the run's train
   * matrix (nUsers × nItems) here; a saved model file holds weights only. `loadModel` calls it
   * when given the train split, so no caller special-cases a model type.
   */
  attachTrainData?(train: Csr): void;

  /**
   * Optional: the model's own training loss as the accuracy term of CaliTune (MultiVAE: its
   * multinomial likelihood + β·KL on the users' train rows, evaluation mode). Returns the loss
   * value (mean over `users`) and adds `scale` × its gradients to the parameter gradients
   * (item-side ones skipped while frozen). When present, the fine-tuner uses it instead of the
   * listwise KL accuracy term over the candidates; the calibration term is unchanged.
   * Must be called after forwardCandidates/backwardCandidates of the same batch (it may reuse
   * that forward pass).
   */
  nativeAccuracyLoss?(users: Int32Array, opts: { scale: number; grad: boolean }): number;

  /**
   * Optional (CaliTune `user_adapter`, for models without per-user parameters: DMF): adds a
   * zero-initialised per-user offset USER_ADAPTER_TENSOR [nUsers, d] to the user
   * representation and returns it; from then on parameters() includes it (user side), scores
   * include it, and the user-side backbone tensors get no gradients (the adapter is trained in
   * their place). Calling it again returns the same tensor.
   */
  enableUserAdapter?(): Parameter;
}

/** Name of the per-user offset tensor of enableUserAdapter (in checkpoints too). */
export const USER_ADAPTER_TENSOR = 'user_adapter.weight';
