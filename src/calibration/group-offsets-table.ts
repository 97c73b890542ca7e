/**
 * Per-user, per-popularity-group score offsets for backbones they cannot be folded into
 * (`group_offsets: offsets` on MultiVAE, DMF; docs/research/strong-calibration.md, round 3).
 *
 * BPR's offsets become extra embedding columns (src/calibration/group-offsets.ts). MultiVAE's
 * scores are decoder logits of a user representation computed from the interaction row, and DMF's
 * a cosine, so there the offset is a table beside the network: s(u, i) = backbone(u, i) +
 * b[u, g(i)]. The backbone is frozen; only the table b [nUsers, G] is trained. The item → group
 * map travels with it as a fixed one-hot tensor [nItems, G], so a checkpoint holds everything
 * serving needs to rebuild the scores: the backbone plus one G-vector lookup and one add per
 * scored item.
 *
 * The accuracy term is the listwise KL over the candidates (a backbone's own loss, such as
 * MultiVAE's, would give the frozen network gradients and the offsets none).
 */
import type { Recommender } from '../models/recommender.js';
import { sigmoid } from '../nn/activations.js';
import { makeParam } from '../nn/param-init.js';
import type { Parameter } from '../nn/parameter.js';
import { UserError } from '../util/errors.js';

/** Name of the offsets tensor [nUsers, G] (in checkpoints too). */
export const GROUP_OFFSETS_TENSOR = 'user_group_offsets.weight';
/** Name of the fixed item → group one-hot tensor [nItems, G] (in checkpoints too). */
export const ITEM_GROUPS_TENSOR = 'item_group_onehot.weight';

/** Each item's group from a one-hot table (−1 for an all-zero row); UserError for anything but 0/1 rows. */
export function groupsFromOneHot(onehot: Float32Array, nItems: number, nGroups: number): Int32Array {
  const groups = new Int32Array(nItems).fill(-1);
  for (let i = 0; i < nItems; i++) {
    let ones = 0;
    for (let g = 0; g < nGroups; g++) {
      const v = onehot[i * nGroups + g]!;
      if (v === 1) {
        groups[i] = g;
        ones++;
      } else if (v !== 0) ones = 2;
    }
    if (ones > 1) throw new UserError(`${ITEM_GROUPS_TENSOR}: row ${i} is not one-hot`);
  }
  return groups;
}

/**
 * A frozen backbone plus the trainable offsets table. It scores, takes candidates and backpropagates
 * like any Recommender; its parameters are the two group tensors (the one-hot never gets a gradient).
 */
export class GroupOffsetTable implements Recommender {
  readonly type: Recommender['type'];
  readonly nUsers: number;
  readonly nItems: number;
  readonly hyper: Readonly<Record<string, unknown>>;
  /** b[u, g], zero at the start (so epoch 0 scores are the backbone's). */
  readonly offsets: Parameter;
  /** onehot(g(i)), fixed. */
  readonly itemGroups: Parameter;
  private readonly groupOf: Int32Array;
  private lastUsers: Int32Array | undefined;
  private lastCands: Int32Array | undefined;
  private lastK = 0;

  /** Wraps `backbone`; `itemGroups[i]` is item i's group in 0 … nGroups − 1 (−1: none). */
  constructor(
    readonly backbone: Recommender,
    itemGroups: Int32Array,
    readonly nGroups: number,
  ) {
    if (itemGroups.length !== backbone.nItems)
      throw new UserError(`item groups cover ${itemGroups.length} items, the model has ${backbone.nItems}`);
    this.type = backbone.type;
    this.nUsers = backbone.nUsers;
    this.nItems = backbone.nItems;
    this.hyper = backbone.hyper;
    this.offsets = makeParam(GROUP_OFFSETS_TENSOR, [this.nUsers, nGroups], false);
    this.itemGroups = makeParam(ITEM_GROUPS_TENSOR, [this.nItems, nGroups], true);
    for (let i = 0; i < this.nItems; i++) {
      const g = itemGroups[i]!;
      if (g >= nGroups) throw new UserError(`item ${i} has group ${g}, expected < ${nGroups}`);
      if (g >= 0) this.itemGroups.value[i * nGroups + g] = 1;
    }
    this.groupOf = Int32Array.from(itemGroups);
  }

  /** The offset b[u, g]. */
  offset(user: number, group: number): number {
    return this.offsets.value[user * this.nGroups + group]!;
  }

  /**
   * The backbone's scores plus the offsets; for a backbone whose scores are σ of its candidate
   * logits (DMF) the offsets are added to the logits, σ(logit + b), so that lists rank as the
   * fine-tuning trained them.
   */
  scoreAll(users: Int32Array, out?: Float32Array): Float32Array {
    const logits = typeof this.backbone.scoreAllLogits === 'function';
    const res = logits ? this.backbone.scoreAllLogits!(users, out) : this.backbone.scoreAll(users, out);
    const ni = this.nItems;
    for (let r = 0; r < users.length; r++) this.addOffsets(res, r * ni, users[r]!, ni, null);
    if (logits) for (let i = 0; i < users.length * ni; i++) res[i] = sigmoid(res[i]!);
    return res;
  }

  forwardCandidates(users: Int32Array, candidates: Int32Array, k: number): Float32Array {
    const s = this.backbone.forwardCandidates(users, candidates, k);
    for (let r = 0; r < users.length; r++) this.addOffsets(s, r * k, users[r]!, k, candidates);
    this.lastUsers = users;
    this.lastCands = candidates;
    this.lastK = k;
    return s;
  }

  /** Adds b[u, g(item)] to n scores from `off`; items are `items[off…]`, or 0 … n − 1 when null. */
  private addOffsets(s: Float32Array, off: number, u: number, n: number, items: Int32Array | null): void {
    const G = this.nGroups,
      b = this.offsets.value;
    for (let c = 0; c < n; c++) {
      const g = this.groupOf[items ? items[off + c]! : c]!;
      if (g >= 0) s[off + c] = s[off + c]! + b[u * G + g]!;
    }
  }

  /** d(loss)/d b[u, g] = Σ over u's candidates in group g of d(loss)/d s; the backbone gets nothing. */
  backwardCandidates(dScores: Float32Array): void {
    const users = this.lastUsers,
      cands = this.lastCands,
      k = this.lastK;
    if (!users || !cands) throw new Error('backwardCandidates called without forwardCandidates');
    if (dScores.length !== users.length * k) throw new RangeError('backwardCandidates: dScores shape mismatch');
    const G = this.nGroups,
      grad = this.offsets.grad;
    for (let r = 0; r < users.length; r++) {
      const u = users[r]!;
      for (let c = 0; c < k; c++) {
        const g = this.groupOf[cands[r * k + c]!]!;
        if (g >= 0) grad[u * G + g] = grad[u * G + g]! + dScores[r * k + c]!;
      }
    }
  }

  parameters(): Parameter[] {
    return [this.offsets, this.itemGroups];
  }

  zeroGrad(): void {
    this.offsets.grad.fill(0);
  }
}
