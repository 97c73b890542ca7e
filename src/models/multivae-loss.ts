/**
 * MultiVAE's loss as RecBole 1.2.1 trains it, with its backward pass:
 * loss = −mean_u Σ_j x_uj·log softmax(logits_u)_j + β·KL, KL = −½·mean_u Σ(1 + log σ² − μ² − σ²),
 * x = the raw 0/1 train row; β = min(annealCap, step / totalAnnealSteps) with `step` counting
 * training batches (the trainer passes it).
 */
import type { Csr } from '../math/csr.js';
import { linearBackward, linearForward } from '../nn/dense.js';
import { vaeBackwardHidden, vaeLastHidden, type VaeCache, type VaeLayers } from './multivae-network.js';

/** The loss of a batch and its two parts (loss = ce + β·kl). */
export interface VaeLossInfo {
  loss: number;
  ce: number;
  kl: number;
}

/** β of batch number `step` (1-based, as RecBole increments before use). */
export function annealBeta(step: number, annealCap: number, totalAnnealSteps: number): number {
  return totalAnnealSteps > 0 ? Math.min(annealCap, step / totalAnnealSteps) : annealCap;
}

/**
 * CE = −mean_u Σ_j x_uj log softmax_j over the n × ni `logits` of `users`. With `grad`, the
 * logits are overwritten by g·(softmax·Σx − x) (d CE / d logits for g = scale / n).
 */
function multinomialCe(
  logits: Float32Array,
  train: Csr,
  users: Int32Array,
  ni: number,
  grad: boolean,
  g: number,
): number {
  const n = users.length;
  let ce = 0;
  for (let r = 0; r < n; r++) {
    const o = r * ni;
    let mx = -Infinity;
    for (let j = 0; j < ni; j++) if (logits[o + j]! > mx) mx = logits[o + j]!;
    let se = 0;
    for (let j = 0; j < ni; j++) se += Math.exp(logits[o + j]! - mx);
    const lse = mx + Math.log(se);
    const u = users[r]!;
    const lo = train.indptr[u]!,
      hi = train.indptr[u + 1]!;
    for (let q = lo; q < hi; q++) ce -= logits[o + train.indices[q]!]! - lse;
    if (grad) {
      // d CE / d logits = (softmax·Σx − x) / n
      const cnt = hi - lo;
      for (let j = 0; j < ni; j++) logits[o + j] = cnt * Math.exp(logits[o + j]! - lse) * g;
      for (let q = lo; q < hi; q++) logits[o + train.indices[q]!]! -= g;
    }
  }
  ce /= n;
  return ce;
}

/**
 * KL = −½ mean_u Σ_j (1 + lv − μ² − e^lv) of the encoder output `enc` (n × 2L, μ | log σ²);
 * with `dEnc`, writes β·g × its gradient there.
 */
function gaussianKl(
  enc: Float32Array,
  n: number,
  L: number,
  beta: number,
  g: number,
  dEnc: Float32Array | undefined,
): number {
  let kl = 0;
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < L; j++) {
      const mu = enc[r * 2 * L + j]!,
        lv = enc[r * 2 * L + L + j]!;
      const elv = Math.exp(lv);
      kl += 1 + lv - mu * mu - elv;
      if (dEnc) {
        dEnc[r * 2 * L + j] = beta * mu * g;
        dEnc[r * 2 * L + L + j] = beta * 0.5 * (elv - 1) * g;
      }
    }
  }
  kl = (-0.5 * kl) / n;
  return kl;
}

/**
 * CE + β·KL of a forward pass already made (cache `c` of the rows `users`, whose train rows are
 * in `train`); with `grad`, adds `scale` × the gradients (the output layer's skipped while
 * `itemsFrozen`).
 */
export function vaeLoss(
  net: VaeLayers,
  train: Csr,
  users: Int32Array,
  c: VaeCache,
  opts: { beta: number; grad: boolean; scale: number; itemsFrozen: boolean },
): VaeLossInfo {
  const { beta, grad, scale, itemsFrozen } = opts;
  const n = users.length,
    ni = net.nItems,
    L = net.latent;
  if (c.n !== n) throw new RangeError(`MultiVAE loss: ${n} users for a pass over ${c.n} rows`);
  const g = scale / n;
  const { h, f } = vaeLastHidden(net, c);
  const out = net.dec[net.dec.length - 1]!;
  const logits = new Float32Array(n * ni);
  linearForward(h, n, f, out.w.value, out.b.value, ni, logits);
  const ce = multinomialCe(logits, train, users, ni, grad, g);
  const dEnc = grad ? new Float32Array(n * 2 * L) : undefined;
  const kl = gaussianKl(c.enc, n, L, beta, g, dEnc);
  if (grad) {
    const dl = logits; // now holds d loss / d logits
    const dh = new Float32Array(n * f);
    linearBackward(
      h,
      dl,
      n,
      f,
      ni,
      out.w.value,
      itemsFrozen ? undefined : out.w.grad,
      itemsFrozen ? undefined : out.b.grad,
      dh,
    );
    vaeBackwardHidden(net, c, dh, dEnc!);
  }
  return { loss: ce + beta * kl, ce, kl };
}
