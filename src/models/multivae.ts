/**
 * MultiVAE (Liang et al. 2018) as RecBole 1.2.1 implements it:
 * - encoder nItems → hidden… → 2·latent (μ, log σ²), decoder latent → …hidden → nItems,
 *   tanh between layers (none after the last of each), xavier-normal weights, zero biases;
 * - input: the user's train row, L2-normalised (F.normalize), then dropout (0.5) in training;
 * - training: z = μ + ε·σ with ε ~ N(0, 0.01²). RecBole draws ε with std 0.01, not 1 (a quirk
 *   of its implementation: `normal_(mean=0, std=0.01)`); we do exactly the same, so the
 *   sampling noise is tiny and the model behaves almost like a deterministic autoencoder
 *   with a KL penalty on (μ, σ);
 * - loss = −mean_u Σ_j x_uj·log softmax(logits_u)_j + β·KL, KL = −½·mean_u Σ(1 + log σ² − μ² − σ²),
 *   β = min(annealCap, step / totalAnnealSteps) with `step` counting training batches
 *   (the trainer passes it);
 * - evaluation (scoreAll): z = μ, no dropout; scores = the decoder's logits.
 *
 * Tensor names follow RecBole's state_dict: encoder.0 / encoder.2 / …, decoder.0 / decoder.2 / …
 * (Sequential indices: Linear, Tanh, Linear, …). `encoder.0.weight` is stored [nItems, hidden]
 * — the transpose of PyTorch's [hidden, nItems] — because it is a sparse-input layer
 * (gather-sum); every other tensor has PyTorch's layout.
 *
 * Candidate path (CaliTune): forwardCandidates runs the model in evaluation mode (μ, no
 * dropout — the scores whose top-K the candidates are) and returns the decoder's logits at
 * the candidate items only (the output layer is evaluated just for those columns).
 * The item side (`freeze_item_emb`) is the decoder's output layer (last weight and bias).
 * CaliTune's accuracy term for MultiVAE is its own loss (nativeAccuracyLoss), not the listwise
 * KL over the candidates.
 * The model needs the train matrix (setTrainMatrix) to build its inputs.
 */
import type { Csr } from '../math/csr.js';
import { Rng } from '../math/rng.js';
import {
  checkSizes, gatherCsrRows, linearBackward, linearForward, loadParams, makeParam, snapshotParams,
  sparseLinearBackward, sparseLinearForward, tanhBackward, tanhForward, xavierNormalInit, type SparseRows,
} from '../nn/layers.js';
import { UserError } from '../util/errors.js';
import { registerModel } from './model-file.js';
import type { Parameter } from '../nn/parameter.js';
import { checkPositiveInt } from '../util/checks.js';
import type { Recommender } from './recommender.js';

export interface MultiVaeHyper {
  nUsers: number;
  nItems: number;
  /** RecBole `mlp_hidden_size` (default [600]). */
  hidden: number[];
  /** Size of μ (RecBole's `latent_dimension` is 2·latent = 128 by default → latent 64). */
  latent: number;
}

/** β of the KL term in CaliTune's accuracy term for MultiVAE (RecBole's anneal_cap). */
export const MULTIVAE_FINETUNE_BETA = 0.2;

/** RecBole's reparameterisation noise std (ε ~ N(0, 0.01²)). */
export const MULTIVAE_EPS_STD = 0.01;

export function resolveMultiVaeHyper(h: Readonly<Record<string, unknown>>): MultiVaeHyper {
  return {
    nUsers: checkPositiveInt('nUsers', h.nUsers),
    nItems: checkPositiveInt('nItems', h.nItems),
    hidden: checkSizes('hidden', h.hidden),
    latent: checkPositiveInt('latent', h.latent),
  };
}

interface Dense { w: Parameter; b: Parameter; inF: number; outF: number }

/** Per-batch activations kept for backward. */
interface VaeCache {
  n: number;
  x: SparseRows;
  /** encoder hidden outputs (after tanh), one per hidden layer */
  encH: Float32Array[];
  /** encoder output n × 2L (μ | log σ²) */
  enc: Float32Array;
  eps: Float32Array | undefined;
  z: Float32Array;
  decH: Float32Array[];
}

export interface VaeLossInfo {
  loss: number;
  ce: number;
  kl: number;
}

