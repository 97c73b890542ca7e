/**
 * The CaliTune loss (src/calibration/loss.ts, docs/numeric-contract.md §9) with the optional
 * terms for strong calibration: the soft top-k calibration surrogate (loss-soft-topk.ts) in
 * place of the min-max one, and the anchor to the frozen backbone (loss-anchor.ts):
 *   total = (1 − α)·accuracy + α·calibration + anchor_weight·anchor.
 * With both options off the fine-tuner keeps using {@link CaliTuneLoss} itself, so default runs
 * do not pass through this module at all.
 */
import type { Recommender } from '../models/recommender.js';
import { addAnchorGradient, anchorLoss } from './loss-anchor.js';
import { SoftTopkCalibration } from './loss-soft-topk.js';
import { CaliTuneLoss, type CaliTuneBatch, type CaliTuneLossValue } from './loss.js';
import type { FinetuneConfig } from './finetune-config.js';

/** The configuration keys of the optional terms (`calibration_candidates` left out: 'all'). */
export type ExtendedLossConfig = Pick<
  FinetuneConfig,
  'calibration_surrogate' | 'soft_topk_temperature' | 'anchor_weight' | 'top_k_ndcg' | 'calibration_user_weighting'
> &
  Partial<Pick<FinetuneConfig, 'calibration_candidates'>>;

/** Whether the configuration turns on any optional term (otherwise the plain CaliTune loss is used). */
export function usesExtendedLoss(c: ExtendedLossConfig): boolean {
  return c.calibration_surrogate !== 'minmax' || c.anchor_weight > 0 || c.calibration_user_weighting !== 'uniform';
}

/**
 * The backbone's scores of every item for every user (nUsers × nItems), taken before the first
 * update: the anchor term looks its candidates' base scores up here. Undefined when the anchor is off.
 */
export function anchorScoreTable(model: Recommender, c: ExtendedLossConfig): Float32Array | undefined {
  if (!(c.anchor_weight > 0)) return undefined;
  const users = Int32Array.from({ length: model.nUsers }, (_, u) => u);
  return Float32Array.from(model.scoreAll(users));
}

/** A batch of the extended loss: the CaliTune batch plus the users and candidate items it scores. */
export interface ExtendedBatch extends CaliTuneBatch {
  /** The B users of the batch. */
  readonly users: Int32Array;
  /** B×K candidate items. */
  readonly candidates: Int32Array;
}

/** The CaliTune loss with the optional terms; same forward / backward contract as {@link CaliTuneLoss}. */
export class ExtendedCaliTuneLoss {
  private readonly base = new CaliTuneLoss();
  private readonly soft = new SoftTopkCalibration();
  private baseScores = new Float64Array(0);
  private rowWeights: Float64Array | undefined;
  private last: ExtendedBatch | undefined;
  private accComputed = false;

  /** `table` is {@link anchorScoreTable}'s (nItems columns), required when the anchor is on. */
  constructor(
    private readonly cfg: ExtendedLossConfig,
    private readonly table?: Float32Array,
    private readonly nItems = 0,
  ) {
    if (cfg.anchor_weight > 0 && (!table || nItems <= 0))
      throw new Error('ExtendedCaliTuneLoss: the anchor needs the backbone score table');
  }

  private get softOn(): boolean {
    return this.cfg.calibration_surrogate === 'soft_topk';
  }

  /** The loss of `batch`, remembered for the next {@link ExtendedCaliTuneLoss.backward}. */
  forward(batch: ExtendedBatch): CaliTuneLossValue {
    this.last = batch;
    const { alpha } = batch;
    if (!this.softOn) {
      const v = this.base.forward(batch);
      this.accComputed = v.accuracyComputed;
      return this.addAnchor(batch, v);
    }
    // the accuracy term alone (weight 1; rescaled below), the calibration term from the surrogate
    const acc = this.base.forward({ ...batch, alpha: 0, skipAccuracy: batch.skipAccuracy || alpha === 1 });
    this.accComputed = acc.accuracyComputed;
    const calOn = alpha > 0;
    this.rowWeights =
      calOn && this.cfg.calibration_user_weighting === 'miscalibration' ? this.userWeights(batch) : undefined;
    const cal = calOn ? this.soft.forward(this.softBatch(batch)) : 0;
    const total = (acc.accuracyComputed ? (1 - alpha) * acc.accuracy : 0) + (calOn ? alpha * cal : 0);
    const v: CaliTuneLossValue = {
      accuracy: acc.accuracy,
      calibration: cal,
      total,
      accuracyComputed: acc.accuracyComputed,
      calibrationComputed: calOn,
    };
    return this.addAnchor(batch, v);
  }

  /** d(total)/d(scores) for the last forward batch, written (not added) to `out` (B×K). */
  backward(out?: Float32Array): Float32Array {
    const batch = this.last;
    if (!batch) throw new Error('ExtendedCaliTuneLoss.backward called before forward');
    const n = batch.B * batch.K;
    const res = this.base.backward(out);
    if (this.softOn) {
      const keep = this.accComputed ? 1 - batch.alpha : 0;
      for (let i = 0; i < n; i++) res[i] = res[i]! * keep;
      if (batch.alpha > 0) this.soft.addGradient(this.softBatch(batch), batch.alpha, res);
    }
    if (this.cfg.anchor_weight > 0) addAnchorGradient(this.anchorBatch(batch), this.cfg.anchor_weight, res);
    return res;
  }

  private softBatch(batch: ExtendedBatch) {
    const { B, K, G, scores, groups, targets } = batch;
    const { top_k_ndcg: topK, soft_topk_temperature: temperature } = this.cfg;
    // unseen candidates only: the user's train items leave the soft top-k altogether
    const excluded = this.cfg.calibration_candidates === 'unseen' ? batch.positives : undefined;
    return { B, K, G, scores, groups, targets, topK, temperature, rowWeights: this.rowWeights, excluded };
  }

  /** Per-user strength: each user's soft top-k KL over the batch mean (all 1 when the mean is 0). */
  private userWeights(batch: ExtendedBatch): Float64Array {
    const w = new Float64Array(batch.B);
    this.soft.rowValues({ ...this.softBatch(batch), rowWeights: undefined }, w);
    let mean = 0;
    for (let b = 0; b < batch.B; b++) mean += w[b]! / batch.B;
    for (let b = 0; b < batch.B; b++) w[b] = mean > 0 ? w[b]! / mean : 1;
    return w;
  }

  /** The batch's base scores gathered from the table (once per forward). */
  private anchorBatch(batch: ExtendedBatch) {
    const { B, K, scores } = batch;
    return { B, K, scores, baseScores: this.baseScores.subarray(0, B * K) };
  }

  private addAnchor(batch: ExtendedBatch, v: CaliTuneLossValue): CaliTuneLossValue {
    if (!(this.cfg.anchor_weight > 0)) return v;
    const { B, K, users, candidates } = batch;
    if (this.baseScores.length < B * K) this.baseScores = new Float64Array(B * K);
    const table = this.table!;
    for (let b = 0; b < B; b++) {
      const row = users[b]! * this.nItems;
      for (let c = 0; c < K; c++) this.baseScores[b * K + c] = table[row + candidates[b * K + c]!]!;
    }
    const anchor = anchorLoss(this.anchorBatch(batch));
    return { ...v, total: v.total + this.cfg.anchor_weight * anchor };
  }
}
