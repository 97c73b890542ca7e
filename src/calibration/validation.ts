/**
 * The per-epoch validation of CaliTune fine-tuning (docs/numeric-contract.md §10):
 *   - valid NDCG@k of valid-time lists (item 0 and the user's train items masked),
 *   - JSD@k of test-time lists (train items, and valid items when `remove_valid_items`, masked)
 *     against the users' target distributions,
 * both averaged over users 1..n−1, like the reference's own evaluation (a user without valid
 * items scores NDCG 0 and counts; a user without train items has P = 0, JSD stays finite).
 *
 * Speed: one scoring pass per epoch. Each block of users is scored once (a GEMM through
 * `model.scoreAll`); from the same scores we take, in order, (1) optionally the fine-tuner's
 * relevance candidates (top-K, plus any per-group extras, with only item 0 masked: the fused
 * candidate regeneration),
 * (2) the valid-time top-k after masking train items, (3) the test-time top-k after also
 * masking valid items. Buffers are allocated once and reused across epochs.
 */
import type { Csr } from '../math/csr.js';
import type { SplitDataset } from '../data/types.js';
import type { Recommender } from '../models/recommender.js';
import { topkRow, topkRows } from '../math/topk.js';
import { ndcgAtK } from '../eval/ndcg.js';
import { jsdMetric, listGroupDistribution } from '../eval/jsd.js';
import type { FusedValidate, ValidationResult } from './finetune-types.js';
import { UserError } from '../util/errors.js';
import type { CandidatePicker } from './candidates.js';

/** What {@link Validator} scores against: the split, item groups, user targets, k and the list masks. */
export interface ValidatorOptions {
  /** The run's split (train / valid masks, valid relevance). */
  readonly ds: Pick<SplitDataset, 'nUsers' | 'nItems' | 'train' | 'valid'>;
  /** Popularity group per item (−1 = none). */
  readonly itemGroups: Int32Array;
  readonly nGroups: number;
  /** nUsers × nGroups target distributions. */
  readonly targets: Float64Array | Float32Array;
  /** List length (top_k_ndcg, default 10). */
  readonly k?: number;
  /** Mask valid items in test-time lists (remove_valid_items, default true). */
  readonly removeValidItems?: boolean;
  /** Users per scoring block (default 256). */
  readonly blockRows?: number;
  /** Keep the lists in the result (needed for checkpoints; default true). */
  readonly keepLists?: boolean;
}

/** Where the fused pass writes relevance candidates (picker.width per row): row i = users[i]. */
export interface CandidateRequest {
  readonly users: Int32Array;
  readonly picker: CandidatePicker;
  readonly out: Int32Array;
}

/** Where the last validation pass spent its time, in seconds. */
export interface ValidationTiming {
  /** Seconds spent on scoring (GEMM). */
  scoreS: number;
  /** Seconds spent on the candidate top-K (fused regeneration only). */
  candS: number;
  /** Seconds spent masking, ranking and computing metrics. */
  listS: number;
}

/** Running sums over users of valid NDCG@k and test-list JSD@k, added in user order. */
interface MetricSums {
  ndcg: number;
  jsd: number;
}

/** Whether the k items of `list` from `off` include one of `items[lo..hi)`. */
function listHoldsAny(list: Int32Array, off: number, k: number, items: Int32Array, lo: number, hi: number): boolean {
  for (let i = 0; i < k; i++) {
    const it = list[off + i]!;
    for (let p = lo; p < hi; p++) if (items[p] === it) return true;
  }
  return false;
}

/**
 * CaliTune's per-epoch validation in one scoring pass: valid NDCG@k, JSD@k of the test-time lists and,
 * optionally, the next epoch's relevance candidates.
 */
