/**
 * MultiVAE's encoder and decoder: the layers, the batch input (the users' train rows), the pass
 * up to the decoder's last hidden layer and its backward. The output layer (the item side) and
 * the loss are in multivae-loss.ts, the candidate scores in multivae-candidates.ts.
 *
 * Encoder nItems → hidden… → 2·latent (μ, log σ²), decoder latent → …hidden → nItems, tanh
 * between layers (none after the last of each), xavier-normal weights, zero biases. Training:
 * z = μ + ε·σ with ε ~ N(0, 0.01²) (RecBole's std, not 1); evaluation: z = μ.
 */
import type { Csr } from '../math/csr.js';
import type { Rng } from '../math/rng.js';
import { tanhBackward, tanhForward } from '../nn/activations.js';
import { linearBackward, linearForward } from '../nn/dense.js';
import { makeParam, xavierNormalInit } from '../nn/param-init.js';
import type { Parameter } from '../nn/parameter.js';
import { gatherCsrRows, sparseLinearBackward, sparseLinearForward, type SparseRows } from '../nn/sparse-linear.js';
import { MULTIVAE_EPS_STD, type MultiVaeHyper } from './multivae-hyper.js';

/** One linear layer of MultiVAE (weight [outF, inF], except encoder.0's [inF, outF]). */
export interface DenseLayer {
  w: Parameter;
  b: Parameter;
  inF: number;
  outF: number;
}

/** MultiVAE's layers (the model itself satisfies this). */
export interface VaeLayers {
  /** Items including padding item 0 (the output size). */
  readonly nItems: number;
  /** Size of μ. */
  readonly latent: number;
  /** encoder.0 (sparse input; weight [nItems, hidden0]). */
  readonly enc0: DenseLayer;
  /** encoder dense layers after the first (the last outputs 2·latent). */
  readonly encRest: readonly DenseLayer[];
  /** decoder layers; the last is the item-side output layer. */
  readonly dec: readonly DenseLayer[];
}

/** Per-batch activations kept for backward. */
export interface VaeCache {
  n: number;
  x: SparseRows;
  /** encoder hidden outputs (after tanh), one per hidden layer */
  encH: Float32Array[];
  /** encoder output n × 2L (μ | log σ²) */
  enc: Float32Array;
  eps: Float32Array | undefined;
  z: Float32Array;
  decH: Float32Array[];
}

/**
 * The layers with RecBole's state_dict names (encoder.0 / encoder.2 / …, decoder.0 / …), their
 * xavier-normal weights drawn from `rng` in that order; the decoder's last layer is item side.
 */
export function buildVaeLayers(
  h: MultiVaeHyper,
  rng: Rng,
): { enc0: DenseLayer; encRest: DenseLayer[]; dec: DenseLayer[] } {
  const encDims = [h.nItems, ...h.hidden, 2 * h.latent];
  const decDims = [h.latent, ...[...h.hidden].reverse(), h.nItems];
  const dense = (name: string, inF: number, outF: number, itemSide: boolean, transposed = false): DenseLayer => {
    const w = makeParam(`${name}.weight`, transposed ? [inF, outF] : [outF, inF], itemSide);
    xavierNormalInit(w.value, inF, outF, rng);
    return { w, b: makeParam(`${name}.bias`, [outF], itemSide), inF, outF };
  };
  const enc0 = dense('encoder.0', encDims[0]!, encDims[1]!, false, true);
  const encRest: DenseLayer[] = [];
  for (let i = 1; i < encDims.length - 1; i++) {
    encRest.push(dense(`encoder.${2 * i}`, encDims[i]!, encDims[i + 1]!, false));
  }
  const dec: DenseLayer[] = [];
  for (let i = 0; i < decDims.length - 1; i++) {
    dec.push(dense(`decoder.${2 * i}`, decDims[i]!, decDims[i + 1]!, i === decDims.length - 2));
  }
  return { enc0, encRest, dec };
}

/**
 * The batch input: each user's train row L2-normalised (value 1/√n_u on its items; an empty
 * row stays zero, as F.normalize's ε clamp gives), then — when dropout > 0 — inverted
 * dropout per non-zero entry (zeros stay zero whatever the mask).
 */
export function buildVaeInput(train: Csr, users: Int32Array, dropout: number, rng: Rng | undefined): SparseRows {
  const x = gatherCsrRows(train, users);
  const values = new Float32Array(x.indices.length);
  const keep = dropout > 0 ? 1 / (1 - dropout) : 1;
  for (let r = 0; r < x.n; r++) {
    const lo = x.indptr[r]!,
      hi = x.indptr[r + 1]!;
    const v = hi > lo ? 1 / Math.sqrt(hi - lo) : 0;
    for (let q = lo; q < hi; q++) {
      if (dropout > 0) values[q] = dropout >= 1 || rng!.nextFloat() < dropout ? 0 : v * keep;
      else values[q] = v;
    }
  }
  return { n: x.n, indptr: x.indptr, indices: x.indices, values };
}

