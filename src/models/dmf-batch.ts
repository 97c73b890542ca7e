/**
 * The pieces every DMF batch pass shares: what a pass reads from the model, the batch's unique
 * users / items (each goes through its tower once), the row-wise dot products of the two towers'
 * outputs with their backward, and the CaliTune user adapter's offset.
 */
import type { Csr } from '../math/csr.js';
import type { Parameter } from '../nn/parameter.js';
import type { DmfTower } from './dmf-tower.js';

/** What DMF's batch passes (pointwise training, the candidate path) read from the model. */
export interface DmfBatchContext {
  /** Output size of both towers. */
  readonly dim: number;
  readonly user: DmfTower;
  readonly item: DmfTower;
  /** The train interaction matrix (nUsers × nItems): the user tower's inputs. */
  readonly train: Csr;
  /** Its transpose (nItems × nUsers): the item tower's inputs. */
  readonly trainT: Csr;
  /** The per-user offset of enableUserAdapter, when on (the user tower is then frozen). */
  readonly adapter: Parameter | undefined;
  /** Whether the item tower gets no gradients. */
  readonly itemsFrozen: boolean;
  /** Scratch: user id → position in the batch's unique list (−1 = absent; restored after use). */
  readonly userSlot: Int32Array;
  /** Scratch: item id → position in the batch's unique list (−1 = absent; restored after use). */
  readonly itemSlot: Int32Array;
}

/**
 * Unique ids of `ids` (first-appearance order) and each entry's position in that list, written
 * to `rowPos`. `slot` must be all −1 (it is again on return).
 */
export function uniqueIds(ids: Int32Array, slot: Int32Array, rowPos: Int32Array): Int32Array {
  const list: number[] = [];
  for (let t = 0; t < ids.length; t++) {
    const v = ids[t]!;
    if (v < 0 || v >= slot.length) throw new RangeError(`DMF: id ${v} out of range`);
    let s = slot[v]!;
    if (s < 0) {
      s = list.length;
      slot[v] = s;
      list.push(v);
    }
    rowPos[t] = s;
  }
  const u = Int32Array.from(list);
  for (const v of list) slot[v] = -1;
  return u;
}

/** Raw dot products (logits) of rows t: out[t] = uOut[rowU[t]] · iOut[rowI[t]], rows of size d. */
export function towerDots(
  d: number,
  uOut: Float32Array,
  iOut: Float32Array,
  rowU: Int32Array,
  rowI: Int32Array,
  out: Float32Array,
): void {
  for (let t = 0; t < rowU.length; t++) {
    const uo = rowU[t]! * d,
      io = rowI[t]! * d;
    let s0 = 0,
      s1 = 0,
      s2 = 0,
      s3 = 0,
      j = 0;
    for (; j + 3 < d; j += 4) {
      s0 += uOut[uo + j]! * iOut[io + j]!;
      s1 += uOut[uo + j + 1]! * iOut[io + j + 1]!;
      s2 += uOut[uo + j + 2]! * iOut[io + j + 2]!;
      s3 += uOut[uo + j + 3]! * iOut[io + j + 3]!;
    }
    for (; j < d; j++) s0 += uOut[uo + j]! * iOut[io + j]!;
    out[t] = s0 + s1 + s2 + s3;
  }
}

/**
 * Backward of towerDots: dU[rowU[t]] += g_t·iOut[rowI[t]], dI[rowI[t]] += g_t·uOut[rowU[t]]
 * (dI skipped when null).
 */
export function towerDotsBackward(
  d: number,
  g: Float32Array,
  uOut: Float32Array,
  iOut: Float32Array,
  rowU: Int32Array,
  rowI: Int32Array,
  dU: Float32Array,
  dI: Float32Array | null,
): void {
  for (let t = 0; t < rowU.length; t++) {
    const gt = g[t]!;
    if (gt === 0) continue;
    const uo = rowU[t]! * d,
      io = rowI[t]! * d;
    for (let j = 0; j < d; j++) dU[uo + j]! += gt * iOut[io + j]!;
    if (dI) for (let j = 0; j < d; j++) dI[io + j]! += gt * uOut[uo + j]!;
  }
}

/** tower[r] + adapter[users[r]] as a new array, rows of size d (no adapter: tower itself). */
export function withUserAdapter(
  tower: Float32Array,
  users: Int32Array,
  adapter: Parameter | undefined,
  d: number,
): Float32Array {
  if (!adapter) return tower;
  const av = adapter.value;
  const out = new Float32Array(users.length * d);
  for (let r = 0; r < users.length; r++) {
    const o = r * d,
      ao = users[r]! * d;
    for (let j = 0; j < d; j++) out[o + j] = tower[o + j]! + av[ao + j]!;
  }
  return out;
}
