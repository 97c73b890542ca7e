/**
 * Per-user, per-popularity-group score offsets folded into a BPR backbone's embeddings
 * (`group_offsets`, off by default; docs/research/strong-calibration.md, idea 3).
 *
 * The fine-tuned score is s(u, i) = u·v_i + b[u, g(i)], one offset per user and popularity group.
 * It is exactly a dot product in dimension d + G: user row [u, b_u], item row [v_i, onehot(g(i))]
 * (an item without a group, such as padding item 0, gets zeros). So the fine-tuned model is a
 * plain BPR model of dimension d + G: it is scored, checkpointed, evaluated and served like any
 * BPR model, at the cost of a (d + G)-dimensional dot product.
 *
 * Why: CP's swaps amount to a per-user shift between groups, while moving a shared item tower for
 * some users moves it for everyone. An offset moves one user's groups only. The item one-hot
 * columns never change; the offsets start at zero, so epoch 0 scores equal the backbone's.
 */
import { BprModel } from '../models/bpr.js';
import type { Recommender } from '../models/recommender.js';
import type { Parameter } from '../nn/parameter.js';
import { UserError } from '../util/errors.js';
import { GROUP_OFFSETS_TENSOR, GroupOffsetTable, groupsFromOneHot, ITEM_GROUPS_TENSOR } from './group-offsets-table.js';

/**
 * Which user-side columns fine-tuning trains with group offsets on: `offsets` only the G offset
 * columns, `offsets_and_users` the offsets and the user embedding; `off` folds nothing.
 */
export const GROUP_OFFSET_MODES = ['off', 'offsets', 'offsets_and_users'] as const;
/** One of {@link GROUP_OFFSET_MODES}. */
export type GroupOffsetMode = (typeof GROUP_OFFSET_MODES)[number];

/**
 * A BPR model of dimension d + G holding a backbone's embeddings and the group offsets. Its
 * candidate backward leaves the item one-hot columns without gradient always, and the user
 * embedding columns too in `offsets` mode, so the optimizer never moves them (RAdam with a zero
 * gradient from the start keeps its moments and the weight at exactly their values).
 */
export class GroupOffsetBpr extends BprModel {
  /** The backbone's embedding size d (the offsets are columns d … d + G − 1). */
  readonly baseDim: number;
  /** The number of popularity groups G. */
  readonly nGroups: number;
  /** Whether the user embedding columns are trained as well as the offsets. */
  readonly trainUserRows: boolean;

  /** Folds `base` with zero offsets; `itemGroups[i]` is item i's group in 0 … nGroups − 1 (−1: none). */
  constructor(base: BprModel, itemGroups: Int32Array, nGroups: number, mode: Exclude<GroupOffsetMode, 'off'>) {
    if (itemGroups.length !== base.nItems)
      throw new UserError(`item groups cover ${itemGroups.length} items, the model has ${base.nItems}`);
    super({ nUsers: base.nUsers, nItems: base.nItems, dim: base.dim + nGroups });
    this.baseDim = base.dim;
    this.nGroups = nGroups;
    this.trainUserRows = mode === 'offsets_and_users';
    const d = base.dim,
      D = this.dim;
    const U = this.userEmb.value,
      I = this.itemEmb.value;
    U.fill(0);
    I.fill(0);
    for (let u = 0; u < base.nUsers; u++) U.set(base.userEmb.value.subarray(u * d, u * d + d), u * D);
    for (let i = 0; i < base.nItems; i++) {
      I.set(base.itemEmb.value.subarray(i * d, i * d + d), i * D);
      const g = itemGroups[i]!;
      if (g >= nGroups) throw new UserError(`item ${i} has group ${g}, expected < ${nGroups}`);
      if (g >= 0) I[i * D + d + g] = 1;
    }
  }

  /** The offset b[u, g]. */
  offset(user: number, group: number): number {
    return this.userEmb.value[user * this.dim + this.baseDim + group]!;
  }

