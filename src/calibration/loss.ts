/**
 * The CaliTune loss (docs/numeric-contract.md §9) over a batch of B users × K candidate items
 * with model scores s.
 *
 * Accuracy term (PyTorch `kl_div(log_softmax(s), softmax(y), reduction='batchmean')`):
 *   t = softmax(y), y_c = 1 if candidate c is a train positive else 0;
 *   acc = (1/B) Σ_b Σ_c t_c (log t_c − log_softmax(s)_c);   ∂acc/∂s_c = (softmax(s)_c − t_c) / B.
 *
 * Calibration term (PyTorch `kl_div(log(Q + ε), P + ε, reduction='batchmean')`, ε = 1e-10):
 *   u_c = s_c − min s;  r_c = u_c / max u;  w_g = Σ_c r_c·[group(c) = g];  Q = w / Σ_g w;
 *   cal = (1/B) Σ_b Σ_g (P_g + ε)(log(P_g + ε) − log(Q_g + ε)).
 *
 * total = (1 − α)·acc + α·cal. With α = 0 the calibration term is not computed (reported as 0),
 * with α = 1 the accuracy term is not (reported as 0) — as the reference does.
 *
 * Gradient of min / max: like PyTorch's `min(dim)` / `max(dim)`, the gradient goes to a single
 * index, the first occurrence of the minimum / maximum. Since r(argmin) ≡ 0 and r(argmax) ≡ 1,
 * their own r-contributions cancel exactly; we drop them analytically instead of letting them
 * cancel numerically (in float32 PyTorch the cancellation of a huge 1/(Q_g+ε) term leaves noise
 * of order 1e9·2⁻²⁴ in the argmin's gradient when its group has zero weight; ours is exact).
 *
 * Edge cases (PyTorch's behaviour → ours, documented and tested):
 * - All K scores of a user equal (max u = 0, also K = 1): PyTorch computes 0/0 = NaN for every
 *   r, the loss and every gradient become NaN. Ours: r is uniform (r_c = 1), so Q_g is the
 *   share of candidates in group g, and the calibration term contributes zero gradient for
 *   that user (a flat row carries no direction; any tilt would be arbitrary).
 * - A group with zero weight (no candidate in it, or only the minimum candidate): Q_g = 0,
 *   log(Q_g + ε) = log 1e-10 is finite; like PyTorch, the gradient w.r.t. the weights is large
 *   (−(P_g+ε)/ε) but finite. A group without candidates gets no gradient (nothing to move).
 * - Σ_g w_g = 0 with max u > 0 (only possible if candidates lack a group, group index < 0):
 *   PyTorch gives NaN. Ours: Q = 0 for every group, the term is the constant
 *   Σ_g (P_g+ε) log((P_g+ε)/ε) with zero gradient.
 * - A non-finite score in a row: the loss is NaN (the fine-tuner stops with an error).
 *
 * Candidates with group index < 0 or ≥ G belong to no group (count in no w_g).
 * All arithmetic is float64; scores may be Float32Array or Float64Array.
 */
import { logSumExp } from '../math/log-sum-exp.js';

/** The smoothing ε of the calibration term's shares and targets (docs/numeric-contract.md §9). */
export const CALIBRATION_EPS = 1e-10;

/**
 * KL(target ‖ group shares) of one user's candidate weights per popularity group: `w[g] / S` against
 * `targets[tOff + g]`, both smoothed by CALIBRATION_EPS (docs/numeric-contract.md §9); shares are 0 when
 * S is not positive. The one definition every calibration term (reference, soft top-k) evaluates.
 */
export function groupCalibrationKl(
  w: ArrayLike<number>,
  S: number,
  targets: ArrayLike<number>,
  tOff: number,
  G: number,
): number {
  let kl = 0;
  for (let g = 0; g < G; g++) {
    const p = targets[tOff + g]! + CALIBRATION_EPS;
    const q = (S > 0 ? w[g]! / S : 0) + CALIBRATION_EPS;
    kl += p * (Math.log(p) - Math.log(q));
  }
  return kl;
}

/** One batch of the CaliTune loss: B users × K candidates with scores, positives, groups and targets P. */
export interface CaliTuneBatch {
  /** Users in the batch. */
  readonly B: number;
  /** Candidates per user. */
  readonly K: number;
  /** Number of popularity groups. */
  readonly G: number;
  /** B×K model scores, row-major. */
  readonly scores: Float32Array | Float64Array;
  /** B×K: 1 if the candidate is a train positive of the user, else 0. */
  readonly positives: Uint8Array;
  /** B×K: popularity group of each candidate (−1 = none). */
  readonly groups: Int32Array;
  /** B×G target distribution P per user. */
  readonly targets: Float64Array | Float32Array;
  /** Weight of the calibration term, in [0, 1]. */
  readonly alpha: number;
  /**
   * Leave out the listwise accuracy term (its value is reported as not computed): the model
   * supplies its own accuracy loss (Recommender.nativeAccuracyLoss, e.g. MultiVAE), which the
   * fine-tuner adds with weight 1 − α. The calibration term keeps its weight α.
   */
  readonly skipAccuracy?: boolean;
}

