/**
 * BPR backbone, RecBole-equivalent: a user and an item embedding table, score = dot product,
 * xavier-normal initialisation, loss −mean log(1e-10 + σ(s⁺ − s⁻)). Forward and backward are
 * hand-written; the trainer uses the fused `bprForwardBackward`, the CaliTune fine-tuner the
 * generic `forwardCandidates` / `backwardCandidates` pair.
 */
import { sgemm, withSingleBlasThread } from '../math/gemm.js';
import { Rng } from '../math/rng.js';
import { gatherRows, scatterAddRows } from '../math/row-blocks.js';
import type { Parameter } from '../nn/parameter.js';
import { checkPositiveInt } from '../util/checks.js';
import { UserError } from '../util/errors.js';
import type { Recommender } from './recommender.js';
import { BPR_GAMMA, bprKernel } from './bpr-kernel.js';

/** BPR's sizes: users and items (padding included) and the embedding size. */
export interface BprHyper {
  /** Users including padding user 0. */
  nUsers: number;
  /** Items including padding item 0. */
  nItems: number;
  /** Embedding size (RecBole `embedding_size`). */
  dim: number;
}

/**
 * PyTorch's xavier_normal_ for a 2-D weight [rows, cols]: fan_in = cols, fan_out = rows,
 * std = sqrt(2 / (fan_in + fan_out)).
 */
export function xavierNormal(out: Float32Array, rows: number, cols: number, rng: Rng): Float32Array {
  if (out.length !== rows * cols) throw new RangeError('xavierNormal: buffer does not fit shape');
  const std = Math.sqrt(2 / (rows + cols));
  for (let i = 0; i < out.length; i++) out[i] = std * rng.normal();
  return out;
}

/** Per-sample BPR loss −log(γ + σ(x)) and its derivative d/dx, in float64. */
export function bprLossAndGrad(x: number): [loss: number, dx: number] {
  const sig = sigmoid(x);
  const loss = -Math.log(BPR_GAMMA + sig);
  // d/dx −log(γ + σ) = −σ(1−σ) / (γ + σ)
  const dx = -(sig * (1 - sig)) / (BPR_GAMMA + sig);
  return [loss, dx];
}

function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** A zeroed Float32Array on a SharedArrayBuffer (worker threads can use it without copies). */
export function sharedF32(n: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(n * 4));
}

/** A zeroed Int32Array on a SharedArrayBuffer (see sharedF32). */
export function sharedI32(n: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(n * 4));
}

/** Bayesian personalised ranking: a user and an item embedding, score = their dot product. */
export class BprModel implements Recommender {
  readonly type = 'bpr' as const;
  readonly nUsers: number;
  readonly nItems: number;
  readonly dim: number;
  readonly hyper: Readonly<Record<string, unknown>>;
  readonly userEmb: Parameter;
  readonly itemEmb: Parameter;

  private lastUsers: Int32Array | undefined;
  private lastCands: Int32Array | undefined;
  private lastK = 0;
  private gatherBuf: Float32Array = new Float32Array(0);
  /** Item tensors frozen (setItemsFrozen): no item gradients are computed or zeroed. */
  private itemsFrozen = false;
  /** Gathered candidate item rows of the last forwardCandidates (b·k × d). */
  private candBuf = new Float32Array(0);
  /** Candidate path scratch: item → column map (−1 = none), per-candidate column, distinct items. */
  private colOf = new Int32Array(0);
  private candCol = new Int32Array(0);
  private distinct = new Int32Array(0);
  private nDistinct = 0;
  private userBuf = new Float32Array(0);
  private sBuf = new Float32Array(0);
  private gradBuf = new Float32Array(0);

  /**
   * Weights drawn with xavier-normal from `new Rng(seed)` (users first, then items).
   * Values and grads live on SharedArrayBuffers so the trainer's worker can share them.
   */
  constructor(hyper: BprHyper, seed = 0) {
    this.nUsers = checkPositiveInt('nUsers', hyper.nUsers);
    this.nItems = checkPositiveInt('nItems', hyper.nItems);
    this.dim = checkPositiveInt('dim', hyper.dim);
    this.hyper = { nUsers: this.nUsers, nItems: this.nItems, dim: this.dim };
    const d = this.dim;
    const rng = new Rng(seed);
    const u = xavierNormal(sharedF32(this.nUsers * d), this.nUsers, d, rng);
    const it = xavierNormal(sharedF32(this.nItems * d), this.nItems, d, rng);
    this.userEmb = {
      name: 'user_embedding.weight',
      shape: [this.nUsers, d],
      value: u,
      grad: sharedF32(u.length),
      itemSide: false,
    };
    this.itemEmb = {
      name: 'item_embedding.weight',
      shape: [this.nItems, d],
      value: it,
      grad: sharedF32(it.length),
      itemSide: true,
    };
  }

