/**
 * MultiVAE's candidate path (CaliTune fine-tuning): the model runs in evaluation mode (μ, no
 * dropout — the scores whose top-K the candidates are) and the decoder's output layer is
 * evaluated at the candidate items only. The item side (`freeze_item_emb`) is that output layer
 * (last weight and bias).
 */
import { vaeBackwardHidden, vaeLastHidden, type VaeCache, type VaeLayers } from './multivae-network.js';

/**
 * Output-layer logits of the K candidates per row of the evaluation-mode pass `c` (b × k,
 * row-major): only the candidates' rows of the output layer are evaluated.
 */
export function vaeCandidateLogits(net: VaeLayers, c: VaeCache, candidates: Int32Array, k: number): Float32Array {
  const b = c.n;
  const { h, f } = vaeLastHidden(net, c);
  const outL = net.dec[net.dec.length - 1]!;
  const W = outL.w.value,
    bias = outL.b.value;
  const out = new Float32Array(b * k);
  for (let r = 0; r < b; r++) {
    const ho = r * f;
    for (let q = 0; q < k; q++) {
      const it = candidates[r * k + q]!;
      if (it < 0 || it >= net.nItems) throw new RangeError(`forwardCandidates: item ${it} out of range`);
      const wo = it * f;
      let s = bias[it]!;
      for (let j = 0; j < f; j++) s += h[ho + j]! * W[wo + j]!;
      out[r * k + q] = s;
    }
  }
  return out;
}

/**
 * Backward of vaeCandidateLogits given d(loss)/d(logits): the output layer's gradients (unless
 * `itemsFrozen`), then through the decoder and encoder. Evaluation mode: z = μ, so only dμ flows
 * (no KL term on the candidate path).
 */
export function vaeBackwardCandidates(
  net: VaeLayers,
  c: VaeCache,
  cands: Int32Array,
  k: number,
  dScores: Float32Array,
  itemsFrozen: boolean,
): void {
  const b = c.n;
  if (dScores.length !== b * k) throw new RangeError('backwardCandidates: dScores shape mismatch');
  const { h, f } = vaeLastHidden(net, c);
  const out = net.dec[net.dec.length - 1]!;
  const W = out.w.value,
    gW = out.w.grad,
    gB = out.b.grad;
  const dh = new Float32Array(b * f);
  const frozen = itemsFrozen;
  for (let r = 0; r < b; r++) {
    const ho = r * f;
    for (let q = 0; q < k; q++) {
      const g = dScores[r * k + q]!;
      if (g === 0) continue;
      const it = cands[r * k + q]!,
        wo = it * f;
      for (let j = 0; j < f; j++) dh[ho + j]! += g * W[wo + j]!;
      if (!frozen) {
        gB[it]! += g;
        for (let j = 0; j < f; j++) gW[wo + j]! += g * h[ho + j]!;
      }
    }
  }
  // evaluation mode: z = μ, so only dμ flows (no KL term on the candidate path)
  vaeBackwardHidden(net, c, dh, new Float32Array(b * 2 * net.latent));
}
