/**
 * MultiVAE (Liang et al. 2018) as RecBole 1.2.1 implements it:
 * - encoder nItems → hidden… → 2·latent (μ, log σ²), decoder latent → …hidden → nItems,
 *   tanh between layers (none after the last of each), xavier-normal weights, zero biases
 *   (multivae-network.ts);
 * - input: the user's train row, L2-normalised (F.normalize), then dropout (0.5) in training;
 * - training: z = μ + ε·σ with ε ~ N(0, 0.01²). RecBole draws ε with std 0.01, not 1 (a quirk
 *   of its implementation: `normal_(mean=0, std=0.01)`); we do exactly the same, so the
 *   sampling noise is tiny and the model behaves almost like a deterministic autoencoder
 *   with a KL penalty on (μ, σ);
 * - loss = −mean_u Σ_j x_uj·log softmax(logits_u)_j + β·KL,
 *   KL = −½·mean_u Σ(1 + log σ² − μ² − σ²), β = min(annealCap, step / totalAnnealSteps) with
 *   `step` counting training batches (the trainer passes it): multivae-loss.ts;
 * - evaluation (scoreAll): z = μ, no dropout; scores = the decoder's logits.
 *
 * Tensor names follow RecBole's state_dict: encoder.0 / encoder.2 / …, decoder.0 / decoder.2 / …
 * (Sequential indices: Linear, Tanh, Linear, …). `encoder.0.weight` is stored [nItems, hidden]
 * — the transpose of PyTorch's [hidden, nItems] — because it is a sparse-input layer
 * (gather-sum); every other tensor has PyTorch's layout.
 *
 * Candidate path (CaliTune): forwardCandidates runs the model in evaluation mode (μ, no
 * dropout — the scores whose top-K the candidates are) and returns the decoder's logits at
 * the candidate items only (the output layer is evaluated just for those columns):
 * multivae-candidates.ts. The item side (`freeze_item_emb`) is the decoder's output layer (last
 * weight and bias). CaliTune's accuracy term for MultiVAE is its own loss (nativeAccuracyLoss),
 * not the listwise KL over the candidates.
 * The model needs the train matrix (setTrainMatrix) to build its inputs.
 */
import type { Csr } from '../math/csr.js';
import { Rng } from '../math/rng.js';
import { linearForward } from '../nn/dense.js';
import { loadParams, snapshotParams } from '../nn/param-snapshot.js';
import type { Parameter } from '../nn/parameter.js';
import type { SparseRows } from '../nn/sparse-linear.js';
import { UserError } from '../util/errors.js';
import { registerModel } from './model-file.js';
import { vaeBackwardCandidates, vaeCandidateLogits } from './multivae-candidates.js';
import { MULTIVAE_FINETUNE_BETA, resolveMultiVaeHyper, type MultiVaeHyper } from './multivae-hyper.js';
import { vaeLoss, type VaeLossInfo } from './multivae-loss.js';
import {
  buildVaeInput,
  buildVaeLayers,
  vaeForwardHidden,
  vaeLastHidden,
  type DenseLayer,
  type VaeCache,
  type VaeLayers,
} from './multivae-network.js';
import type { Recommender } from './recommender.js';

export {
  MULTIVAE_EPS_STD,
  MULTIVAE_FINETUNE_BETA,
  resolveMultiVaeHyper,
  type MultiVaeHyper,
} from './multivae-hyper.js';
export { annealBeta, type VaeLossInfo } from './multivae-loss.js';
export type { DenseLayer } from './multivae-network.js';

