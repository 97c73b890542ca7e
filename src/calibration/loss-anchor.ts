/**
 * The anchor term: an accuracy term tied to the frozen backbone instead of the model's own
 * moving candidates (an extension of docs/numeric-contract.md §9, off unless `anchor_weight` > 0).
 *
 * Over a batch of B users × K candidates with current scores s and backbone scores s⁰ of the same
 * candidates, p⁰ = softmax(s⁰) and p = softmax(s) per row:
 *   anchor = (1/B) Σ_b Σ_c p⁰_c (log p⁰_c − log p_c);   ∂anchor/∂s_c = (p_c − p⁰_c) / B.
 * It is the KL of the model's candidate distribution from the backbone's: zero while the model
 * ranks the candidates as the backbone does, growing as calibration pushes the scores away. It
 * holds accuracy where the listwise accuracy term cannot: that term is anchored to the model's own
 * top-K, which drifts along with the model.
 *
 * All arithmetic is float64. A non-finite score in a row makes the value NaN.
 */
import { logSumExp } from '../math/log-sum-exp.js';

/** One batch of the anchor term: B × K current scores and the backbone's scores of the same candidates. */
export interface AnchorBatch {
  readonly B: number;
  readonly K: number;
  /** B×K current model scores, row-major. */
  readonly scores: Float32Array | Float64Array;
  /** B×K scores the backbone (before fine-tuning) gives the same candidates. */
  readonly baseScores: Float32Array | Float64Array;
}

/** The anchor KL of the batch (batch mean). */
export function anchorLoss(batch: AnchorBatch): number {
  const { B, K, scores, baseScores } = batch;
  let total = 0;
  for (let b = 0; b < B; b++) {
    const off = b * K;
    const lz = logSumExp(scores, off, K);
    const lz0 = logSumExp(baseScores, off, K);
    if (Number.isNaN(lz) || Number.isNaN(lz0)) return NaN;
    let kl = 0;
    for (let c = 0; c < K; c++) {
      const lp0 = baseScores[off + c]! - lz0;
      kl += Math.exp(lp0) * (lp0 - (scores[off + c]! - lz));
    }
    total += kl;
  }
  return total / B;
}

/** Adds `weight` · ∂anchor/∂scores to `grad` (B×K); anchor as in {@link anchorLoss}. */
export function addAnchorGradient(batch: AnchorBatch, weight: number, grad: Float32Array | Float64Array): void {
  const { B, K, scores, baseScores } = batch;
  const scale = weight / B;
  for (let b = 0; b < B; b++) {
    const off = b * K;
    const lz = logSumExp(scores, off, K);
    const lz0 = logSumExp(baseScores, off, K);
    for (let c = 0; c < K; c++) {
      const p = Math.exp(scores[off + c]! - lz);
      const p0 = Math.exp(baseScores[off + c]! - lz0);
      grad[off + c] = grad[off + c]! + scale * (p - p0);
    }
  }
}