/** The loss of a batch: both terms (batch means) and their α-weighted total. */
export interface CaliTuneLossValue {
  /** Accuracy KL (batchmean); 0 when α = 1 (not computed). */
  accuracy: number;
  /** Calibration KL (batchmean); 0 when α = 0 (not computed). */
  calibration: number;
  /** (1 − α)·accuracy + α·calibration. */
  total: number;
  accuracyComputed: boolean;
  calibrationComputed: boolean;
}

function checkBatch(b: CaliTuneBatch): void {
  const { B, K, G } = b;
  if (!(Number.isInteger(B) && B >= 1 && Number.isInteger(K) && K >= 1 && Number.isInteger(G) && G >= 1)) {
    throw new RangeError(`CaliTune loss: invalid shape B=${B} K=${K} G=${G}`);
  }
  if (b.scores.length < B * K || b.positives.length < B * K || b.groups.length < B * K) {
    throw new RangeError(`CaliTune loss: scores/positives/groups must hold B×K = ${B * K} values`);
  }
  if (b.targets.length < B * G) throw new RangeError(`CaliTune loss: targets must hold B×G = ${B * G} values`);
  if (!(b.alpha >= 0 && b.alpha <= 1)) throw new RangeError(`CaliTune loss: alpha ${b.alpha} outside [0, 1]`);
}

/**
 * Loss with reusable float64 scratch buffers. `forward` computes the value; `backward` (after a
 * forward on the same batch object) writes d(total)/d(scores) into a B×K buffer.
 */
export class CaliTuneLoss {
  private w = new Float64Array(0);
  private a = new Float64Array(0);
  /** Per row of the last forward batch: log Σ exp(scores) of the accuracy term (NaN: a non-finite score). */
  private logZs = new Float64Array(0);
  private last: CaliTuneBatch | undefined;

  private ensure(G: number): void {
    if (this.w.length < G) {
      this.w = new Float64Array(G);
      this.a = new Float64Array(G);
    }
  }

  /** The loss of `batch`, remembered for the next {@link CaliTuneLoss.backward}. */
  forward(batch: CaliTuneBatch): CaliTuneLossValue {
    checkBatch(batch);
    this.ensure(batch.G);
    if (this.logZs.length < batch.B) this.logZs = new Float64Array(batch.B);
    this.last = batch;
    const useAcc = batch.alpha < 1 && !batch.skipAccuracy;
    const useCal = batch.alpha > 0;
    let acc = 0;
    let cal = 0;
    for (let b = 0; b < batch.B; b++) {
      if (useAcc) acc += this.accuracyRow(batch, b, undefined, 0);
      if (useCal) cal += this.calibrationRow(batch, b, undefined, 0);
    }
    acc /= batch.B;
    cal /= batch.B;
    const total = (useAcc ? (1 - batch.alpha) * acc : 0) + (useCal ? batch.alpha * cal : 0);
    return { accuracy: acc, calibration: cal, total, accuracyComputed: useAcc, calibrationComputed: useCal };
  }

  /** d(total)/d(scores) for the last forward batch, written (not added) to `out` (B×K). */
  backward(out?: Float32Array): Float32Array {
    const batch = this.last;
    if (!batch) throw new Error('CaliTuneLoss.backward called before forward');
    const { B, K } = batch;
    const res = out ?? new Float32Array(B * K);
    if (res.length < B * K) throw new RangeError('CaliTuneLoss.backward: output buffer too small');
    res.fill(0, 0, B * K);
    const useAcc = batch.alpha < 1 && !batch.skipAccuracy;
    const useCal = batch.alpha > 0;
    for (let b = 0; b < B; b++) {
      if (useAcc) this.accuracyRow(batch, b, res, (1 - batch.alpha) / B);
      if (useCal) this.calibrationRow(batch, b, res, batch.alpha / B);
    }
    return res;
  }