/** The MultiVAE backbone: training loss, full-sort scores, the candidate path and CaliTune's native loss. */
export class MultiVaeModel implements Recommender, VaeLayers {
  /** Model type in the model file. */
  readonly type = 'multivae' as const;
  /** Users including padding user 0. */
  readonly nUsers: number;
  /** Items including padding item 0. */
  readonly nItems: number;
  /** The sizes, as stored in the model file's sidecar. */
  readonly hyper: Readonly<Record<string, unknown>>;
  /** The validated sizes. */
  readonly sizes: MultiVaeHyper;
  /** Size of μ. */
  readonly latent: number;
  /** encoder.0 (sparse input; weight [nItems, hidden0]). */
  readonly enc0: DenseLayer;
  /** encoder dense layers after the first (the last outputs 2·latent). */
  readonly encRest: DenseLayer[];
  /** decoder layers; the last is the item-side output layer. */
  readonly dec: DenseLayer[];

  private train: Csr | undefined;
  private itemsFrozen = false;
  private cand: { cache: VaeCache; users: Int32Array; cands: Int32Array; k: number } | undefined;

  /** A model with xavier-normal weights and zero biases drawn from `seed`. */
  constructor(hyper: Readonly<Record<string, unknown>> | MultiVaeHyper, seed = 0) {
    const h = resolveMultiVaeHyper(hyper as Readonly<Record<string, unknown>>);
    this.sizes = h;
    this.nUsers = h.nUsers;
    this.nItems = h.nItems;
    this.latent = h.latent;
    this.hyper = { ...h, hidden: [...h.hidden] };
    const layers = buildVaeLayers(h, new Rng(seed));
    this.enc0 = layers.enc0;
    this.encRest = layers.encRest;
    this.dec = layers.dec;
  }

  /** Attaches the train interaction matrix (nUsers × nItems): the encoder's inputs and the loss's targets. */
  setTrainMatrix(train: Csr): void {
    if (train.nRows !== this.nUsers || train.nCols !== this.nItems) {
      throw new UserError(
        `MultiVAE: train matrix is ${train.nRows}×${train.nCols}, the model ${this.nUsers}×${this.nItems}`,
      );
    }
    this.train = train;
  }

  /** Recommender.attachTrainData: setTrainMatrix. */
  attachTrainData(train: Csr): void {
    this.setTrainMatrix(train);
  }

  /** Whether the train matrix is attached (the model can score). */
  get hasTrainMatrix(): boolean {
    return this.train !== undefined;
  }

  private trainMatrix(): Csr {
    if (!this.train) throw new Error('MultiVAE needs the train interaction matrix: call setTrainMatrix(train) first');
    return this.train;
  }

  /** encoder.0, the other encoder layers, then the decoder layers (weight, bias each). */
  parameters(): Parameter[] {
    const ps: Parameter[] = [this.enc0.w, this.enc0.b];
    for (const l of this.encRest) ps.push(l.w, l.b);
    for (const l of this.dec) ps.push(l.w, l.b);
    return ps;
  }

  private outLayer(): DenseLayer {
    return this.dec[this.dec.length - 1]!;
  }

  /** Zeroes every gradient (the output layer's stay untouched, zero, while frozen). */
  zeroGrad(): void {
    const out = this.outLayer();
    for (const p of this.parameters()) {
      if (this.itemsFrozen && (p === out.w || p === out.b)) continue;
      p.grad.fill(0);
    }
  }

  /** Recommender.setItemsFrozen: the output layer gets no gradients while frozen. */
  setItemsFrozen(frozen: boolean): void {
    const out = this.outLayer();
    if (frozen && !this.itemsFrozen) {
      out.w.grad.fill(0);
      out.b.grad.fill(0);
    }
    this.itemsFrozen = frozen;
  }

  /** The batch input of `users` (buildVaeInput): L2-normalised train rows, then inverted dropout. */
  buildInput(users: Int32Array, dropout: number, rng: Rng | undefined): SparseRows {
    return buildVaeInput(this.trainMatrix(), users, dropout, rng);
  }