  parameters(): Parameter[] {
    return [this.userEmb, this.itemEmb];
  }

  zeroGrad(): void {
    this.userEmb.grad.fill(0);
    if (!this.itemsFrozen) this.itemEmb.grad.fill(0);
  }

  /**
   * Freezes (or unfreezes) the item embedding for the candidate path: while frozen,
   * backwardCandidates computes no item gradient and zeroGrad leaves the item gradient
   * (zeroed once here) alone. The fused BPR kernel is not affected.
   */
  setItemsFrozen(frozen: boolean): void {
    if (frozen && !this.itemsFrozen) this.itemEmb.grad.fill(0);
    this.itemsFrozen = frozen;
  }

  /** users.length × nItems scores through sgemm (A·Bᵀ), in blocks of gathered user rows. */
  scoreAll(users: Int32Array, out?: Float32Array): Float32Array {
    const n = users.length,
      ni = this.nItems,
      d = this.dim;
    const res = out ?? new Float32Array(n * ni);
    if (res.length < n * ni) throw new RangeError(`scoreAll: output holds ${res.length} values, needs ${n * ni}`);
    const U = this.userEmb.value,
      I = this.itemEmb.value;
    const block = 512;
    if (this.gatherBuf.length < Math.min(n, block) * d) this.gatherBuf = new Float32Array(Math.min(n, block) * d);
    const A = this.gatherBuf;
    for (let b0 = 0; b0 < n; b0 += block) {
      const m = Math.min(block, n - b0);
      for (let r = 0; r < m; r++) {
        const u = users[b0 + r]!;
        if (u < 0 || u >= this.nUsers) throw new RangeError(`scoreAll: user ${u} out of range`);
        A.set(U.subarray(u * d, u * d + d), r * d);
      }
      sgemm(false, true, m, ni, d, 1, A, d, I, d, 0, res.subarray(b0 * ni, (b0 + m) * ni), ni);
    }
    return res;
  }

  /**
   * Candidate scores, batched: the batch's distinct candidate items (popular items recur across
   * users) are gathered once into a contiguous nD × d block G, one GEMM gives the b × nD scores
   * S = U_batch · Gᵀ, and each user's k scores are picked from S. backwardCandidates reuses G:
   * with D the b × nD matrix of d(loss)/d(score) (zero where an item is not a user's
   * candidate), dU_batch = D · G and dG = Dᵀ · U_batch are two more GEMMs, added to the rows.
   */
  forwardCandidates(users: Int32Array, candidates: Int32Array, k: number): Float32Array {
    const b = users.length,
      d = this.dim,
      ni = this.nItems;
    if (candidates.length !== b * k)
      throw new RangeError(`forwardCandidates: ${candidates.length} candidates for ${b}×${k}`);
    const U = this.userEmb.value,
      I = this.itemEmb.value;
    if (this.colOf.length !== ni) this.colOf = new Int32Array(ni).fill(-1);
    const colOf = this.colOf;
    if (this.candCol.length < b * k) this.candCol = new Int32Array(b * k);
    if (this.distinct.length < Math.min(b * k, ni)) this.distinct = new Int32Array(Math.min(b * k, ni));
    let nD = 0;
    for (let i = 0; i < b * k; i++) {
      const it = candidates[i]!;
      if (!(it >= 0 && it < ni)) {
        for (let q = 0; q < nD; q++) colOf[this.distinct[q]!] = -1;
        throw new RangeError(`forwardCandidates: item ${it} out of range`);
      }
      let c = colOf[it]!;
      if (c < 0) {
        c = nD++;
        colOf[it] = c;
        this.distinct[c] = it;
      }
      this.candCol[i] = c;
    }
    for (let q = 0; q < nD; q++) colOf[this.distinct[q]!] = -1; // leave the map clean
    if (this.candBuf.length < nD * d) this.candBuf = new Float32Array(Math.min(b * k, ni) * d);
    const G = this.candBuf;
    gatherRows(I, d, this.distinct, nD, G);
    if (this.userBuf.length < b * d) this.userBuf = new Float32Array(b * d);
    const A = this.userBuf;
    for (let r = 0; r < b; r++) {
      const u = users[r]!;
      if (!(u >= 0 && u < this.nUsers)) throw new RangeError(`forwardCandidates: user ${u} out of range`);
    }
    gatherRows(U, d, users, b, A);
    if (this.sBuf.length < b * nD) this.sBuf = new Float32Array(b * nD);
    const S = this.sBuf;
    withSingleBlasThread(() => sgemm(false, true, b, nD, d, 1, A, d, G, d, 0, S, nD));
    const out = new Float32Array(b * k);
    for (let r = 0; r < b; r++) for (let c = 0; c < k; c++) out[r * k + c] = S[r * nD + this.candCol[r * k + c]!]!;
    this.nDistinct = nD;
    this.lastUsers = users;
    this.lastCands = candidates;
    this.lastK = k;
    return out;
  }

