/**
 * The per-epoch bookkeeping shared by the BPR, DMF and MultiVAE trainers: after each epoch's
 * training, validation NDCG@k on the full-sort lists (train masked), early stopping, a
 * snapshot of the best weights, the epoch record and the progress callback; at the end, the
 * best weights restored. A trainer may add its own fields to the epoch record (BPR: the loss
 * sum and the time of each phase).
 */
import type { Csr } from '../math/csr.js';
import type { Recommender } from '../models/recommender.js';
import { snapshotParamsInto } from '../nn/param-snapshot.js';
import { EarlyStopping } from './early-stopping.js';
import { FullSortEvaluator } from './full-sort-eval.js';

/** One epoch's record (every trainer's; a trainer may add fields). */
export interface EpochInfo {
  epoch: number;
  /** Mean over batches of the batch loss. */
  loss: number;
  validNdcg: number;
  seconds: number;
  trainSeconds: number;
  evalSeconds: number;
  improved: boolean;
}

/** Options of every trainer: epoch callback, best-weight restore, a start model, skipping validation. */
export interface TrainOptions<M, X extends object = object> {
  onEpoch?: (e: EpochInfo & X, total: number) => void;
  restoreBest?: boolean;
  /** Start from this model (sizes must match). */
  model?: M;
  /** Skip the per-epoch validation (benchmarks); early stopping is then off. */
  skipValidation?: boolean;
}

/** A trainer's outcome: the model, the epoch history, the best epoch and its weights, and the configuration. */
export interface TrainResult<M, C, X extends object = object> {
  model: M;
  history: (EpochInfo & X)[];
  bestEpoch: number;
  bestValidNdcg: number;
  bestWeights: Record<string, Float32Array>;
  stoppedEarly: boolean;
  epochsRun: number;
  config: C;
  seconds: number;
}

type Trainable = Recommender & {
  snapshot(): Record<string, Float32Array>;
  loadWeights(w: Readonly<Record<string, Float32Array>>): void;
};

type LoopConfig = { patience: number; validK: number; epochs: number };

/** The per-epoch bookkeeping every trainer shares: validation, early stopping, best weights, records. */
export class EpochLoop<M extends Trainable, C extends LoopConfig, X extends object = object> {
  readonly history: (EpochInfo & X)[] = [];
  private readonly stopper: EarlyStopping;
  private readonly evaluator = new FullSortEvaluator();
  private bestWeights: Record<string, Float32Array>;
  private stoppedEarly = false;
  private readonly t0 = performance.now();

  constructor(
    private readonly model: M,
    private readonly data: { train: Csr; valid: Csr },
    private readonly cfg: C,
    private readonly opts: TrainOptions<M, X>,
  ) {
    this.stopper = new EarlyStopping(cfg.patience);
    this.bestWeights = model.snapshot();
  }

  /**
   * Ends epoch `epoch` (0-based) whose training started at `e0` (performance.now()) and just
   * finished with mean batch loss `loss`; `extra` joins the epoch record. Returns true when
   * early stopping ends the run.
   */
  endEpoch(epoch: number, e0: number, loss: number, ...extra: object extends X ? [] : [X]): boolean {
    const { model, cfg, opts } = this;
    const e1 = performance.now();
    let validNdcg = NaN,
      improved = false,
      stop = false;
    if (!opts.skipValidation) {
      validNdcg = this.evaluator.evaluate(model, {
        mask: [this.data.train],
        target: this.data.valid,
        k: cfg.validK,
        skipEmpty: true,
      }).ndcg;
      ({ improved, stop } = this.stopper.update(validNdcg, epoch));
      if (improved) this.snapshotBest();
    }
    const e2 = performance.now();
    const info = {
      epoch,
      loss,
      validNdcg,
      seconds: (e2 - e0) / 1000,
      trainSeconds: (e1 - e0) / 1000,
      evalSeconds: (e2 - e1) / 1000,
      improved,
      ...extra[0],
    } as EpochInfo & X;
    this.history.push(info);
    opts.onEpoch?.(info, cfg.epochs);
    if (stop) this.stoppedEarly = true;
    return stop;
  }

  /**
   * Copies the live weights into the best-weights arrays (they never alias the live tensors and
   * are not handed out before finish), or takes a fresh snapshot when the layouts differ.
   */
  private snapshotBest(): void {
    if (!snapshotParamsInto(this.model.parameters(), this.bestWeights)) this.bestWeights = this.model.snapshot();
  }

  /** The result; restores the best weights unless told not to (or validation was skipped). */
  finish(): TrainResult<M, C, X> {
    const { model, opts } = this;
    if (opts.skipValidation) this.bestWeights = model.snapshot();
    if ((opts.restoreBest ?? true) && !opts.skipValidation) model.loadWeights(this.bestWeights);
    return {
      model,
      history: this.history,
      bestEpoch: this.stopper.bestStep,
      bestValidNdcg: this.stopper.best,
      bestWeights: this.bestWeights,
      stoppedEarly: this.stoppedEarly,
      epochsRun: this.history.length,
      config: this.cfg,
      seconds: (performance.now() - this.t0) / 1000,
    };
  }
}
