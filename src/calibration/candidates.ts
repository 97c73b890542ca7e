/**
 * Candidate items for the CaliTune loss (docs/numeric-contract.md §10): per user either the top-K items by
 * the current model's scores (item 0 masked; train items are NOT masked, as in the reference) or K
 * items drawn uniformly without replacement from 1..nItems−1 (seeded). Plus the label y
 * (is the candidate a train positive of the user).
 *
 * Our extension (config key `candidates_per_group`, default 0 = the reference): relevance
 * candidates plus, for every popularity group, the n best-scored items of that group that are
 * not already among the top K. Why: the calibration term can only raise items that are among
 * the candidates. When a backbone's top K holds no item of a group (a fully trained DMF ranks
 * almost no tail item into its top 50 on ML-100K), that group's weight is 0, the term sees
 * log(ε) and its only lever is to push the other candidates down — no tail item ever gets a
 * direct gradient, and the calibration stalls. The per-group extras give every group a
 * foothold: the best tail items of each user are raised towards the list.
 */
import type { Recommender } from '../models/recommender.js';
import type { Csr } from '../math/csr.js';
import type { Rng } from '../math/rng.js';
import { topkRow } from '../math/topk.js';

function checkK(k: number, nItems: number): void {
  if (!Number.isInteger(k) || k < 1 || k > nItems - 1) {
    throw new RangeError(`candidates: k = ${k} must be an integer in [1, ${nItems - 1}] (items without padding)`);
  }
}

/**
 * Picks one user's relevance candidates from a row of scores (item 0 already masked):
 * the top k items, then for each group g = 0..G−1 the top `perGroup` items of g outside the
 * top k, in that order. `width` = k + G·perGroup ids per row. A group with too few items left
 * is topped up with the best remaining items of any group, so every row has `width` ids.
 * Ties go to the lower item id throughout. Scratch buffers are reused: one picker per thread.
 */
export class CandidatePicker {
  readonly width: number;
  private readonly groupItems: Int32Array[];
  private readonly gathered: Float32Array;
  private readonly picked: Int32Array;
  /** stamp[item] === this.round: the item is already a candidate of the current row. */
  private readonly stamp: Int32Array;
  private round = 0;
  /** Group of each item (−1 = none) and, per row, how many top-k items each group holds. */
  private readonly itemGroup: Int32Array;
  private readonly inTop: Int32Array;

  constructor(
    readonly nItems: number,
    readonly k: number,
    readonly perGroup = 0,
    itemGroups?: Int32Array,
    nGroups = 0,
  ) {
    if (!Number.isInteger(perGroup) || perGroup < 0)
      throw new RangeError(`candidates: per-group count ${perGroup} must be an integer ≥ 0`);
    if (perGroup > 0 && (!itemGroups || itemGroups.length !== nItems || !(nGroups >= 1))) {
      throw new RangeError(
        'candidates: per-group candidates need the item groups of every item and the number of groups',
      );
    }
    const G = perGroup > 0 ? nGroups : 0;
    this.width = k + G * perGroup;
    checkK(this.width, nItems);
    const counts = new Int32Array(G);
    if (G > 0)
      for (let i = 1; i < nItems; i++) {
        const g = itemGroups![i]!;
        if (g >= 0 && g < G) counts[g]!++;
      }
    this.groupItems = Array.from({ length: G }, (_, g) => new Int32Array(counts[g]!));
    const fill = new Int32Array(G);
    if (G > 0)
      for (let i = 1; i < nItems; i++) {
        const g = itemGroups![i]!;
        if (g >= 0 && g < G) this.groupItems[g]![fill[g]!++] = i;
      }
    let maxGroup = 0;
    for (const a of this.groupItems) maxGroup = Math.max(maxGroup, a.length);
    this.gathered = new Float32Array(G > 0 ? Math.max(maxGroup, nItems) : 0);
    this.picked = new Int32Array(G > 0 ? this.width + nItems : 0);
    this.stamp = new Int32Array(G > 0 ? nItems : 0);
    this.itemGroup = G > 0 ? itemGroups! : new Int32Array(0);
    this.inTop = new Int32Array(G);
  }

