/**
 * The soft top-k calibration term: the calibration KL of docs/numeric-contract.md §9 taken over a
 * smooth top-k membership instead of the min-max weights of all K candidates (an extension, on
 * with `calibration_surrogate: soft_topk`). The measured JSD@k looks at the hard top-k; the
 * reference's weights r_c = (s_c − min s)/(max s − min s) give the K − k candidates below the list
 * most of the weight, so the term can be satisfied by moving scores that never reach the list.
 *
 * Per row, with s_(i) the i-th largest candidate score and k = `topK` < K:
 *   τ = (s_(k) + s_(k+1)) / 2              the threshold between the k-th and the next score;
 *   T = temperature · (s_(1) − s_(K))      the sigmoid width, relative to the row's score range;
 *   m_c = σ((s_c − τ) / T)                 soft membership of the top-k;
 *   w_g = Σ_c m_c·[group(c) = g];  Q = w / Σ_g w;
 *   cal = (1/B) Σ_b Σ_g (P_g + ε)(log(P_g + ε) − log(Q_g + ε)),  ε = 1e-10 as in §9.
 * The gradient flows through m_c, through τ (to the k-th and (k+1)-th candidates, half each) and
 * through T (to the row's maximum and minimum), so it is the exact derivative wherever the order
 * of the scores has no ties.
 *
 * Optional row weights w_b (per-user strength) turn the batch mean into (1/B) Σ_b w_b·KL_b; the
 * gradient treats them as constants.
 *
 * Optional exclusions (1 = left out, e.g. the user's train items, which a test-time list never shows)
 * take candidates out of the row altogether: the order, τ, T and every w_g are those of the
 * remaining candidates, and the excluded ones get no gradient.
 *
 * Edge cases: K ≤ k (every candidate is in the list) or a flat row (T = 0) give uniform membership
 * and zero gradient for that row; candidates with a group outside [0, G) count in no w_g. A
 * non-finite score makes the value NaN. All arithmetic is float64.
 */
import { CALIBRATION_EPS, groupCalibrationKl } from './loss.js';

/** One batch of the soft top-k calibration term. */
export interface SoftTopkBatch {
  readonly B: number;
  readonly K: number;
  readonly G: number;
  /** B×K model scores, row-major. */
  readonly scores: Float32Array | Float64Array;
  /** B×K popularity group of each candidate (−1 = none). */
  readonly groups: Int32Array;
  /** B×G target distribution P per user. */
  readonly targets: Float64Array | Float32Array;
  /** The list length k the calibration is measured on (top_k_ndcg). */
  readonly topK: number;
  /** Sigmoid width as a fraction of the row's score range, > 0. */
  readonly temperature: number;
  /** Optional per-row weights (B): row b's KL counts w_b times in the batch mean (default 1). */
  readonly rowWeights?: Float64Array;
  /** Optional B×K flags: 1 leaves the candidate out of the row (see the module comment). */
  readonly excluded?: Uint8Array;
}

/** Soft top-k calibration with reusable scratch buffers; see the module comment for the formula. */
export class SoftTopkCalibration {
  private order = new Int32Array(0);
  private m = new Float64Array(0);
  private w = new Float64Array(0);
  private a = new Float64Array(0);

  private ensure(K: number, G: number): void {
    if (this.order.length < K) {
      this.order = new Int32Array(K);
      this.m = new Float64Array(K);
    }
    if (this.w.length < G) {
      this.w = new Float64Array(G);
      this.a = new Float64Array(G);
    }
  }

  /** The term's value (batch mean, rows weighted by `rowWeights` when given). */
  forward(batch: SoftTopkBatch): number {
    this.ensure(batch.K, batch.G);
    let total = 0;
    for (let b = 0; b < batch.B; b++) total += this.row(batch, b, undefined, 0) * (batch.rowWeights?.[b] ?? 1);
    return total / batch.B;
  }

  /** Each row's unweighted KL, written to `out` (B). */
  rowValues(batch: SoftTopkBatch, out: Float64Array): void {
    this.ensure(batch.K, batch.G);
    for (let b = 0; b < batch.B; b++) out[b] = this.row(batch, b, undefined, 0);
  }