export class Validator {
  readonly nUsers: number;
  readonly nItems: number;
  readonly k: number;
  private readonly train: Csr;
  private readonly valid: Csr;
  private readonly itemGroups: Int32Array;
  private readonly G: number;
  private readonly targets: Float64Array | Float32Array;
  private readonly removeValid: boolean;
  private readonly blockRows: number;
  private readonly keepLists: boolean;
  private readonly users: Int32Array;
  private readonly scores: Float32Array;
  private readonly validLists: Int32Array;
  private readonly testLists: Int32Array;
  private readonly q: Float64Array;
  /** Row of each user in a candidate request (−1 = not requested), rebuilt when the request changes. */
  private candRow = new Int32Array(0);
  private candUsers: Int32Array | undefined;
  /** Timing of the last call. */
  lastTiming: ValidationTiming = { scoreS: 0, candS: 0, listS: 0 };

  constructor(opts: ValidatorOptions) {
    const { ds } = opts;
    this.nUsers = ds.nUsers;
    this.nItems = ds.nItems;
    this.k = opts.k ?? 10;
    if (!Number.isInteger(this.k) || this.k < 1 || this.k > this.nItems - 1) {
      throw new UserError(`top_k_ndcg = ${this.k} must be an integer in [1, ${this.nItems - 1}]`);
    }
    if (opts.itemGroups.length !== this.nItems)
      throw new UserError(`item groups cover ${opts.itemGroups.length} items, the run has ${this.nItems}`);
    if (opts.targets.length !== this.nUsers * opts.nGroups)
      throw new UserError(`user targets hold ${opts.targets.length} values, expected ${this.nUsers}×${opts.nGroups}`);
    this.train = ds.train;
    this.valid = ds.valid;
    this.itemGroups = opts.itemGroups;
    this.G = opts.nGroups;
    this.targets = opts.targets;
    this.removeValid = opts.removeValidItems ?? true;
    this.blockRows = Math.max(1, Math.min(opts.blockRows ?? 256, Math.max(1, this.nUsers - 1)));
    this.keepLists = opts.keepLists ?? true;
    this.users = new Int32Array(Math.max(0, this.nUsers - 1));
    for (let i = 0; i < this.users.length; i++) this.users[i] = i + 1;
    this.scores = new Float32Array(this.blockRows * this.nItems);
    this.validLists = new Int32Array(this.nUsers * this.k).fill(-1);
    this.testLists = new Int32Array(this.nUsers * this.k).fill(-1);
    this.q = new Float64Array(this.G);
  }

  /** The callback the fine-tuner takes. */
  readonly validate = (model: Recommender): ValidationResult => this.run(model);

  /** The fine-tuner's fused callback: validation plus candidates, with the seconds the candidates took. */
  readonly fused: FusedValidate = (model, cand) => {
    const result = this.run(model, cand);
    return { result, regenS: this.lastTiming.candS };
  };

  /**
   * One pass: metrics (and lists) of the current model; with `cand`, also the relevance
   * candidates of cand.users (cand.picker's choice with item 0 masked, train items not),
   * written to cand.out.
   */
  run(model: Recommender, cand?: CandidateRequest): ValidationResult {
    if (model.nUsers !== this.nUsers || model.nItems !== this.nItems) {
      throw new UserError(
        `model is ${model.nUsers}×${model.nItems} users×items, the run ${this.nUsers}×${this.nItems}`,
      );
    }
    const { nItems } = this;
    const n = this.users.length;
    if (cand) this.prepareCandidates(cand);
    let scoreS = 0,
      candS = 0,
      listS = 0;
    const sums: MetricSums = { ndcg: 0, jsd: 0 };
    for (let r0 = 0; r0 < n; r0 += this.blockRows) {
      const b = Math.min(this.blockRows, n - r0);
      const ub = this.users.subarray(r0, r0 + b);
      const sb = this.scores.subarray(0, b * nItems);
      let t = performance.now();
      model.scoreAll(ub, sb);
      for (let r = 0; r < b; r++) sb[r * nItems] = -Infinity; // padding item
      let t2 = performance.now();
      scoreS += t2 - t;
      t = t2;
      if (cand) {
        this.pickCandidates(cand, ub, sb);
        t2 = performance.now();
        candS += t2 - t;
        t = t2;
      }
      this.blockListsAndMetrics(ub, sb, r0, sums);
      listS += performance.now() - t;
    }
    this.lastTiming = { scoreS: scoreS / 1000, candS: candS / 1000, listS: listS / 1000 };
    const res: ValidationResult = { validNdcg: n > 0 ? sums.ndcg / n : 0, jsd: n > 0 ? sums.jsd / n : 0 };
    if (this.keepLists) {
      res.validLists = this.validLists.slice();
      res.testLists = this.testLists.slice();
    }
    return res;
  }

