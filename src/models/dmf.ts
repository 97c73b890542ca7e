/**
 * DMF (Xue et al. 2017) as RecBole 1.2.1 implements it:
 * - user input = the user's train interaction row (nItems wide, 0/1), item input = the item's
 *   train interaction column (nUsers wide);
 * - each side: a bias-free linear layer to the embedding size (`user_linear`, `item_linear`),
 *   then MLPLayers (linear → ReLU for every layer, ReLU after the last too): dmf-tower.ts;
 * - score = dot product of the two towers (RecBole replaced the paper's cosine with the
 *   inner product); training loss BCE-with-logits against the label: dmf-pointwise.ts;
 * - init N(0, 0.01²) for every weight, zero biases;
 * - full-sort scores are σ(dot) — RecBole's full_sort_predict applies the sigmoid, which
 *   matters for min-max score normalisation (CP).
 *
 * The first layers are sparse-input linears (gather-sum forward, scatter-add backward); their
 * weights are stored [in, out] — `user_linear.weight` is [nItems, E], the transpose of
 * PyTorch's [E, nItems] (a Python loader must transpose these two tensors). The MLP tensors
 * have PyTorch's layout and RecBole's state_dict names
 * (`user_fc_layers.mlp_layers.{1,4,7,…}.{weight,bias}`: MLPLayers puts Dropout, Linear, ReLU
 * in each block, so the linears sit at 3·i + 1).
 *
 * Candidate path (CaliTune): logits, not σ(dot), as the reference fine-tuner (dmf-candidates.ts).
 * The user tower is always trainable; the item tower (item_linear + item_fc_layers, flagged
 * itemSide) can be frozen.
 *
 * The model needs the train interaction matrix (setTrainMatrix) before it can score: a saved
 * model file holds weights only; whoever loads one attaches the run's train split.
 */
import { csrTranspose, type Csr } from '../math/csr.js';
import { sgemm } from '../math/gemm.js';
import { Rng } from '../math/rng.js';
import { sigmoid } from '../nn/activations.js';
import { makeParam, normalInit } from '../nn/param-init.js';
import { loadParams, paramsChecksum, snapshotParams } from '../nn/param-snapshot.js';
import type { Parameter } from '../nn/parameter.js';
import { UserError } from '../util/errors.js';
import { withUserAdapter, type DmfBatchContext } from './dmf-batch.js';
import { dmfBackwardCandidates, dmfForwardCandidates, type DmfCandidateBatch } from './dmf-candidates.js';
import { DMF_INIT_STD, resolveDmfHyper, type DmfHyper } from './dmf-hyper.js';
import { dmfPointwiseLoss, dmfPointwiseStep } from './dmf-pointwise.js';
import { DmfTower } from './dmf-tower.js';
import { registerModel } from './model-file.js';
import { USER_ADAPTER_TENSOR, type Recommender } from './recommender.js';

export { DMF_INIT_STD, resolveDmfHyper, type DmfHyper } from './dmf-hyper.js';
export { bceWithLogits } from './dmf-pointwise.js';
export { DmfTower } from './dmf-tower.js';

/** The DMF backbone: two towers, their dot product, the candidate path and the user adapter. */
export class DmfModel implements Recommender {
  /** Model type in the model file. */
  readonly type = 'dmf' as const;
  /** Users including padding user 0. */
  readonly nUsers: number;
  /** Items including padding item 0. */
  readonly nItems: number;
  /** The sizes, as stored in the model file's sidecar. */
  readonly hyper: Readonly<Record<string, unknown>>;
  /** The validated sizes. */
  readonly sizes: DmfHyper;
  /** User tower (input: the user's train row). */
  readonly user: DmfTower;
  /** Item tower (input: the item's train column; item side). */
  readonly item: DmfTower;
  /** Output size of both towers. */
  readonly dim: number;

  private train: Csr | undefined;
  private trainT: Csr | undefined;
  private itemsFrozen = false;
  /** Item-tower outputs for all items (nItems × dim), valid while the checksum matches. */
  private itemCache: Float32Array | undefined;
  private itemCacheSum = NaN;
  private userBuf = new Float32Array(0);
  /** Per-user offset on the user tower's output (CaliTune user_adapter); the tower is then frozen. */
  private adapter: Parameter | undefined;
  // scratch: slot maps id → position in the batch's unique list (−1 = absent)
  private userSlot: Int32Array;
  private itemSlot: Int32Array;
  /** The last candidate batch, for backwardCandidates. */
  private cand: DmfCandidateBatch | undefined;

