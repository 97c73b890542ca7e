/**
 * DMF's backbone training loss: pointwise BCE-with-logits of the two towers' dot product against
 * the label (1 for positives, 0 for the sampled negatives; implicit data, so label / max rating
 * = label), as RecBole 1.2.1 trains DMF.
 */
import { sigmoid } from '../nn/activations.js';
import { csrRowsView } from '../nn/sparse-linear.js';
import { towerDots, towerDotsBackward, uniqueIds, withUserAdapter, type DmfBatchContext } from './dmf-batch.js';

/** Numerically stable BCE-with-logits ℓ(s, y) = max(s, 0) − s·y + log(1 + e^{−|s|}). */
export function bceWithLogits(s: number, y: number): number {
  return Math.max(s, 0) - s * y + Math.log1p(Math.exp(-Math.abs(s)));
}

/**
 * One pointwise training batch: mean BCE-with-logits of dot(user tower, item tower) against
 * `labels` over the rows (users[t], items[t]); adds the gradients and returns the loss. Each
 * distinct user / item in the batch goes through its tower once.
 */
export function dmfPointwiseStep(
  ctx: DmfBatchContext,
  users: Int32Array,
  items: Int32Array,
  labels: Float32Array,
): number {
  const { train, trainT } = ctx;
  const B = users.length;
  if (items.length !== B || labels.length !== B) throw new RangeError('pointwiseForwardBackward: length mismatch');
  const rowU = new Int32Array(B),
    rowI = new Int32Array(B);
  const uu = uniqueIds(users, ctx.userSlot, rowU);
  const ui = uniqueIds(items, ctx.itemSlot, rowI);
  const uOut = ctx.user.forward(csrRowsView(train, uu));
  const iOut = ctx.item.forward(csrRowsView(trainT, ui));
  const s = new Float32Array(B);
  towerDots(ctx.dim, uOut, iOut, rowU, rowI, s);
  let loss = 0;
  const g = new Float32Array(B);
  for (let t = 0; t < B; t++) {
    const x = s[t]!,
      y = labels[t]!;
    loss += bceWithLogits(x, y);
    g[t] = (sigmoid(x) - y) / B;
  }
  const d = ctx.dim;
  const dU = new Float32Array(uu.length * d);
  const dI = ctx.itemsFrozen ? null : new Float32Array(ui.length * d);
  towerDotsBackward(d, g, uOut, iOut, rowU, rowI, dU, dI);
  ctx.user.backward(dU);
  if (dI) ctx.item.backward(dI);
  return loss / B;
}

/** Mean BCE-with-logits without gradients (float64 accumulation; tests and diagnostics). */
export function dmfPointwiseLoss(
  ctx: DmfBatchContext,
  users: Int32Array,
  items: Int32Array,
  labels: Float32Array,
): number {
  const { train, trainT, dim } = ctx;
  const B = users.length;
  const U = withUserAdapter(ctx.user.predict(train, users, new Float32Array(B * dim)), users, ctx.adapter, dim);
  const I = ctx.item.predict(trainT, items, new Float32Array(B * dim));
  let loss = 0;
  for (let t = 0; t < B; t++) {
    let x = 0;
    for (let j = 0; j < dim; j++) x += U[t * dim + j]! * I[t * dim + j]!;
    loss += bceWithLogits(x, labels[t]!);
  }
  return loss / B;
}
