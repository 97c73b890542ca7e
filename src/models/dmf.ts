/**
 * DMF (Xue et al. 2017) as RecBole 1.2.1 implements it:
 * - user input = the user's train interaction row (nItems wide, 0/1), item input = the item's
 *   train interaction column (nUsers wide);
 * - each side: a bias-free linear layer to the embedding size (`user_linear`, `item_linear`),
 *   then MLPLayers (linear → ReLU for every layer, ReLU after the last too);
 * - score = dot product of the two towers (RecBole replaced the paper's cosine with the
 *   inner product); training loss BCE-with-logits against the label (1 for positives, 0 for
 *   the sampled negatives; implicit data, so label / max rating = label);
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
 * Candidate path (CaliTune): forwardCandidates returns the raw dot products (logits) of the
 * candidates, NOT σ(dot). This is what the reference fine-tuner does (hcai-mms/CaliTune,
 * calitune/models.py: CaliDMF.forward returns the dot; only full_predict applies the sigmoid,
 * "doesn't change order"). It changes the loss: the listwise accuracy term is a softmax over the
 * candidate scores and the calibration term min-max normalises them, so σ(dot) and dot give
 * different gradients. Measured on ML-100K (α 0.5, lr 2e-5, both towers trained) the trade-off
 * curves of the two are about the same; with α 0 the logit version lowers NDCG@10 (−8% after 3
 * epochs) where the σ version keeps it (+1%) — the σ version's accuracy term is weak (softmax of
 * values in (0, 1), times σ' ≤ 1/4), so at α 0.5 its calibration term dominates instead. We follow
 * the reference. Candidate selection and evaluation use scoreAll (σ), which ranks the same. The user tower is always
 * trainable; the item tower (item_linear + item_fc_layers, flagged itemSide) can be frozen.
 *
 * The model needs the train interaction matrix (setTrainMatrix) before it can score: a saved
 * model file holds weights only; whoever loads one attaches the run's train split.
 */
import { csrTranspose, type Csr } from '../math/csr.js';
import { sgemm } from '../math/gemm.js';
import { Rng } from '../math/rng.js';
import {
  checkSizes, csrRowsView, loadParams, makeParam, Mlp, normalInit, paramsChecksum, sigmoid, snapshotParams,
  sparseLinearBackward, sparseLinearForward, type SparseRows,
} from '../nn/layers.js';
import { UserError } from '../util/errors.js';
import { registerModel } from './model-file.js';
import type { Parameter } from '../nn/parameter.js';
import { checkPositiveInt } from '../util/checks.js';
import { USER_ADAPTER_TENSOR, type Recommender } from './recommender.js';

export interface DmfHyper {
  /** Users including padding user 0. */
  nUsers: number;
  /** Items including padding item 0. */
  nItems: number;
  /** RecBole `user_embedding_size` (output of user_linear). */
  userEmbeddingSize: number;
  itemEmbeddingSize: number;
  /** RecBole `user_hidden_size_list`. */
  userHidden: number[];
  itemHidden: number[];
}

export const DMF_INIT_STD = 0.01;

/** Validates DMF sizes: positive integers; both towers must end at the same size. */
export function resolveDmfHyper(h: Readonly<Record<string, unknown>>): DmfHyper {
  const nUsers = checkPositiveInt('nUsers', h.nUsers);
  const nItems = checkPositiveInt('nItems', h.nItems);
  const userEmbeddingSize = checkPositiveInt('userEmbeddingSize', h.userEmbeddingSize);
  const itemEmbeddingSize = checkPositiveInt('itemEmbeddingSize', h.itemEmbeddingSize ?? h.userEmbeddingSize);
  const userHidden = checkSizes('userHidden', h.userHidden);
  const itemHidden = checkSizes('itemHidden', h.itemHidden ?? h.userHidden);
  if (userHidden[userHidden.length - 1] !== itemHidden[itemHidden.length - 1]) {
    throw new UserError(`DMF hidden sizes do not chain: the user tower ends at ${userHidden[userHidden.length - 1]}, the item tower at ${itemHidden[itemHidden.length - 1]} (the last sizes must match for the dot product)`);
  }
  return { nUsers, nItems, userEmbeddingSize, itemEmbeddingSize, userHidden, itemHidden };
}

/** Numerically stable BCE-with-logits ℓ(s, y) = max(s, 0) − s·y + log(1 + e^{−|s|}). */
export function bceWithLogits(s: number, y: number): number {
  return Math.max(s, 0) - s * y + Math.log1p(Math.exp(-Math.abs(s)));
}