  /** A model with N(0, 0.01²) weights and zero biases drawn from `seed`. */
  constructor(hyper: Readonly<Record<string, unknown>> | DmfHyper, seed = 0) {
    const h = resolveDmfHyper(hyper as Readonly<Record<string, unknown>>);
    this.sizes = h;
    this.nUsers = h.nUsers;
    this.nItems = h.nItems;
    this.hyper = { ...h, userHidden: [...h.userHidden], itemHidden: [...h.itemHidden] };
    this.user = new DmfTower(
      'user_linear.weight',
      h.nItems,
      h.userEmbeddingSize,
      h.userHidden,
      'user_fc_layers',
      false,
    );
    this.item = new DmfTower('item_linear.weight', h.nUsers, h.itemEmbeddingSize, h.itemHidden, 'item_fc_layers', true);
    this.dim = this.user.out;
    const rng = new Rng(seed);
    for (const p of this.parameters()) {
      if (p.name.endsWith('.bias')) continue; // zero biases
      normalInit(p.value, DMF_INIT_STD, rng);
    }
    this.userSlot = new Int32Array(this.nUsers).fill(-1);
    this.itemSlot = new Int32Array(this.nItems).fill(-1);
  }

  /** Attaches the train interaction matrix (nUsers × nItems): the towers' inputs. */
  setTrainMatrix(train: Csr): void {
    if (train.nRows !== this.nUsers || train.nCols !== this.nItems) {
      throw new UserError(
        `DMF: train matrix is ${train.nRows}×${train.nCols}, the model ${this.nUsers}×${this.nItems}`,
      );
    }
    this.train = train;
    this.trainT = csrTranspose(train);
    this.itemCache = undefined;
  }

  /** Recommender.attachTrainData: setTrainMatrix. */
  attachTrainData(train: Csr): void {
    this.setTrainMatrix(train);
  }

  /** Whether the train matrix is attached (the model can score). */
  get hasTrainMatrix(): boolean {
    return this.train !== undefined;
  }

  private data(): { train: Csr; trainT: Csr } {
    if (!this.train || !this.trainT) {
      throw new Error('DMF needs the train interaction matrix: call setTrainMatrix(train) first');
    }
    return { train: this.train, trainT: this.trainT };
  }

  /** What a batch pass reads (throws without the train matrix). */
  private batchContext(): DmfBatchContext {
    const { train, trainT } = this.data();
    return {
      dim: this.dim,
      user: this.user,
      item: this.item,
      train,
      trainT,
      adapter: this.adapter,
      itemsFrozen: this.itemsFrozen,
      userSlot: this.userSlot,
      itemSlot: this.itemSlot,
    };
  }

  /** The user tower's tensors, the adapter (when on), then the item tower's tensors. */
  parameters(): Parameter[] {
    return [...this.user.parameters(), ...(this.adapter ? [this.adapter] : []), ...this.item.parameters()];
  }

  /**
   * CaliTune's user adapter (Recommender.enableUserAdapter). Why DMF needs one: it has no
   * per-user parameter at all — the user tower is one function of the history shared by every
   * user — so fine-tuning the tower moves every user's list the same way. On ML-100K (α 0.5)
   * that shifts head items out of every list (4.87 → 2.59 per list in 4 epochs) and test NDCG@10
   * falls a third while JSD@10 barely improves; CP, re-ranking each user on their own, loses 8%
   * for −31% JSD. With a per-user offset (the tower frozen) each user's list moves on its own,
   * as BPR's user embeddings do, and the trade-off runs close to CP's.
   */
  enableUserAdapter(): Parameter {
    if (!this.adapter) {
      this.adapter = makeParam(USER_ADAPTER_TENSOR, [this.nUsers, this.dim], false);
      for (const p of this.user.parameters()) p.grad.fill(0);
    }
    return this.adapter;
  }

  /** Zeroes the gradients that training writes (not the frozen user tower's nor frozen items'). */
  zeroGrad(): void {
    if (this.adapter) this.adapter.grad.fill(0);
    else for (const p of this.user.parameters()) p.grad.fill(0);
    if (!this.itemsFrozen) for (const p of this.item.parameters()) p.grad.fill(0);
  }

  /** Recommender.setItemsFrozen: the item tower gets no gradients while frozen. */
  setItemsFrozen(frozen: boolean): void {
    if (frozen && !this.itemsFrozen) for (const p of this.item.parameters()) p.grad.fill(0);
    this.itemsFrozen = frozen;
  }