  /** Candidate rows of a block's users, ranked with only item 0 masked. */
  private pickCandidates(cand: CandidateRequest, ub: Int32Array, sb: Float32Array): void {
    const nItems = this.nItems;
    for (let r = 0; r < ub.length; r++) {
      const row = this.candRow[ub[r]!]!;
      if (row < 0) continue;
      cand.picker.pick(sb, r * nItems, cand.out, row * cand.picker.width);
    }
  }

  /**
   * The valid-time and test-time lists of a block of users (first row r0 of `users`), masking
   * `sb` in place; adds each user's NDCG and JSD to `sums` in user order.
   */
  private blockListsAndMetrics(ub: Int32Array, sb: Float32Array, r0: number, sums: MetricSums): void {
    const { nItems, k, G } = this;
    const b = ub.length;
    const vInd = this.valid.indices,
      vPtr = this.valid.indptr,
      tInd = this.train.indices,
      tPtr = this.train.indptr;
    // Valid-time lists: train masked.
    for (let r = 0; r < b; r++) {
      const u = ub[r]!,
        row = r * nItems;
      for (let p = tPtr[u]!, e = tPtr[u + 1]!; p < e; p++) sb[row + tInd[p]!] = -Infinity;
    }
    const vl = this.validLists.subarray((r0 + 1) * k, (r0 + 1 + b) * k);
    topkRows(sb, b, nItems, k, vl);
    // Test-time lists: valid also masked. Only users whose valid-time list holds a valid
    // item can differ; the rest keep the same top-k (masking items outside it changes nothing).
    const tl = this.testLists.subarray((r0 + 1) * k, (r0 + 1 + b) * k);
    for (let r = 0; r < b; r++) {
      const u = ub[r]!,
        row = r * nItems,
        lo = vPtr[u]!,
        hi = vPtr[u + 1]!;
      sums.ndcg += ndcgAtK(vl, r * k, k, vInd, lo, hi);
      const hit = this.removeValid && hi > lo && listHoldsAny(vl, r * k, k, vInd, lo, hi);
      if (hit) {
        for (let p = lo; p < hi; p++) sb[row + vInd[p]!] = -Infinity;
        topkRow(sb, row, nItems, k, tl, r * k);
      } else {
        tl.set(vl.subarray(r * k, (r + 1) * k), r * k);
      }
      listGroupDistribution(tl, r * k, k, this.itemGroups, G, this.q, 0);
      sums.jsd += jsdMetric(this.targets, u * G, this.q, 0, G);
    }
  }

  private prepareCandidates(cand: CandidateRequest): void {
    if (cand.out.length < cand.users.length * cand.picker.width)
      throw new RangeError('Validator: candidate buffer too small');
    if (cand.picker.nItems !== this.nItems)
      throw new RangeError(
        `Validator: candidate picker built for ${cand.picker.nItems} items, the run has ${this.nItems}`,
      );
    if (this.candUsers === cand.users) return;
    this.candRow = new Int32Array(this.nUsers).fill(-1);
    for (let i = 0; i < cand.users.length; i++) {
      const u = cand.users[i]!;
      if (u < 1 || u >= this.nUsers)
        throw new RangeError(`Validator: candidate user ${u} outside 1..${this.nUsers - 1}`);
      this.candRow[u] = i;
    }
    this.candUsers = cand.users;
  }
}