  /**
   * Row b's accuracy KL; when `grad` is given, adds scale·∂/∂s to grad's row instead, reusing
   * the row's log-normaliser from the forward pass (the same scores, so the same value).
   */
  private accuracyRow(batch: CaliTuneBatch, b: number, grad: Float32Array | undefined, scale: number): number {
    const { K, scores, positives } = batch;
    const off = b * K;
    let nPos = 0;
    for (let c = 0; c < K; c++) if (positives[off + c]) nPos++;
    // t = softmax(y): e/Z for positives, 1/Z for the rest, Z = nPos·e + (K − nPos): two values,
    // so no exp per candidate for t.
    const logZt = Math.log(nPos * Math.E + (K - nPos));
    const logTPos = 1 - logZt,
      logTNeg = -logZt;
    const tPos = Math.exp(logTPos),
      tNeg = Math.exp(logTNeg);
    if (grad) {
      const logZs = this.logZs[b]!;
      if (Number.isNaN(logZs)) return NaN;
      for (let c = 0; c < K; c++) {
        const p = Math.exp(scores[off + c]! - logZs);
        grad[off + c] = grad[off + c]! + scale * (p - (positives[off + c] ? tPos : tNeg));
      }
      return 0;
    }
    const logZs = logSumExp(scores, off, K);
    this.logZs[b] = logZs;
    if (Number.isNaN(logZs)) return NaN;
    let kl = 0;
    for (let c = 0; c < K; c++) {
      const pos = positives[off + c];
      kl += (pos ? tPos : tNeg) * ((pos ? logTPos : logTNeg) - (scores[off + c]! - logZs));
    }
    return kl;
  }

  /** Row b's calibration KL; when `grad` is given, adds scale·∂/∂s to grad's row instead. */
  private calibrationRow(batch: CaliTuneBatch, b: number, grad: Float32Array | undefined, scale: number): number {
    const { K, G, scores, groups, targets } = batch;
    const off = b * K;
    const w = this.w;
    const a = this.a;
    let mn = Infinity,
      mx = -Infinity,
      iMin = 0,
      iMax = 0;
    for (let c = 0; c < K; c++) {
      const s = scores[off + c]!;
      if (!Number.isFinite(s)) return NaN;
      if (s < mn) {
        mn = s;
        iMin = c;
      }
      if (s > mx) {
        mx = s;
        iMax = c;
      }
    }
    const D = mx - mn;
    const flat = !(D > 0);
    w.fill(0, 0, G);
    for (let c = 0; c < K; c++) {
      const g = groups[off + c]!;
      if (g < 0 || g >= G) continue;
      w[g] = w[g]! + (flat ? 1 : (scores[off + c]! - mn) / D);
    }
    let S = 0;
    for (let g = 0; g < G; g++) S += w[g]!;
    const tOff = b * G;
    if (!grad) return groupCalibrationKl(w, S, targets, tOff, G);
    if (flat || !(S > 0)) return 0; // documented: zero gradient
    // a_g = ∂L/∂Q_g; then ∂L/∂w_g = (a_g − Σ_h a_h Q_h) / S =: a_g (reused buffer).
    let aq = 0;
    for (let g = 0; g < G; g++) {
      const q = w[g]! / S;
      const ag = -(targets[tOff + g]! + CALIBRATION_EPS) / (q + CALIBRATION_EPS);
      a[g] = ag;
      aq += ag * q;
    }
    for (let g = 0; g < G; g++) a[g] = (a[g]! - aq) / S;
    // ∂L/∂r_c = a[group(c)] (0 without a group). r_c = u_c / u_max with u = s − min s.
    // ∂L/∂u_c = ∂L/∂r_c / D for c ≠ iMax; ∂L/∂u_iMax = −Σ_{j≠iMax} ∂L/∂r_j · u_j / D².
    // ∂L/∂s_c = ∂L/∂u_c for c ≠ iMin; ∂L/∂s_iMin = −Σ_{j≠iMin} ∂L/∂u_j (r_iMin ≡ 0).
    let sumRU = 0; // Σ_{j≠iMax} ∂L/∂r_j · u_j
    let sumDu = 0; // Σ_{j≠iMin} ∂L/∂u_j
    for (let c = 0; c < K; c++) {
      if (c === iMax || c === iMin) continue;
      const g = groups[off + c]!;
      const dr = g >= 0 && g < G ? a[g]! : 0;
      const du = dr / D;
      sumRU += dr * (scores[off + c]! - mn);
      sumDu += du;
      grad[off + c] = grad[off + c]! + scale * du;
    }
    // iMin ≠ iMax here (D > 0); u_iMin = 0 contributes nothing to sumRU.
    const duMax = -sumRU / (D * D);
    grad[off + iMax] = grad[off + iMax]! + scale * duMax;
    sumDu += duMax;
    grad[off + iMin] = grad[off + iMin]! - scale * sumDu;
    return 0;
  }
}

/** One-shot convenience: value and d(total)/d(scores). */
export function caliTuneLoss(
  batch: CaliTuneBatch,
  dScores?: Float32Array,
): CaliTuneLossValue & { dScores: Float32Array } {
  const l = new CaliTuneLoss();
  const v = l.forward(batch);
  return { ...v, dScores: l.backward(dScores) };
}