  /** Adds `weight` · ∂term/∂scores to `grad` (B×K); `rowWeights` are constants here. */
  addGradient(batch: SoftTopkBatch, weight: number, grad: Float32Array | Float64Array): void {
    this.ensure(batch.K, batch.G);
    for (let b = 0; b < batch.B; b++) this.row(batch, b, grad, (weight * (batch.rowWeights?.[b] ?? 1)) / batch.B);
  }

  /**
   * Sorts row b's candidate indices that are not excluded by descending score (ties by index) into
   * `order`; returns how many there are, or −1 if a score is not finite.
   */
  private sortRow(scores: Float32Array | Float64Array, off: number, K: number, excluded?: Uint8Array): number {
    const order = this.order;
    let n = 0;
    for (let c = 0; c < K; c++) {
      if (!Number.isFinite(scores[off + c]!)) return -1;
      if (!excluded?.[off + c]) order[n++] = c;
    }
    order.subarray(0, n).sort((x, y) => scores[off + y]! - scores[off + x]! || x - y);
    return n;
  }

  /** Row b's KL; with `grad`, adds scale·∂/∂s to grad's row instead and returns 0. */
  private row(batch: SoftTopkBatch, b: number, grad: Float32Array | Float64Array | undefined, scale: number): number {
    const { K, G, scores, groups, targets, topK, excluded } = batch;
    const off = b * K;
    const n = this.sortRow(scores, off, K, excluded);
    if (n < 0) return NaN;
    const { order, m, w, a } = this;
    w.fill(0, 0, G);
    const tOff = b * G;
    if (n === 0) return grad ? 0 : groupCalibrationKl(w, 0, targets, tOff, G);
    const iTop = order[0]!,
      iBottom = order[n - 1]!;
    const T = batch.temperature * (scores[off + iTop]! - scores[off + iBottom]!);
    const smooth = n > topK && T > 0;
    const iK = order[Math.min(topK, n) - 1]!,
      iNext = order[Math.min(topK, n - 1)]!;
    const tau = (scores[off + iK]! + scores[off + iNext]!) / 2;
    for (let c = 0; c < K; c++) {
      const out = excluded?.[off + c];
      m[c] = out ? 0 : smooth ? 1 / (1 + Math.exp(-(scores[off + c]! - tau) / T)) : 1;
      const g = groups[off + c]!;
      if (!out && g >= 0 && g < G) w[g] = w[g]! + m[c]!;
    }
    let S = 0;
    for (let g = 0; g < G; g++) S += w[g]!;
    if (!grad) return groupCalibrationKl(w, S, targets, tOff, G);
    if (!smooth || !(S > 0)) return 0;
    // a_g = ∂L/∂Q_g, then ∂L/∂w_g = (a_g − Σ_h a_h Q_h) / S (as in loss.ts).
    let aq = 0;
    for (let g = 0; g < G; g++) {
      const q = w[g]! / S;
      a[g] = -(targets[tOff + g]! + CALIBRATION_EPS) / (q + CALIBRATION_EPS);
      aq += a[g]! * q;
    }
    for (let g = 0; g < G; g++) a[g] = (a[g]! - aq) / S;
    // e_c = ∂L/∂z_c with z_c = (s_c − τ)/T; ∂L/∂s_c = e_c/T, ∂L/∂τ = −Σ e_c/T, ∂L/∂T = −Σ e_c z_c/T.
    let sumE = 0,
      sumEZ = 0;
    for (let c = 0; c < K; c++) {
      const g = groups[off + c]!;
      if (g < 0 || g >= G || excluded?.[off + c]) continue;
      const mc = m[c]!;
      const e = a[g]! * mc * (1 - mc);
      sumE += e;
      sumEZ += (e * (scores[off + c]! - tau)) / T;
      grad[off + c] = grad[off + c]! + (scale * e) / T;
    }
    const dTau = -sumE / T;
    const dT = -sumEZ / T;
    grad[off + iK] = grad[off + iK]! + (scale * dTau) / 2;
    grad[off + iNext] = grad[off + iNext]! + (scale * dTau) / 2;
    grad[off + iTop] = grad[off + iTop]! + scale * dT * batch.temperature;
    grad[off + iBottom] = grad[off + iBottom]! - scale * dT * batch.temperature;
    return 0;
  }
}