export class MultiVaeModel implements Recommender {
  readonly type = 'multivae' as const;
  readonly nUsers: number;
  readonly nItems: number;
  readonly hyper: Readonly<Record<string, unknown>>;
  readonly sizes: MultiVaeHyper;
  readonly latent: number;
  /** encoder.0 (sparse input; weight [nItems, hidden0]). */
  readonly enc0: Dense;
  /** encoder dense layers after the first (the last outputs 2·latent). */
  readonly encRest: Dense[] = [];
  /** decoder layers; the last is the item-side output layer. */
  readonly dec: Dense[] = [];

  private train: Csr | undefined;
  private itemsFrozen = false;
  private cand: { cache: VaeCache; users: Int32Array; cands: Int32Array; k: number } | undefined;

  constructor(hyper: Readonly<Record<string, unknown>> | MultiVaeHyper, seed = 0) {
    const h = resolveMultiVaeHyper(hyper as Readonly<Record<string, unknown>>);
    this.sizes = h;
    this.nUsers = h.nUsers;
    this.nItems = h.nItems;
    this.latent = h.latent;
    this.hyper = { ...h, hidden: [...h.hidden] };
    const encDims = [h.nItems, ...h.hidden, 2 * h.latent];
    const decDims = [h.latent, ...[...h.hidden].reverse(), h.nItems];
    const rng = new Rng(seed);
    const dense = (name: string, inF: number, outF: number, itemSide: boolean, transposed = false): Dense => {
      const w = makeParam(`${name}.weight`, transposed ? [inF, outF] : [outF, inF], itemSide);
      xavierNormalInit(w.value, inF, outF, rng);
      return { w, b: makeParam(`${name}.bias`, [outF], itemSide), inF, outF };
    };
    this.enc0 = dense('encoder.0', encDims[0]!, encDims[1]!, false, true);
    for (let i = 1; i < encDims.length - 1; i++) this.encRest.push(dense(`encoder.${2 * i}`, encDims[i]!, encDims[i + 1]!, false));
    for (let i = 0; i < decDims.length - 1; i++) {
      this.dec.push(dense(`decoder.${2 * i}`, decDims[i]!, decDims[i + 1]!, i === decDims.length - 2));
    }
  }

  setTrainMatrix(train: Csr): void {
    if (train.nRows !== this.nUsers || train.nCols !== this.nItems) {
      throw new UserError(`MultiVAE: train matrix is ${train.nRows}×${train.nCols}, the model ${this.nUsers}×${this.nItems}`);
    }
    this.train = train;
  }

  attachTrainData(train: Csr): void { this.setTrainMatrix(train); }

  get hasTrainMatrix(): boolean { return this.train !== undefined; }

  private trainMatrix(): Csr {
    if (!this.train) throw new Error('MultiVAE needs the train interaction matrix: call setTrainMatrix(train) first');
    return this.train;
  }

  parameters(): Parameter[] {
    const ps: Parameter[] = [this.enc0.w, this.enc0.b];
    for (const l of this.encRest) ps.push(l.w, l.b);
    for (const l of this.dec) ps.push(l.w, l.b);
    return ps;
  }

  private outLayer(): Dense { return this.dec[this.dec.length - 1]!; }

  zeroGrad(): void {
    const out = this.outLayer();
    for (const p of this.parameters()) {
      if (this.itemsFrozen && (p === out.w || p === out.b)) continue;
      p.grad.fill(0);
    }
  }

  setItemsFrozen(frozen: boolean): void {
    const out = this.outLayer();
    if (frozen && !this.itemsFrozen) { out.w.grad.fill(0); out.b.grad.fill(0); }
    this.itemsFrozen = frozen;
  }

  /**
   * The batch input: each user's train row L2-normalised (value 1/√n_u on its items; an empty
   * row stays zero, as F.normalize's ε clamp gives), then — when dropout > 0 — inverted
   * dropout per non-zero entry (zeros stay zero whatever the mask).
   */
  buildInput(users: Int32Array, dropout: number, rng: Rng | undefined): SparseRows {
    const x = gatherCsrRows(this.trainMatrix(), users);
    const values = new Float32Array(x.indices.length);
    const keep = dropout > 0 ? 1 / (1 - dropout) : 1;
    for (let r = 0; r < x.n; r++) {
      const lo = x.indptr[r]!, hi = x.indptr[r + 1]!;
      const v = hi > lo ? 1 / Math.sqrt(hi - lo) : 0;
      for (let q = lo; q < hi; q++) {
        if (dropout > 0) values[q] = dropout >= 1 || rng!.nextFloat() < dropout ? 0 : v * keep;
        else values[q] = v;
      }
    }
    return { n: x.n, indptr: x.indptr, indices: x.indices, values };
  }