  /**
   * One training batch: forward in training mode (dropout, ε noise), loss = CE + β·KL, adds
   * the gradients (the output layer's skipped while frozen). Returns the loss parts.
   */
  vaeForwardBackward(
    users: Int32Array,
    opts: { beta: number; dropout: number; rng: Rng; grad?: boolean },
  ): VaeLossInfo {
    const x = this.buildInput(users, opts.dropout, opts.rng);
    return this.lossOnInput(users, x, opts.beta, opts.rng, opts.grad ?? true);
  }

  /**
   * CE + β·KL for a prepared input with the given noise source (`noiseRng` undefined → z = μ),
   * optionally with gradients. Exposed so tests can fix the dropout mask and noise.
   */
  lossOnInput(users: Int32Array, x: SparseRows, beta: number, noiseRng: Rng | undefined, grad: boolean): VaeLossInfo {
    const c = vaeForwardHidden(this, x, noiseRng);
    return this.lossFromCache(users, c, beta, grad, 1);
  }

  /** vaeLoss of the pass `c` over `users`, with `scale` × the gradients when `grad`. */
  private lossFromCache(users: Int32Array, c: VaeCache, beta: number, grad: boolean, scale: number): VaeLossInfo {
    const train = this.trainMatrix();
    return vaeLoss(this, train, users, c, { beta, grad, scale, itemsFrozen: this.itemsFrozen });
  }

  /** Decoder logits at μ (evaluation mode: no dropout, no noise) for every item. */
  scoreAll(users: Int32Array, out?: Float32Array): Float32Array {
    const n = users.length,
      ni = this.nItems;
    const res = out ?? new Float32Array(n * ni);
    if (res.length < n * ni) throw new RangeError(`scoreAll: output holds ${res.length} values, needs ${n * ni}`);
    const block = 512;
    const outL = this.outLayer();
    for (let b0 = 0; b0 < n; b0 += block) {
      const m = Math.min(block, n - b0);
      const ub = users.subarray(b0, b0 + m);
      for (const u of ub) if (u < 0 || u >= this.nUsers) throw new RangeError(`scoreAll: user ${u} out of range`);
      const c = vaeForwardHidden(this, this.buildInput(ub, 0, undefined), undefined);
      const { h, f } = vaeLastHidden(this, c);
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
    if (candidates.length !== b * k) {
      throw new RangeError(`forwardCandidates: ${candidates.length} candidates for ${b}×${k}`);
    }
    const c = vaeForwardHidden(this, this.buildInput(users, 0, undefined), undefined);
    const out = vaeCandidateLogits(this, c, candidates, k);
    this.cand = { cache: c, users: users.slice(), cands: candidates, k };
    return out;
  }

  /** Adds d(loss)/d(parameters) for the last forwardCandidates, given d(loss)/d(logits). */
  backwardCandidates(dScores: Float32Array): void {
    const s = this.cand;
    if (!s) throw new Error('backwardCandidates called without forwardCandidates');
    vaeBackwardCandidates(this, s.cache, s.cands, s.k, dScores, this.itemsFrozen);
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
    if (users.length !== s.cache.n) {
      throw new RangeError(`nativeAccuracyLoss: ${users.length} users, the last forwardCandidates had ${s.cache.n}`);
    }
    for (let r = 0; r < users.length; r++) {
      if (users[r] !== s.users[r]) {
        throw new RangeError('nativeAccuracyLoss: users differ from the last forwardCandidates');
      }
    }
    return this.lossFromCache(users, s.cache, MULTIVAE_FINETUNE_BETA, opts.grad, opts.scale).loss;
  }

  /** Copies of every tensor by name (the save format). */
  snapshot(): Record<string, Float32Array> {
    return snapshotParams(this.parameters());
  }

  /** Loads tensors by name (a missing tensor or a size mismatch is a UserError). */
  loadWeights(w: Readonly<Record<string, Float32Array>>): void {
    loadParams(this.parameters(), w);
  }
}

registerModel('multivae', (h, seed) => new MultiVaeModel(h, seed));