  /** Forgets the cached item-tower outputs (benchmarks; the checksum catches weight changes anyway). */
  invalidateItemCache(): void {
    this.itemCache = undefined;
  }

  /** Item-tower outputs of every item (nItems × dim), recomputed when the item weights changed. */
  itemEmbeddings(): Float32Array {
    const { trainT } = this.data();
    const sum = paramsChecksum(this.item.parameters());
    if (this.itemCache && sum === this.itemCacheSum) return this.itemCache;
    const all = new Int32Array(this.nItems);
    for (let i = 0; i < all.length; i++) all[i] = i;
    this.itemCache = this.item.predict(trainT, all, this.itemCache ?? new Float32Array(this.nItems * this.dim));
    this.itemCacheSum = sum;
    return this.itemCache;
  }

  /** σ(user tower · item tower) for every item: one sgemm per block of users. */
  scoreAll(users: Int32Array, out?: Float32Array): Float32Array {
    const res = this.scoreAllLogits(users, out);
    const n = users.length * this.nItems;
    for (let i = 0; i < n; i++) res[i] = sigmoid(res[i]!);
    return res;
  }

  /** user tower · item tower for every item (the logits σ of which scoreAll gives): one sgemm per block of users. */
  scoreAllLogits(users: Int32Array, out?: Float32Array): Float32Array {
    const { train } = this.data();
    const n = users.length,
      ni = this.nItems,
      d = this.dim;
    const res = out ?? new Float32Array(n * ni);
    if (res.length < n * ni) throw new RangeError(`scoreAll: output holds ${res.length} values, needs ${n * ni}`);
    for (let r = 0; r < n; r++) {
      const u = users[r]!;
      if (u < 0 || u >= this.nUsers) throw new RangeError(`scoreAll: user ${u} out of range`);
    }
    const I = this.itemEmbeddings();
    const block = 512;
    if (this.userBuf.length < Math.min(n, block) * d) this.userBuf = new Float32Array(Math.min(n, block) * d);
    for (let b0 = 0; b0 < n; b0 += block) {
      const m = Math.min(block, n - b0);
      const ub = users.subarray(b0, b0 + m);
      const U = withUserAdapter(this.user.predict(train, ub, this.userBuf), ub, this.adapter, d);
      const C = res.subarray(b0 * ni, (b0 + m) * ni);
      sgemm(false, true, m, ni, d, 1, U, d, I, d, 0, C, ni);
    }
    return res;
  }

  /**
   * One pointwise training batch (dmfPointwiseStep): mean BCE-with-logits against `labels`,
   * gradients added. Not with the user adapter on.
   */
  pointwiseForwardBackward(users: Int32Array, items: Int32Array, labels: Float32Array): number {
    if (this.adapter) {
      throw new Error('DMF: the user adapter is for CaliTune fine-tuning, not for backbone training');
    }
    return dmfPointwiseStep(this.batchContext(), users, items, labels);
  }

  /** Mean BCE-with-logits without gradients (float64 accumulation; tests and diagnostics). */
  pointwiseLoss(users: Int32Array, items: Int32Array, labels: Float32Array): number {
    return dmfPointwiseLoss(this.batchContext(), users, items, labels);
  }

  /**
   * Logits (raw dot products) of each user's K candidates — σ of these are the scoreAll values —
   * remembering what backward needs. Logits, not σ: see dmf-candidates.ts (the reference's
   * CaliDMF.forward).
   */
  forwardCandidates(users: Int32Array, candidates: Int32Array, k: number): Float32Array {
    const { scores, batch } = dmfForwardCandidates(this.batchContext(), users, candidates, k);
    this.cand = batch;
    return scores;
  }

  /** Adds d(loss)/d(parameters) for the last forwardCandidates, given d(loss)/d(logits). */
  backwardCandidates(dScores: Float32Array): void {
    const c = this.cand;
    if (!c) throw new Error('backwardCandidates called without forwardCandidates');
    dmfBackwardCandidates(this.batchContext(), c, dScores);
  }

  /** With the adapter on: rows of its gradient the last backwardCandidates wrote (the batch's users). */
  candidateGradRows(name: string): Int32Array | undefined {
    return this.adapter && name === USER_ADAPTER_TENSOR ? this.cand?.uu : undefined;
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

registerModel('dmf', (h, seed) => new DmfModel(h, seed));