  /**
   * Forward up to the decoder's last hidden layer. With `rng`, training mode: ε ~ N(0, 0.01²)
   * noise; without, z = μ. Returns the cache (activations for backward).
   */
  private forwardHidden(x: SparseRows, rng: Rng | undefined): VaeCache {
    const n = x.n, L = this.latent;
    const encH: Float32Array[] = [];
    let cur = new Float32Array(n * this.enc0.outF);
    sparseLinearForward(x, this.enc0.w.value, this.enc0.outF, this.enc0.b.value, cur);
    let curF = this.enc0.outF;
    // tanh after every encoder layer but the last
    for (let i = 0; i < this.encRest.length; i++) {
      tanhForward(cur, cur);
      encH.push(cur);
      const l = this.encRest[i]!;
      const y = new Float32Array(n * l.outF);
      linearForward(cur, n, curF, l.w.value, l.b.value, l.outF, y);
      cur = y;
      curF = l.outF;
    }
    if (this.encRest.length === 0) throw new Error('MultiVAE: encoder has no output layer');
    const enc = cur; // n × 2L
    const z = new Float32Array(n * L);
    let eps: Float32Array | undefined;
    if (rng) {
      eps = new Float32Array(n * L);
      for (let r = 0; r < n; r++) {
        for (let j = 0; j < L; j++) {
          const e = MULTIVAE_EPS_STD * rng.normal();
          eps[r * L + j] = e;
          z[r * L + j] = enc[r * 2 * L + j]! + e * Math.exp(0.5 * enc[r * 2 * L + L + j]!);
        }
      }
    } else {
      for (let r = 0; r < n; r++) z.set(enc.subarray(r * 2 * L, r * 2 * L + L), r * L);
    }
    // decoder hidden layers (all but the output layer), tanh after each
    const decH: Float32Array[] = [];
    let h = z, hF = L;
    for (let i = 0; i < this.dec.length - 1; i++) {
      const l = this.dec[i]!;
      const y = new Float32Array(n * l.outF);
      linearForward(h, n, hF, l.w.value, l.b.value, l.outF, y);
      tanhForward(y, y);
      decH.push(y);
      h = y;
      hF = l.outF;
    }
    return { n, x, encH, enc, eps, z, decH };
  }

  private lastHidden(c: VaeCache): { h: Float32Array; f: number } {
    return c.decH.length ? { h: c.decH[c.decH.length - 1]!, f: this.dec[this.dec.length - 2]!.outF } : { h: c.z, f: this.latent };
  }

  /**
   * Backward from d(last decoder hidden) and d(enc) contributions: dz flows back through the
   * decoder hidden layers; dEnc (n × 2L, may already hold the KL gradient) receives dμ, dlogσ².
   */
  private backwardHidden(c: VaeCache, dLast: Float32Array, dEnc: Float32Array): void {
    const n = c.n, L = this.latent;
    let dy = dLast;
    for (let i = this.dec.length - 2; i >= 0; i--) {
      const l = this.dec[i]!;
      tanhBackward(c.decH[i]!, dy, dy);
      const x = i === 0 ? c.z : c.decH[i - 1]!;
      const dx = new Float32Array(n * l.inF);
      linearBackward(x, dy, n, l.inF, l.outF, l.w.value, l.w.grad, l.b.grad, dx);
      dy = dx;
    }
    const dz = dy; // n × L
    for (let r = 0; r < n; r++) {
      for (let j = 0; j < L; j++) {
        const g = dz[r * L + j]!;
        dEnc[r * 2 * L + j]! += g;
        if (c.eps) {
          const lv = c.enc[r * 2 * L + L + j]!;
          dEnc[r * 2 * L + L + j]! += g * c.eps[r * L + j]! * 0.5 * Math.exp(0.5 * lv);
        }
      }
    }
    // encoder dense layers, last first
    let d = dEnc;
    for (let i = this.encRest.length - 1; i >= 0; i--) {
      const l = this.encRest[i]!;
      const x = c.encH[i]!;
      const dx = new Float32Array(n * l.inF);
      linearBackward(x, d, n, l.inF, l.outF, l.w.value, l.w.grad, l.b.grad, dx);
      tanhBackward(x, dx, dx);
      d = dx;
    }
    sparseLinearBackward(c.x, d, this.enc0.outF, this.enc0.w.grad, this.enc0.b.grad);
  }

