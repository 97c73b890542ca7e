/**
 * DMF's candidate path (CaliTune fine-tuning): the scores of each user's K candidates and their
 * backward pass.
 *
 * dmfForwardCandidates returns the raw dot products (logits) of the candidates, NOT σ(dot). This
 * is what the reference fine-tuner does (hcai-mms/CaliTune, calitune/models.py: CaliDMF.forward
 * returns the dot; only full_predict applies the sigmoid, "doesn't change order"). It changes the
 * loss: the listwise accuracy term is a softmax over the candidate scores and the calibration term
 * min-max normalises them, so σ(dot) and dot give different gradients. Measured on ML-100K (α 0.5,
 * lr 2e-5, both towers trained) the trade-off curves of the two are about the same; with α 0 the
 * logit version lowers NDCG@10 (−8% after 3 epochs) where the σ version keeps it (+1%) — the σ
 * version's accuracy term is weak (softmax of values in (0, 1), times σ' ≤ 1/4), so at α 0.5 its
 * calibration term dominates instead. We follow the reference. Candidate selection and evaluation
 * use scoreAll (σ), which ranks the same.
 *
 * The user tower is always trainable unless the user adapter is on (then the adapter is trained in
 * its place); the item tower can be frozen.
 */
import { csrRowsView } from '../nn/sparse-linear.js';
import { towerDots, towerDotsBackward, uniqueIds, withUserAdapter, type DmfBatchContext } from './dmf-batch.js';

/** What the backward pass of a candidate batch needs from its forward pass. */
export interface DmfCandidateBatch {
  /** The batch's unique users (rows of uOut). */
  uu: Int32Array;
  /** User representations (tower output, plus the adapter when on), one row per unique user. */
  uOut: Float32Array;
  /** Item-tower outputs, one row per unique candidate item. */
  iOut: Float32Array;
  /** Row of uOut for each (user, candidate) score. */
  rowU: Int32Array;
  /** Row of iOut for each (user, candidate) score. */
  rowI: Int32Array;
  /** Candidates per user. */
  k: number;
  /** Number of scores (users × k). */
  n: number;
}

/**
 * Logits (raw dot products) of each user's K candidates — σ of these are the scoreAll values —
 * and what backward needs. With the adapter the user tower is frozen: its inference pass is
 * enough (no training cache).
 */
export function dmfForwardCandidates(
  ctx: DmfBatchContext,
  users: Int32Array,
  candidates: Int32Array,
  k: number,
): { scores: Float32Array; batch: DmfCandidateBatch } {
  const { train, trainT } = ctx;
  const b = users.length;
  if (candidates.length !== b * k) {
    throw new RangeError(`forwardCandidates: ${candidates.length} candidates for ${b}×${k}`);
  }
  const rowUu = new Int32Array(b);
  const uu = uniqueIds(users, ctx.userSlot, rowUu);
  const rowI = new Int32Array(b * k);
  const ui = uniqueIds(candidates, ctx.itemSlot, rowI);
  const rowU = new Int32Array(b * k);
  for (let r = 0; r < b; r++) rowU.fill(rowUu[r]!, r * k, r * k + k);
  const uOut = ctx.adapter
    ? withUserAdapter(ctx.user.predict(train, uu, new Float32Array(uu.length * ctx.dim)), uu, ctx.adapter, ctx.dim)
    : ctx.user.forward(csrRowsView(train, uu));
  const iOut = ctx.item.forward(csrRowsView(trainT, ui));
  const out = new Float32Array(b * k);
  towerDots(ctx.dim, uOut, iOut, rowU, rowI, out);
  return { scores: out, batch: { uu, uOut, iOut, rowU, rowI, k, n: out.length } };
}

/**
 * Adds d(loss)/d(parameters) of candidate batch `c` given d(loss)/d(logits): into the adapter
 * when on, else through the user tower; through the item tower unless frozen.
 */
export function dmfBackwardCandidates(ctx: DmfBatchContext, c: DmfCandidateBatch, dScores: Float32Array): void {
  if (dScores.length !== c.n) throw new RangeError('backwardCandidates: dScores shape mismatch');
  const g = dScores; // d(loss)/d(logit): the candidate scores are the logits themselves
  const d = ctx.dim;
  const nu = c.uOut.length / d,
    ni = c.iOut.length / d;
  const dU = new Float32Array(nu * d);
  const dI = ctx.itemsFrozen ? null : new Float32Array(ni * d);
  towerDotsBackward(d, g, c.uOut, c.iOut, c.rowU, c.rowI, dU, dI);
  if (ctx.adapter) {
    const ga = ctx.adapter.grad;
    for (let r = 0; r < c.uu.length; r++) {
      const o = r * d,
        ao = c.uu[r]! * d;
      for (let j = 0; j < d; j++) ga[ao + j]! += dU[o + j]!;
    }
  } else {
    ctx.user.backward(dU);
  }
  if (dI) ctx.item.backward(dI);
}