  /** Writes the row's `width` candidates to out[outOff ..]. */
  pick(scores: Float32Array, off: number, out: Int32Array, outOff: number): void {
    const { nItems, k, perGroup } = this;
    // the row's previous candidates (when out holds them) narrow the native search; same list
    topkRow(scores, off, nItems, k, out, outOff, true);
    if (this.groupItems.length === 0) return;
    const round = ++this.round;
    const stamp = this.stamp;
    const inTop = this.inTop;
    inTop.fill(0);
    for (let i = 0; i < k; i++) {
      const it = out[outOff + i]!;
      if (it < 0) continue;
      stamp[it] = round;
      const g = this.itemGroup[it]!;
      if (g >= 0 && g < inTop.length) inTop[g]!++;
    }
    let w = outOff + k;
    let short = 0;
    for (let g = 0; g < this.groupItems.length; g++) {
      const items = this.groupItems[g]!;
      // The group's top (perGroup + its items among the top k) is enough; the smaller the
      // heap, the faster the pass (the tail group rarely has any item in the top k).
      const n = items.length;
      for (let j = 0; j < n; j++) this.gathered[j] = scores[off + items[j]!]!;
      const take = Math.min(n, perGroup + inTop[g]!);
      topkRow(this.gathered, 0, n, take, this.picked, 0);
      let got = 0;
      for (let j = 0; j < take && got < perGroup; j++) {
        const local = this.picked[j]!;
        if (local < 0) break;
        const it = items[local]!;
        if (stamp[it] === round) continue;
        stamp[it] = round;
        out[w++] = it;
        got++;
      }
      short += perGroup - got;
    }
    if (short > 0) {
      // Tiny catalogue or masked items: top up with the best items not yet taken.
      const take = Math.min(nItems, this.width + short);
      topkRow(scores, off, nItems, take, this.picked, 0);
      for (let j = 0; j < take && short > 0; j++) {
        const it = this.picked[j]!;
        if (it < 0) break;
        if (stamp[it] === round) continue;
        stamp[it] = round;
        out[w++] = it;
        short--;
      }
      for (; short > 0; short--) out[w++] = -1;
    }
  }
}

/**
 * Relevance candidates of each user in `users` by `model.scoreAll` (`picker.width` ids per row,
 * see CandidatePicker; a plain k means the top k), scored in blocks of `blockUsers` users.
 * Row i belongs to users[i].
 */
export function relevanceCandidates(
  model: Recommender,
  users: Int32Array,
  pickerOrK: CandidatePicker | number,
  blockUsers = 256,
  out?: Int32Array,
): Int32Array {
  const nItems = model.nItems;
  const picker = typeof pickerOrK === 'number' ? new CandidatePicker(nItems, pickerOrK) : pickerOrK;
  if (picker.nItems !== nItems)
    throw new RangeError(`relevanceCandidates: picker built for ${picker.nItems} items, the model has ${nItems}`);
  const k = picker.width;
  const res = out ?? new Int32Array(users.length * k);
  if (res.length < users.length * k) throw new RangeError('relevanceCandidates: output buffer too small');
  const block = Math.max(1, Math.min(blockUsers, users.length));
  const scores = new Float32Array(block * nItems);
  for (let start = 0; start < users.length; start += block) {
    const n = Math.min(block, users.length - start);
    const bu = users.subarray(start, start + n);
    const s = model.scoreAll(bu, scores.subarray(0, n * nItems));
    for (let r = 0; r < n; r++) {
      s[r * nItems] = -Infinity; // padding item 0
      picker.pick(s, r * nItems, res, (start + r) * k);
    }
  }
  return res;
}

/**
 * k distinct items from 1..nItems−1 per row (`rows` rows), uniformly, in random order: a partial
 * Fisher–Yates shuffle over a persistent pool (uniform whatever the pool's current order).
 */
export function randomCandidates(rng: Rng, rows: number, nItems: number, k: number, out?: Int32Array): Int32Array {
  checkK(k, nItems);
  const res = out ?? new Int32Array(rows * k);
  const pool = new Int32Array(nItems - 1);
  for (let i = 0; i < pool.length; i++) pool[i] = i + 1;
  const n = pool.length;
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < k; j++) {
      const pick = j + rng.nextInt(n - j);
      const t = pool[j]!;
      pool[j] = pool[pick]!;
      pool[pick] = t;
      res[r * k + j] = pool[j]!;
    }
  }
  return res;
}

/** candidateLabels' per-item marks, reused across calls: mark[item] === round ⇔ a train item of the current user. */
let labelMarks = new Int32Array(0);
let labelRound = 0;

/**
 * y: 1 where candidates[i·k + c] is in users[i]'s train row, else 0 (Uint8Array B×K). The user's
 * train items are marked once, so each candidate costs one look-up (no search of the row).
 */
export function candidateLabels(
  train: Csr,
  users: Int32Array,
  candidates: Int32Array,
  k: number,
  out?: Uint8Array,
): Uint8Array {
  const res = out ?? new Uint8Array(users.length * k);
  if (labelMarks.length < train.nCols) {
    labelMarks = new Int32Array(train.nCols);
    labelRound = 0;
  }
  const marks = labelMarks;
  const { indptr, indices } = train;
  for (let i = 0; i < users.length; i++) {
    const u = users[i]!;
    if (++labelRound === 0x7fffffff) {
      marks.fill(0);
      labelRound = 1;
    }
    const round = labelRound;
    for (let p = indptr[u]!, e = indptr[u + 1]!; p < e; p++) marks[indices[p]!] = round;
    for (let c = 0; c < k; c++) {
      const item = candidates[i * k + c]!;
      // an id outside the item range (−1: no candidate) is no train item
      res[i * k + c] = item >= 0 && item < marks.length && marks[item] === round ? 1 : 0;
    }
  }
  return res;
}