/**
 * Forward up to the decoder's last hidden layer. With `rng`, training mode: ε ~ N(0, 0.01²)
 * noise; without, z = μ. Returns the cache (activations for backward).
 */
export function vaeForwardHidden(net: VaeLayers, x: SparseRows, rng: Rng | undefined): VaeCache {
  const n = x.n,
    L = net.latent;
  const encH: Float32Array[] = [];
  let cur = new Float32Array(n * net.enc0.outF);
  sparseLinearForward(x, net.enc0.w.value, net.enc0.outF, net.enc0.b.value, cur);
  let curF = net.enc0.outF;
  // tanh after every encoder layer but the last
  for (let i = 0; i < net.encRest.length; i++) {
    tanhForward(cur, cur);
    encH.push(cur);
    const l = net.encRest[i]!;
    const y = new Float32Array(n * l.outF);
    linearForward(cur, n, curF, l.w.value, l.b.value, l.outF, y);
    cur = y;
    curF = l.outF;
  }
  if (net.encRest.length === 0) throw new Error('MultiVAE: encoder has no output layer');
  const enc = cur; // n × 2L
  const z = new Float32Array(n * L);
  let eps: Float32Array | undefined;
  if (rng) {
    eps = new Float32Array(n * L);
    for (let r = 0; r < n; r++) {
      for (let j = 0; j < L; j++) {
        const e = MULTIVAE_EPS_STD * rng.normal();
        eps[r * L + j] = e;
        z[r * L + j] = enc[r * 2 * L + j]! + e * Math.exp(0.5 * enc[r * 2 * L + L + j]!);
      }
    }
  } else {
    for (let r = 0; r < n; r++) z.set(enc.subarray(r * 2 * L, r * 2 * L + L), r * L);
  }
  // decoder hidden layers (all but the output layer), tanh after each
  const decH: Float32Array[] = [];
  let h = z,
    hF = L;
  for (let i = 0; i < net.dec.length - 1; i++) {
    const l = net.dec[i]!;
    const y = new Float32Array(n * l.outF);
    linearForward(h, n, hF, l.w.value, l.b.value, l.outF, y);
    tanhForward(y, y);
    decH.push(y);
    h = y;
    hF = l.outF;
  }
  return { n, x, encH, enc, eps, z, decH };
}

/** The input of the output layer: the decoder's last hidden output (or z without hidden layers) and its width. */
export function vaeLastHidden(net: VaeLayers, c: VaeCache): { h: Float32Array; f: number } {
  return c.decH.length
    ? { h: c.decH[c.decH.length - 1]!, f: net.dec[net.dec.length - 2]!.outF }
    : { h: c.z, f: net.latent };
}

/**
 * Backward from d(last decoder hidden) and d(enc) contributions: dz flows back through the
 * decoder hidden layers; dEnc (n × 2L, may already hold the KL gradient) receives dμ, dlogσ².
 */
export function vaeBackwardHidden(net: VaeLayers, c: VaeCache, dLast: Float32Array, dEnc: Float32Array): void {
  const n = c.n,
    L = net.latent;
  let dy = dLast;
  for (let i = net.dec.length - 2; i >= 0; i--) {
    const l = net.dec[i]!;
    tanhBackward(c.decH[i]!, dy, dy);
    const x = i === 0 ? c.z : c.decH[i - 1]!;
    const dx = new Float32Array(n * l.inF);
    linearBackward(x, dy, n, l.inF, l.outF, l.w.value, l.w.grad, l.b.grad, dx);
    dy = dx;
  }
  const dz = dy; // n × L
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < L; j++) {
      const g = dz[r * L + j]!;
      dEnc[r * 2 * L + j]! += g;
      if (c.eps) {
        const lv = c.enc[r * 2 * L + L + j]!;
        dEnc[r * 2 * L + L + j]! += g * c.eps[r * L + j]! * 0.5 * Math.exp(0.5 * lv);
      }
    }
  }
  // encoder dense layers, last first
  let d = dEnc;
  for (let i = net.encRest.length - 1; i >= 0; i--) {
    const l = net.encRest[i]!;
    const x = c.encH[i]!;
    const dx = new Float32Array(n * l.inF);
    linearBackward(x, d, n, l.inF, l.outF, l.w.value, l.w.grad, l.b.grad, dx);
    tanhBackward(x, dx, dx);
    d = dx;
  }
  sparseLinearBackward(c.x, d, net.enc0.outF, net.enc0.w.grad, net.enc0.b.grad);
}