/** One tower: sparse first layer (no bias) + MLP, with its cached batch for backward. */
class Tower {
  readonly first: Parameter;
  readonly mlp: Mlp;
  private h0 = new Float32Array(0);
  private input: SparseRows | undefined;

  constructor(firstName: string, inF: number, emb: number, hidden: number[], mlpPrefix: string, itemSide: boolean) {
    this.first = makeParam(firstName, [inF, emb], itemSide);
    this.mlp = new Mlp([emb, ...hidden], 'relu', (i) => `${mlpPrefix}.mlp_layers.${3 * i + 1}`, itemSide);
  }

  get emb(): number { return this.first.shape[1]!; }
  get out(): number { return this.mlp.outSize; }

  parameters(): Parameter[] { return [this.first, ...this.mlp.parameters()]; }

  /** Training forward of the given sparse rows; the result stays valid until the next forward. */
  forward(x: SparseRows): Float32Array {
    const n = x.n, e = this.emb;
    if (this.h0.length < n * e) this.h0 = new Float32Array(n * e);
    const h0 = this.h0.subarray(0, n * e);
    sparseLinearForward(x, this.first.value, e, undefined, h0);
    this.input = x;
    return this.mlp.forward(h0, n);
  }

  /** Backward of the last forward (dOut is overwritten). */
  backward(dOut: Float32Array): void {
    if (!this.input) throw new Error('Tower.backward without forward');
    const dh0 = this.mlp.backward(dOut, true)!;
    sparseLinearBackward(this.input, dh0, this.emb, this.first.grad, undefined);
  }

  /** Inference of the given rows into `out` (n × out), in blocks, not touching the training cache. */
  predict(csr: Csr, rows: Int32Array, out: Float32Array): Float32Array {
    const block = 1024, e = this.emb, d = this.out;
    const h0 = new Float32Array(Math.min(block, rows.length) * e);
    for (let b0 = 0; b0 < rows.length; b0 += block) {
      const m = Math.min(block, rows.length - b0);
      const x = csrRowsView(csr, rows.subarray(b0, b0 + m));
      sparseLinearForward(x, this.first.value, e, undefined, h0);
      const y = this.mlp.predict(h0.subarray(0, m * e), m);
      out.set(y.subarray(0, m * d), b0 * d);
    }
    return out;
  }
}

export class DmfModel implements Recommender {
  readonly type = 'dmf' as const;
  readonly nUsers: number;
  readonly nItems: number;
  readonly hyper: Readonly<Record<string, unknown>>;
  readonly sizes: DmfHyper;
  readonly user: Tower;
  readonly item: Tower;
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
  // candidate-path state
  private cand: { uu: Int32Array; uOut: Float32Array; iOut: Float32Array; rowU: Int32Array; rowI: Int32Array; k: number; n: number } | undefined;