  /**
   * One training batch: forward in training mode (dropout, ε noise), loss = CE + β·KL, adds
   * the gradients (the output layer's skipped while frozen). Returns the loss parts.
   */
  vaeForwardBackward(users: Int32Array, opts: { beta: number; dropout: number; rng: Rng; grad?: boolean }): VaeLossInfo {
    const x = this.buildInput(users, opts.dropout, opts.rng);
    return this.lossOnInput(users, x, opts.beta, opts.rng, opts.grad ?? true);
  }

  /**
   * CE + β·KL for a prepared input with the given noise source (`noiseRng` undefined → z = μ),
   * optionally with gradients. Exposed so tests can fix the dropout mask and noise.
   */
  lossOnInput(users: Int32Array, x: SparseRows, beta: number, noiseRng: Rng | undefined, grad: boolean): VaeLossInfo {
    const c = this.forwardHidden(x, noiseRng);
    return this.lossFromCache(users, c, beta, grad, 1);
  }

  /**
   * CE + β·KL of a forward pass already made (cache `c` of the rows `users`); with `grad`, adds
   * `scale` × the gradients (the output layer's skipped while frozen).
   */
  private lossFromCache(users: Int32Array, c: VaeCache, beta: number, grad: boolean, scale: number): VaeLossInfo {
    const train = this.trainMatrix();
    const n = users.length, ni = this.nItems, L = this.latent;
    if (c.n !== n) throw new RangeError(`MultiVAE loss: ${n} users for a pass over ${c.n} rows`);
    const g = scale / n;
    const { h, f } = this.lastHidden(c);
    const out = this.outLayer();
    const logits = new Float32Array(n * ni);
    linearForward(h, n, f, out.w.value, out.b.value, ni, logits);
    // CE = −mean_u Σ_j x_uj log softmax_j; x = the raw 0/1 train row
    let ce = 0;
    for (let r = 0; r < n; r++) {
      const o = r * ni;
      let mx = -Infinity;
      for (let j = 0; j < ni; j++) if (logits[o + j]! > mx) mx = logits[o + j]!;
      let se = 0;
      for (let j = 0; j < ni; j++) se += Math.exp(logits[o + j]! - mx);
      const lse = mx + Math.log(se);
      const u = users[r]!;
      const lo = train.indptr[u]!, hi = train.indptr[u + 1]!;
      for (let q = lo; q < hi; q++) ce -= logits[o + train.indices[q]!]! - lse;
      if (grad) {
        // d CE / d logits = (softmax·Σx − x) / n
        const cnt = hi - lo;
        for (let j = 0; j < ni; j++) logits[o + j] = cnt * Math.exp(logits[o + j]! - lse) * g;
        for (let q = lo; q < hi; q++) logits[o + train.indices[q]!]! -= g;
      }
    }
    ce /= n;
    // KL = −½ mean_u Σ_j (1 + lv − μ² − e^lv)
    let kl = 0;
    const dEnc = grad ? new Float32Array(n * 2 * L) : undefined;
    for (let r = 0; r < n; r++) {
      for (let j = 0; j < L; j++) {
        const mu = c.enc[r * 2 * L + j]!, lv = c.enc[r * 2 * L + L + j]!;
        const elv = Math.exp(lv);
        kl += 1 + lv - mu * mu - elv;
        if (dEnc) {
          dEnc[r * 2 * L + j] = beta * mu * g;
          dEnc[r * 2 * L + L + j] = beta * 0.5 * (elv - 1) * g;
        }
      }
    }
    kl = (-0.5 * kl) / n;
    if (grad) {
      const dl = logits; // now holds d loss / d logits
      const dh = new Float32Array(n * f);
      linearBackward(h, dl, n, f, ni, out.w.value, this.itemsFrozen ? undefined : out.w.grad,
        this.itemsFrozen ? undefined : out.b.grad, dh);
      this.backwardHidden(c, dh, dEnc!);
    }
    return { loss: ce + beta * kl, ce, kl };
  }

  /** Decoder logits at μ (evaluation mode: no dropout, no noise) for every item. */
  scoreAll(users: Int32Array, out?: Float32Array): Float32Array {
    const n = users.length, ni = this.nItems;
    const res = out ?? new Float32Array(n * ni);
    if (res.length < n * ni) throw new RangeError(`scoreAll: output holds ${res.length} values, needs ${n * ni}`);
    const block = 512;
    const outL = this.outLayer();
    for (let b0 = 0; b0 < n; b0 += block) {
      const m = Math.min(block, n - b0);
      const ub = users.subarray(b0, b0 + m);
      for (const u of ub) if (u < 0 || u >= this.nUsers) throw new RangeError(`scoreAll: user ${u} out of range`);
      const c = this.forwardHidden(this.buildInput(ub, 0, undefined), undefined);
      const { h, f } = this.lastHidden(c);
      linearForward(h, m, f, outL.w.value, outL.b.value, ni, res.subarray(b0 * ni, (b0 + m) * ni));
    }
    return res;
  }