  /** BPR's candidate backward, then the gradients of the fixed columns are cleared. */
  override backwardCandidates(dScores: Float32Array): void {
    super.backwardCandidates(dScores);
    const d = this.baseDim,
      D = this.dim;
    if (!this.trainUserRows) {
      const gU = this.userEmb.grad;
      for (const u of this.candidateGradRows(this.userEmb.name) ?? []) gU.fill(0, u * D, u * D + d);
    }
    const gI = this.itemEmb.grad;
    for (const i of this.candidateGradRows(this.itemEmb.name) ?? []) gI.fill(0, i * D + d, i * D + D);
  }
}

/**
 * UserError unless the configured group offsets fit the backbone, checked before anything is
 * written: `offsets_and_users` needs BPR's user embedding (other backbones take `offsets`, a
 * table beside the frozen network: src/calibration/group-offsets-table.ts).
 */
export function checkGroupOffsets(model: Recommender, mode: GroupOffsetMode): void {
  if (mode === 'offsets_and_users' && !(model instanceof BprModel)) {
    throw new UserError(
      `config key 'group_offsets': 'offsets_and_users' applies to BPR backbones only (the backbone is ` +
        `${model.type}); use 'offsets'`,
    );
  }
}

/**
 * The model fine-tuning trains: the backbone itself; with group offsets BPR's fold, or for any
 * other backbone the backbone (frozen) with an offsets table.
 */
export function withGroupOffsets(
  model: Recommender,
  mode: GroupOffsetMode,
  itemGroups: Int32Array,
  nGroups: number,
): Recommender {
  checkGroupOffsets(model, mode);
  if (mode === 'off') return model;
  if (model instanceof BprModel) return new GroupOffsetBpr(model, itemGroups, nGroups, mode);
  return new GroupOffsetTable(model, itemGroups, nGroups);
}

/**
 * The trainable tensors with group offsets: BPR's fold trains both tables, so that every
 * checkpoint holds the whole d + G model (the fixed columns get no gradient; a frozen item table
 * none at all); the offsets table its two tensors (the one-hot gets no gradient). Undefined for
 * any other model.
 */
export function groupOffsetParameters(model: Recommender): Parameter[] | undefined {
  if (model instanceof GroupOffsetBpr || model instanceof GroupOffsetTable) return model.parameters();
  return undefined;
}

/** A checkpoint tensor's shape and values, as a safetensors file gives them. */
interface CheckpointTensor {
  readonly shape: readonly number[];
  readonly data: unknown;
}

/**
 * The model a checkpoint's tensors fit. A checkpoint fine-tuned with group offsets holds, for a
 * BPR backbone, both tables with d + G columns (a BPR model of that width is returned), for any
 * other backbone the offsets table and the item groups (the backbone with that table is returned);
 * the values are overlaid by the caller. Any other checkpoint: the backbone itself.
 */
export function modelForCheckpoint(model: Recommender, tensors: ReadonlyMap<string, CheckpointTensor>): Recommender {
  const offsets = tensors.get(GROUP_OFFSETS_TENSOR),
    onehot = tensors.get(ITEM_GROUPS_TENSOR);
  if (offsets && onehot && onehot.data instanceof Float32Array && onehot.shape.length === 2) {
    const [rows, G] = onehot.shape as [number, number];
    if (rows !== model.nItems) return model; // the overlay names the mismatch
    return new GroupOffsetTable(model, groupsFromOneHot(onehot.data, rows, G), G);
  }
  if (!(model instanceof BprModel)) return model;
  const users = tensors.get(model.userEmb.name)?.shape;
  const items = tensors.get(model.itemEmb.name)?.shape;
  if (!users || !items || users.length !== 2 || items.length !== 2) return model;
  const width = users[1]!;
  const fits = users[0] === model.nUsers && items[0] === model.nItems && items[1] === width;
  if (!fits || width <= model.dim) return model;
  return new BprModel({ nUsers: model.nUsers, nItems: model.nItems, dim: width });
}
