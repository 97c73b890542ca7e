/**
 * BPR's fused forward/backward over a range of (user, positive, negative) triples, in
 * TypeScript (src/train/bpr-native-kernel.ts runs the same arithmetic in the binding).
 */

/** RecBole's BPRLoss γ. */
export const BPR_GAMMA = 1e-10;

/**
 * Row stamps of gradient buffers that are not cleared between batches: a row whose stamp is not
 * the batch's holds an older batch's gradient (src/nn/adam.ts StampedGrads reads them that way).
 */
export interface GradStamps {
  users: Int32Array;
  items: Int32Array;
  /** This batch's stamp. */
  stamp: number;
}

/** Clears row `row` (at offset o of g) and stamps it, unless the batch already added to it. */
function clearOnFirstAddition(stamps: Int32Array, row: number, g: Float32Array, o: number, d: number, stamp: number) {
  if (stamps[row] === stamp) return;
  stamps[row] = stamp;
  g.fill(0, o, o + d);
}

/**
 * The fused BPR kernel: for each triple t in [start, end), x = u·(p − n),
 * loss_t = −log(γ + σ(x)); adds invB · d loss_t / d weights into gU / gI and returns
 * invB · Σ loss_t. Row-major tables with `d` columns. With slot maps `uSlot` / `iSlot` (lazy
 * Adam's compact gradients) the gradient of user u goes to row uSlot[u] of gU and that of item
 * i to row iSlot[i] of gI: each gradient row gets the same additions in the same order. With
 * `stamps` (whole tables, no slot maps) a row is cleared before its first addition of the batch.
 */
export function bprKernel(
  U: Float32Array,
  I: Float32Array,
  gU: Float32Array,
  gI: Float32Array,
  d: number,
  users: Int32Array,
  pos: Int32Array,
  neg: Int32Array,
  start: number,
  end: number,
  invB: number,
  uSlot?: Int32Array,
  iSlot?: Int32Array,
  stamps?: GradStamps,
): number {
  if (stamps !== undefined && (uSlot !== undefined || iSlot !== undefined)) {
    throw new RangeError('bprKernel: stamps go with whole-table gradients (no slot maps)');
  }
  let lossSum = 0;
  for (let t = start; t < end; t++) {
    const uo = users[t]! * d,
      po = pos[t]! * d,
      no = neg[t]! * d;
    const guo = uSlot === undefined ? uo : uSlot[users[t]!]! * d,
      gpo = iSlot === undefined ? po : iSlot[pos[t]!]! * d,
      gno = iSlot === undefined ? no : iSlot[neg[t]!]! * d;
    if (guo + d > gU.length || gpo + d > gI.length || gno + d > gI.length) {
      throw new RangeError('bprKernel: a gradient row lies outside gU / gI');
    }
    let a0 = 0,
      a1 = 0,
      b0 = 0,
      b1 = 0;
    let j = 0;
    for (; j + 1 < d; j += 2) {
      const u0 = U[uo + j]!,
        u1 = U[uo + j + 1]!;
      a0 += u0 * I[po + j]!;
      a1 += u1 * I[po + j + 1]!;
      b0 += u0 * I[no + j]!;
      b1 += u1 * I[no + j + 1]!;
    }
    for (; j < d; j++) {
      a0 += U[uo + j]! * I[po + j]!;
      b0 += U[uo + j]! * I[no + j]!;
    }
    const x = Math.fround(a0 + a1) - Math.fround(b0 + b1);
    const sig = x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
    lossSum -= Math.log(BPR_GAMMA + sig);
    const g = (-(sig * (1 - sig)) / (BPR_GAMMA + sig)) * invB;
    if (stamps !== undefined) {
      clearOnFirstAddition(stamps.users, users[t]!, gU, guo, d, stamps.stamp);
      clearOnFirstAddition(stamps.items, pos[t]!, gI, gpo, d, stamps.stamp);
      clearOnFirstAddition(stamps.items, neg[t]!, gI, gno, d, stamps.stamp);
    }
    for (let q = 0; q < d; q++) {
      const u = U[uo + q]!,
        ip = I[po + q]!,
        inn = I[no + q]!;
      gU[guo + q]! += g * (ip - inn);
      gI[gpo + q]! += g * u;
      gI[gno + q]! -= g * u;
    }
  }
  return lossSum * invB;
}
