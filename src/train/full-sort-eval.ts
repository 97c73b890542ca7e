/**
 * Full-sort evaluation: score every item for blocks of users through the model's scoreAll
 * (sgemm), set item 0 and the masked interactions (train; also valid for test-time lists) to
 * −∞, take the top-k and compute NDCG@k against the target CSR.
 *
 * Users with no target items: RecBole's evaluation skips them (they are not in its eval
 * dataloader), so by default they are left out of the mean (`skipEmpty: true`); the
 * reference CaliTune evaluation counts them as 0 (`skipEmpty: false`). User 0 (padding) is
 * never evaluated.
 */
import type { Csr } from '../math/csr.js';
import { scoreTopKWith } from '../math/scoring.js';
import { ndcgAtK } from '../eval/ndcg.js';

/** What full-sort evaluation needs of a model: its sizes and full scoring. */
export interface Scorer {
  readonly nUsers: number;
  readonly nItems: number;
  scoreAll(users: Int32Array, out?: Float32Array): Float32Array;
}

/** What {@link fullSortEval} ranks and scores: k, masks, relevant items, block size. */
export interface FullSortOptions {
  k?: number;
  /** Interactions set to −∞ before top-k (e.g. [train] for validation, [train, valid] for test). */
  mask: readonly Csr[];
  /** Relevant items per user. */
  target: Csr;
  /** Users per scoring block (default 256). */
  blockSize?: number;
  /** Leave users without target items out of the mean (RecBole's behaviour; default true). */
  skipEmpty?: boolean;
  /** Also return the top-k lists (nUsers × k, row 0 and skipped users filled with −1). */
  keepLists?: boolean;
}

/** NDCG@k of full-sort lists: the mean, how many users it covers, and per user. */
export interface FullSortResult {
  /** Mean NDCG@k over the evaluated users. */
  ndcg: number;
  /** Number of users in the mean. */
  nEvaluated: number;
  /** Per-user NDCG (NaN for users not evaluated), length nUsers. */
  perUser: Float64Array;
  lists?: Int32Array;
  k: number;
}

/** Reusable scratch buffers so per-epoch evaluation allocates nothing large. */
export class FullSortEvaluator {
  private scores = new Float32Array(0);
  private topIdx = new Int32Array(0);
  private userBuf = new Int32Array(0);

  evaluate(model: Scorer, opts: FullSortOptions): FullSortResult {
    const k = opts.k ?? 10;
    const block = opts.blockSize ?? 256;
    const skipEmpty = opts.skipEmpty ?? true;
    const ni = model.nItems,
      nu = model.nUsers;
    const target = opts.target;
    for (const m of opts.mask) {
      if (m.nCols !== ni) throw new RangeError(`fullSortEval: mask has ${m.nCols} items, model ${ni}`);
    }
    if (target.nCols !== ni) throw new RangeError(`fullSortEval: target has ${target.nCols} items, model ${ni}`);
    // the users to evaluate
    const users: number[] = [];
    for (let u = 1; u < Math.min(nu, target.nRows); u++) {
      if (skipEmpty && target.indptr[u + 1]! === target.indptr[u]!) continue;
      users.push(u);
    }
    if (this.scores.length < Math.min(block, Math.max(1, users.length)) * ni)
      this.scores = new Float32Array(block * ni);
    if (this.topIdx.length < users.length * k) this.topIdx = new Int32Array(users.length * k);
    if (this.userBuf.length < users.length) this.userBuf = new Int32Array(users.length);
    const ub = this.userBuf.subarray(0, users.length);
    for (let r = 0; r < users.length; r++) ub[r] = users[r]!;
    // The shared block loop: score → mask (item 0 and opts.mask) → top-k, one reused buffer.
    const top = scoreTopKWith(
      (b, out) => {
        model.scoreAll(b, out);
      },
      ni,
      ub,
      k,
      opts.mask,
      {
        blockRows: block,
        out: this.topIdx.subarray(0, users.length * k),
        scratch: this.scores,
      },
    );
    const perUser = new Float64Array(nu).fill(NaN);
    const lists = opts.keepLists ? new Int32Array(nu * k).fill(-1) : undefined;
    let sum = 0;
    for (let r = 0; r < ub.length; r++) {
      const u = ub[r]!;
      const v = ndcgAtK(top, r * k, k, target.indices, target.indptr[u]!, target.indptr[u + 1]!);
      perUser[u] = v;
      sum += v;
      if (lists) lists.set(top.subarray(r * k, r * k + k), u * k);
    }
    const res: FullSortResult = { ndcg: users.length ? sum / users.length : 0, nEvaluated: users.length, perUser, k };
    if (lists) res.lists = lists;
    return res;
  }
}

/** One-shot convenience wrapper. */
export function fullSortEval(model: Scorer, opts: FullSortOptions): FullSortResult {
  return new FullSortEvaluator().evaluate(model, opts);
}
