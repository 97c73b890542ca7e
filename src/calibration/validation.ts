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
 *
 * Masking only removes items from a row's ranking (higher score, then lower item id; see
 * src/math/topk.ts), so a masked top-k is the first k unmasked items of the unmasked order.
 * When the fused pass has just ranked a user's top K candidates (item 0 masked only), the
 * valid-time and test-time lists are read off those K whenever they hold k unmasked items (or
 * every finite score of the row): the same lists as a second ranking of the masked row, without
 * scanning all items again. Users whose top K is mostly train items are ranked on the masked row.
 */
import type { Csr } from '../math/csr.js';
import type { SplitDataset } from '../data/types.js';
import type { Recommender } from '../models/recommender.js';
import { topkRow } from '../math/topk.js';
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
  /** seen[item] === round: the item is masked for the user at hand (list derivation from candidates). */
  private readonly seen: Int32Array;
  private round = 0;
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
    this.seen = new Int32Array(this.nItems);
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
      this.blockListsAndMetrics(ub, sb, r0, sums, cand);
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
   * `sb` in place where a list is ranked on the row; adds each user's NDCG and JSD to `sums` in
   * user order. With `cand`, lists are first read off the users' fresh candidates.
   */
  private blockListsAndMetrics(
    ub: Int32Array,
    sb: Float32Array,
    r0: number,
    sums: MetricSums,
    cand?: CandidateRequest,
  ): void {
    const { nItems, k, G } = this;
    const vInd = this.valid.indices,
      vPtr = this.valid.indptr;
    const vl = this.validLists.subarray((r0 + 1) * k, (r0 + 1 + ub.length) * k);
    const tl = this.testLists.subarray((r0 + 1) * k, (r0 + 1 + ub.length) * k);
    for (let r = 0; r < ub.length; r++) {
      const u = ub[r]!,
        row = r * nItems,
        lo = vPtr[u]!,
        hi = vPtr[u + 1]!;
      const cOff = cand ? this.candRow[u]! * cand.picker.width : -1;
      // Valid-time list: train masked.
      const fromCand = cOff >= 0 && this.listFromCandidates(cand!, cOff, u, false, vl, r * k);
      if (!fromCand) {
        this.maskRow(sb, row, this.train, u);
        topkRow(sb, row, nItems, k, vl, r * k);
      }
      sums.ndcg += ndcgAtK(vl, r * k, k, vInd, lo, hi);
      // Test-time list: valid also masked. Only users whose valid-time list holds a valid item
      // can differ; the rest keep the same top-k (masking items outside it changes nothing).
      const hit = this.removeValid && hi > lo && listHoldsAny(vl, r * k, k, vInd, lo, hi);
      if (hit) {
        if (!(fromCand && this.listFromCandidates(cand!, cOff, u, true, tl, r * k))) {
          if (fromCand) this.maskRow(sb, row, this.train, u);
          this.maskRow(sb, row, this.valid, u);
          topkRow(sb, row, nItems, k, tl, r * k);
        }
      } else {
        tl.set(vl.subarray(r * k, (r + 1) * k), r * k);
      }
      listGroupDistribution(tl, r * k, k, this.itemGroups, G, this.q, 0);
      sums.jsd += jsdMetric(this.targets, u * G, this.q, 0, G);
    }
  }

  /** Sets the scores of user u's items of `m` (train or valid) to −∞ in the row at `row`. */
  private maskRow(sb: Float32Array, row: number, m: Csr, u: number): void {
    const ind = m.indices;
    for (let p = m.indptr[u]!, e = m.indptr[u + 1]!; p < e; p++) sb[row + ind[p]!] = -Infinity;
  }

  /**
   * User u's top-k with train items (and valid items when `alsoValid`) masked, read off its top
   * K candidates at cand.out[cOff ..] into out[outOff ..]; false when those K do not settle it
   * (fewer than k unmasked among them while the row holds more finite scores).
   */
  private listFromCandidates(
    cand: CandidateRequest,
    cOff: number,
    u: number,
    alsoValid: boolean,
    out: Int32Array,
    outOff: number,
  ): boolean {
    const { k, seen } = this;
    const round = ++this.round;
    const mark = (m: Csr) => {
      for (let p = m.indptr[u]!, e = m.indptr[u + 1]!; p < e; p++) seen[m.indices[p]!] = round;
    };
    mark(this.train);
    if (alsoValid) mark(this.valid);
    const K = cand.picker.k,
      ids = cand.out;
    let n = 0;
    for (let c = 0; c < K && n < k; c++) {
      const it = ids[cOff + c]!;
      if (it < 0) {
        // The row has no more finite scores: the rest of the list is empty, as topk pads it.
        for (; n < k; n++) out[outOff + n] = -1;
        return true;
      }
      if (seen[it] !== round) out[outOff + n++] = it;
    }
    return n === k;
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