  /**
   * Evaluation-mode logits of the K candidates per user: only the candidates' rows of the
   * output layer are evaluated. Remembers the activations for backwardCandidates.
   */
  forwardCandidates(users: Int32Array, candidates: Int32Array, k: number): Float32Array {
    const b = users.length;
    if (candidates.length !== b * k) throw new RangeError(`forwardCandidates: ${candidates.length} candidates for ${b}×${k}`);
    const c = this.forwardHidden(this.buildInput(users, 0, undefined), undefined);
    const { h, f } = this.lastHidden(c);
    const W = this.outLayer().w.value, bias = this.outLayer().b.value;
    const out = new Float32Array(b * k);
    for (let r = 0; r < b; r++) {
      const ho = r * f;
      for (let q = 0; q < k; q++) {
        const it = candidates[r * k + q]!;
        if (it < 0 || it >= this.nItems) throw new RangeError(`forwardCandidates: item ${it} out of range`);
        const wo = it * f;
        let s = bias[it]!;
        for (let j = 0; j < f; j++) s += h[ho + j]! * W[wo + j]!;
        out[r * k + q] = s;
      }
    }
    this.cand = { cache: c, users: users.slice(), cands: candidates, k };
    return out;
  }

  backwardCandidates(dScores: Float32Array): void {
    const s = this.cand;
    if (!s) throw new Error('backwardCandidates called without forwardCandidates');
    const { cache: c, cands, k } = s;
    const b = c.n;
    if (dScores.length !== b * k) throw new RangeError('backwardCandidates: dScores shape mismatch');
    const { h, f } = this.lastHidden(c);
    const out = this.outLayer();
    const W = out.w.value, gW = out.w.grad, gB = out.b.grad;
    const dh = new Float32Array(b * f);
    const frozen = this.itemsFrozen;
    for (let r = 0; r < b; r++) {
      const ho = r * f;
      for (let q = 0; q < k; q++) {
        const g = dScores[r * k + q]!;
        if (g === 0) continue;
        const it = cands[r * k + q]!, wo = it * f;
        for (let j = 0; j < f; j++) dh[ho + j]! += g * W[wo + j]!;
        if (!frozen) {
          gB[it]! += g;
          for (let j = 0; j < f; j++) gW[wo + j]! += g * h[ho + j]!;
        }
      }
    }
    // evaluation mode: z = μ, so only dμ flows (no KL term on the candidate path)
    this.backwardHidden(c, dh, new Float32Array(b * 2 * this.latent));
  }

  /**
   * CaliTune's accuracy term for MultiVAE (Recommender.nativeAccuracyLoss): the model's own
   * loss, multinomial CE over all items + β·KL with β = MULTIVAE_FINETUNE_BETA (RecBole's
   * anneal_cap), on the users' train rows, evaluated on the pass forwardCandidates made for
   * this batch — evaluation mode (z = μ, no dropout, no noise), the same pass whose scores the
   * calibration term sees. Adds scale × its gradients (the output layer's skipped while
   * frozen) and returns its value (mean over the users).
   */
  nativeAccuracyLoss(users: Int32Array, opts: { scale: number; grad: boolean }): number {
    const s = this.cand;
    if (!s) throw new Error('nativeAccuracyLoss called without forwardCandidates');
    if (users.length !== s.cache.n) throw new RangeError(`nativeAccuracyLoss: ${users.length} users, the last forwardCandidates had ${s.cache.n}`);
    for (let r = 0; r < users.length; r++) {
      if (users[r] !== s.users[r]) throw new RangeError('nativeAccuracyLoss: users differ from the last forwardCandidates');
    }
    return this.lossFromCache(users, s.cache, MULTIVAE_FINETUNE_BETA, opts.grad, opts.scale).loss;
  }

  snapshot(): Record<string, Float32Array> {
    return snapshotParams(this.parameters());
  }

  loadWeights(w: Readonly<Record<string, Float32Array>>): void {
    loadParams(this.parameters(), w);
  }
}

/** β of batch number `step` (1-based, as RecBole increments before use). */
export function annealBeta(step: number, annealCap: number, totalAnnealSteps: number): number {
  return totalAnnealSteps > 0 ? Math.min(annealCap, step / totalAnnealSteps) : annealCap;
}

registerModel('multivae', (h, seed) => new MultiVaeModel(h, seed));