  /**
   * Rows whose gradient the last backwardCandidates may have written: the batch's users for the
   * user table, its distinct candidates for the item table (none while items are frozen). Lets
   * the fine-tuner's row-sparse optimizer skip scanning the gradients.
   */
  candidateGradRows(name: string): Int32Array | undefined {
    if (name === this.userEmb.name) return this.lastUsers;
    if (name === this.itemEmb.name)
      return this.itemsFrozen ? new Int32Array(0) : this.distinct.subarray(0, this.nDistinct);
    return undefined;
  }

  backwardCandidates(dScores: Float32Array): void {
    const users = this.lastUsers,
      cands = this.lastCands,
      k = this.lastK;
    if (!users || !cands) throw new Error('backwardCandidates called without forwardCandidates');
    if (dScores.length !== users.length * k) throw new RangeError('backwardCandidates: dScores shape mismatch');
    const b = users.length,
      d = this.dim,
      nD = this.nDistinct;
    const gU = this.userEmb.grad,
      gI = this.itemEmb.grad;
    // D: b × nD, d(loss)/d(score) at each user's candidate columns (a candidate listed twice adds).
    const D = this.sBuf;
    D.fill(0, 0, b * nD);
    for (let r = 0; r < b; r++)
      for (let c = 0; c < k; c++) D[r * nD + this.candCol[r * k + c]!]! += dScores[r * k + c]!;
    if (this.gradBuf.length < Math.max(b, nD) * d) this.gradBuf = new Float32Array(Math.max(b, nD) * d);
    const T = this.gradBuf;
    withSingleBlasThread(() => sgemm(false, false, b, d, nD, 1, D, nD, this.candBuf, d, 0, T, d)); // dU_batch = D · G
    scatterAddRows(gU, d, users, b, T);
    if (this.itemsFrozen) return;
    // dG = Dᵀ · U_batch
    withSingleBlasThread(() => sgemm(true, false, nD, d, b, 1, D, nD, this.userBuf, d, 0, T, d));
    scatterAddRows(gI, d, this.distinct, nD, T);
  }

  /**
   * Fused BPR forward + backward over triples [start, end) of (users, pos, neg): adds
   * d(loss)/d(weights) into the grad buffers, where loss = Σ_t loss_t / batchSize (default
   * end − start, i.e. the batch mean), and returns that loss. Only the rows in the batch are
   * touched, as PyTorch's embedding backward does.
   */
  bprForwardBackward(
    users: Int32Array,
    pos: Int32Array,
    neg: Int32Array,
    start: number,
    end: number,
    batchSize = end - start,
  ): number {
    return bprKernel(
      this.userEmb.value,
      this.itemEmb.value,
      this.userEmb.grad,
      this.itemEmb.grad,
      this.dim,
      users,
      pos,
      neg,
      start,
      end,
      1 / batchSize,
    );
  }

  /** Mean BPR loss over the triples, no gradients (float64 accumulation; for tests). */
  bprLoss(users: Int32Array, pos: Int32Array, neg: Int32Array): number {
    const d = this.dim;
    const U = this.userEmb.value,
      I = this.itemEmb.value;
    let sum = 0;
    for (let t = 0; t < users.length; t++) {
      const uo = users[t]! * d,
        po = pos[t]! * d,
        no = neg[t]! * d;
      let x = 0;
      for (let j = 0; j < d; j++) x += U[uo + j]! * (I[po + j]! - I[no + j]!);
      sum += bprLossAndGrad(x)[0];
    }
    return sum / users.length;
  }

  /** Deep copies of the weights (best-epoch snapshots must never alias the live tensors). */
  snapshot(): Record<string, Float32Array> {
    return { [this.userEmb.name]: this.userEmb.value.slice(), [this.itemEmb.name]: this.itemEmb.value.slice() };
  }

  /** Copies weights in (shapes must match). */
  loadWeights(w: Readonly<Record<string, Float32Array>>): void {
    for (const p of this.parameters()) {
      const src = w[p.name];
      if (!src) throw new UserError(`missing tensor ${p.name}`);
      if (src.length !== p.value.length)
        throw new UserError(
          `tensor ${p.name} has ${src.length} values, expected ${p.value.length} (${p.shape.join('×')})`,
        );
      p.value.set(src);
    }
  }
}