  constructor(hyper: Readonly<Record<string, unknown>> | DmfHyper, seed = 0) {
    const h = resolveDmfHyper(hyper as Readonly<Record<string, unknown>>);
    this.sizes = h;
    this.nUsers = h.nUsers;
    this.nItems = h.nItems;
    this.hyper = { ...h, userHidden: [...h.userHidden], itemHidden: [...h.itemHidden] };
    this.user = new Tower('user_linear.weight', h.nItems, h.userEmbeddingSize, h.userHidden, 'user_fc_layers', false);
    this.item = new Tower('item_linear.weight', h.nUsers, h.itemEmbeddingSize, h.itemHidden, 'item_fc_layers', true);
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
      throw new UserError(`DMF: train matrix is ${train.nRows}×${train.nCols}, the model ${this.nUsers}×${this.nItems}`);
    }
    this.train = train;
    this.trainT = csrTranspose(train);
    this.itemCache = undefined;
  }

  attachTrainData(train: Csr): void { this.setTrainMatrix(train); }

  get hasTrainMatrix(): boolean { return this.train !== undefined; }

  private data(): { train: Csr; trainT: Csr } {
    if (!this.train || !this.trainT) throw new Error('DMF needs the train interaction matrix: call setTrainMatrix(train) first');
    return { train: this.train, trainT: this.trainT };
  }

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

  /** tower[r] + adapter[users[r]] as a new array (no adapter: tower itself). */
  private withAdapter(tower: Float32Array, users: Int32Array): Float32Array {
    const a = this.adapter;
    if (!a) return tower;
    const d = this.dim, av = a.value;
    const out = new Float32Array(users.length * d);
    for (let r = 0; r < users.length; r++) {
      const o = r * d, ao = users[r]! * d;
      for (let j = 0; j < d; j++) out[o + j] = tower[o + j]! + av[ao + j]!;
    }
    return out;
  }

  zeroGrad(): void {
    if (this.adapter) this.adapter.grad.fill(0);
    else for (const p of this.user.parameters()) p.grad.fill(0);
    if (!this.itemsFrozen) for (const p of this.item.parameters()) p.grad.fill(0);
  }

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
    const { train } = this.data();
    const n = users.length, ni = this.nItems, d = this.dim;
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
      const U = this.withAdapter(this.user.predict(train, ub, this.userBuf), ub);
      const C = res.subarray(b0 * ni, (b0 + m) * ni);
      sgemm(false, true, m, ni, d, 1, U, d, I, d, 0, C, ni);
      for (let i = 0; i < C.length; i++) C[i] = sigmoid(C[i]!);
    }
    return res;
  }

  /** Unique ids of `ids` (first-appearance order) and each entry's position in that list. */
  private uniq(ids: Int32Array, slot: Int32Array, rowPos: Int32Array): Int32Array {
    const list: number[] = [];
    for (let t = 0; t < ids.length; t++) {
      const v = ids[t]!;
      if (v < 0 || v >= slot.length) throw new RangeError(`DMF: id ${v} out of range`);
      let s = slot[v]!;
      if (s < 0) { s = list.length; slot[v] = s; list.push(v); }
      rowPos[t] = s;
    }
    const u = Int32Array.from(list);
    for (const v of list) slot[v] = -1;
    return u;
  }

  /** Raw dot products (logits) of rows t: uOut[rowU[t]] · iOut[rowI[t]]. */
  private dots(uOut: Float32Array, iOut: Float32Array, rowU: Int32Array, rowI: Int32Array, out: Float32Array): void {
    const d = this.dim;
    for (let t = 0; t < rowU.length; t++) {
      const uo = rowU[t]! * d, io = rowI[t]! * d;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0, j = 0;
      for (; j + 3 < d; j += 4) {
        s0 += uOut[uo + j]! * iOut[io + j]!; s1 += uOut[uo + j + 1]! * iOut[io + j + 1]!;
        s2 += uOut[uo + j + 2]! * iOut[io + j + 2]!; s3 += uOut[uo + j + 3]! * iOut[io + j + 3]!;
      }
      for (; j < d; j++) s0 += uOut[uo + j]! * iOut[io + j]!;
      out[t] = s0 + s1 + s2 + s3;
    }
  }

  /** dU[rowU[t]] += g_t·iOut[rowI[t]], dI[rowI[t]] += g_t·uOut[rowU[t]] (dI skipped when null). */
  private dotBackward(g: Float32Array, uOut: Float32Array, iOut: Float32Array, rowU: Int32Array, rowI: Int32Array,
    dU: Float32Array, dI: Float32Array | null): void {
    const d = this.dim;
    for (let t = 0; t < rowU.length; t++) {
      const gt = g[t]!;
      if (gt === 0) continue;
      const uo = rowU[t]! * d, io = rowI[t]! * d;
      for (let j = 0; j < d; j++) dU[uo + j]! += gt * iOut[io + j]!;
      if (dI) for (let j = 0; j < d; j++) dI[io + j]! += gt * uOut[uo + j]!;
    }
  }

  /**
   * One pointwise training batch: mean BCE-with-logits of dot(user tower, item tower) against
   * `labels` over the rows (users[t], items[t]); adds the gradients and returns the loss. Each
   * distinct user / item in the batch goes through its tower once.
   */
  pointwiseForwardBackward(users: Int32Array, items: Int32Array, labels: Float32Array): number {
    if (this.adapter) throw new Error('DMF: the user adapter is for CaliTune fine-tuning, not for backbone training');
    const { train, trainT } = this.data();
    const B = users.length;
    if (items.length !== B || labels.length !== B) throw new RangeError('pointwiseForwardBackward: length mismatch');
    const rowU = new Int32Array(B), rowI = new Int32Array(B);
    const uu = this.uniq(users, this.userSlot, rowU);
    const ui = this.uniq(items, this.itemSlot, rowI);
    const uOut = this.user.forward(csrRowsView(train, uu));
    const iOut = this.item.forward(csrRowsView(trainT, ui));
    const s = new Float32Array(B);
    this.dots(uOut, iOut, rowU, rowI, s);
    let loss = 0;
    const g = new Float32Array(B);
    for (let t = 0; t < B; t++) {
      const x = s[t]!, y = labels[t]!;
      loss += bceWithLogits(x, y);
      g[t] = (sigmoid(x) - y) / B;
    }
    const d = this.dim;
    const dU = new Float32Array(uu.length * d);
    const dI = this.itemsFrozen ? null : new Float32Array(ui.length * d);
    this.dotBackward(g, uOut, iOut, rowU, rowI, dU, dI);
    this.user.backward(dU);
    if (dI) this.item.backward(dI);
    return loss / B;
  }

  /** Mean BCE-with-logits without gradients (float64 accumulation; tests and diagnostics). */
  pointwiseLoss(users: Int32Array, items: Int32Array, labels: Float32Array): number {
    const { train, trainT } = this.data();
    const B = users.length;
    const U = this.withAdapter(this.user.predict(train, users, new Float32Array(B * this.dim)), users);
    const I = this.item.predict(trainT, items, new Float32Array(B * this.dim));
    let loss = 0;
    for (let t = 0; t < B; t++) {
      let x = 0;
      for (let j = 0; j < this.dim; j++) x += U[t * this.dim + j]! * I[t * this.dim + j]!;
      loss += bceWithLogits(x, labels[t]!);
    }
    return loss / B;
  }

  /**
   * Logits (raw dot products) of each user's K candidates — σ of these are the scoreAll values —
   * remembering what backward needs. Logits, not σ: see the file comment (the reference's
   * CaliDMF.forward).
   */
  forwardCandidates(users: Int32Array, candidates: Int32Array, k: number): Float32Array {
    const { train, trainT } = this.data();
    const b = users.length;
    if (candidates.length !== b * k) throw new RangeError(`forwardCandidates: ${candidates.length} candidates for ${b}×${k}`);
    const rowUu = new Int32Array(b);
    const uu = this.uniq(users, this.userSlot, rowUu);
    const rowI = new Int32Array(b * k);
    const ui = this.uniq(candidates, this.itemSlot, rowI);
    const rowU = new Int32Array(b * k);
    for (let r = 0; r < b; r++) rowU.fill(rowUu[r]!, r * k, r * k + k);
    // With the adapter the tower is frozen: its inference pass is enough (no training cache).
    const uOut = this.adapter
      ? this.withAdapter(this.user.predict(train, uu, new Float32Array(uu.length * this.dim)), uu)
      : this.user.forward(csrRowsView(train, uu));
    const iOut = this.item.forward(csrRowsView(trainT, ui));
    const out = new Float32Array(b * k);
    this.dots(uOut, iOut, rowU, rowI, out);
    this.cand = { uu, uOut, iOut, rowU, rowI, k, n: out.length };
    return out;
  }

  backwardCandidates(dScores: Float32Array): void {
    const c = this.cand;
    if (!c) throw new Error('backwardCandidates called without forwardCandidates');
    if (dScores.length !== c.n) throw new RangeError('backwardCandidates: dScores shape mismatch');
    const g = dScores; // d(loss)/d(logit): the candidate scores are the logits themselves
    const d = this.dim;
    const nu = c.uOut.length / d, ni = c.iOut.length / d;
    const dU = new Float32Array(nu * d);
    const dI = this.itemsFrozen ? null : new Float32Array(ni * d);
    this.dotBackward(g, c.uOut, c.iOut, c.rowU, c.rowI, dU, dI);
    if (this.adapter) {
      const ga = this.adapter.grad;
      for (let r = 0; r < c.uu.length; r++) {
        const o = r * d, ao = c.uu[r]! * d;
        for (let j = 0; j < d; j++) ga[ao + j]! += dU[o + j]!;
      }
    } else {
      this.user.backward(dU);
    }
    if (dI) this.item.backward(dI);
  }

  /** With the adapter on: rows of its gradient the last backwardCandidates wrote (the batch's users). */
  candidateGradRows(name: string): Int32Array | undefined {
    return this.adapter && name === USER_ADAPTER_TENSOR ? this.cand?.uu : undefined;
  }

  snapshot(): Record<string, Float32Array> {
    return snapshotParams(this.parameters());
  }

  loadWeights(w: Readonly<Record<string, Float32Array>>): void {
    loadParams(this.parameters(), w);
  }
}

registerModel('dmf', (h, seed) => new DmfModel(h, seed));
