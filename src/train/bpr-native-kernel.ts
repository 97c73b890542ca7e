/**
 * BPR's fused forward/backward (src/models/bpr-kernel.ts bprKernel) through the native binding: the
 * dot products and the gradient accumulation in C++ (native/bpr.cc bprScores / bprGrads, the
 * same float64 arithmetic in the same order), the loss and its derivative in between in
 * TypeScript with bprKernel's expressions (V8's exp and log), so the result is the same bits.
 * The weights do not change during a forward/backward, so splitting it at the loss is exact.
 */
import { loadNativeBlas, type NativeBlas } from '../math/native.js';
import { BPR_GAMMA, type bprKernel } from '../models/bpr-kernel.js';

type Fns = { scores: NonNullable<NativeBlas['bprScores']>; grads: NonNullable<NativeBlas['bprGrads']> };

/**
 * Triples per scores → slopes → gradients round with slot maps (lazy Adam, large tables): few
 * enough that their rows, read by the scores, are still in the cache when the gradients read
 * them again (measured at ML-20M size: 64 takes about 30 % less CPU than whole halves; 16 pays
 * for the calls). Without slot maps (dense Adam, tables that stay in the cache: ML-1M and
 * below) a half is one round, as the calls would cost more than they save (about 5 % at ML-1M).
 */
const SCORE_CHUNK = 64;

/** bprKernel's signature (the triples' loss sum · invB is returned; gradients · invB are added). */
export type BprKernelFn = typeof bprKernel;

/**
 * The native two-pass BPR kernel (slot maps included), or null when the binding lacks it or
 * CALITUNE_NATIVE_ADAM=0.
 */
export function nativeBprKernel(): BprKernelFn | null {
  if (process.env.CALITUNE_NATIVE_ADAM === '0') return null;
  const nb = loadNativeBlas();
  if (!nb.ok || typeof nb.blas.bprScores !== 'function' || typeof nb.blas.bprGrads !== 'function') return null;
  if (nb.blas.compactGrads !== true || nb.blas.gradStamps !== true) return null; // an older build: no slot maps, stamps
  const fns: Fns = { scores: nb.blas.bprScores.bind(nb.blas), grads: nb.blas.bprGrads.bind(nb.blas) };
  let xs = new Float64Array(0);
  return (U, I, gU, gI, d, users, pos, neg, start, end, invB, uSlot, iSlot, stamps) => {
    if ((uSlot === undefined) !== (iSlot === undefined)) throw new RangeError('bprGrads: give both slot maps or none');
    const chunk = uSlot === undefined ? Math.max(1, end - start) : SCORE_CHUNK;
    if (xs.length < chunk) xs = new Float64Array(chunk);
    let lossSum = 0;
    // in chunks whose rows stay in the cache from the scores to the gradients
    for (let s = start; s < end; s += chunk) {
      const e = Math.min(end, s + chunk);
      fns.scores(U, I, d, users, pos, neg, s, e, xs);
      lossSum = lossAndSlopes(xs, e - s, invB, lossSum);
      if (uSlot !== undefined && iSlot !== undefined)
        fns.grads(U, I, gU, gI, d, users, pos, neg, s, e, xs, uSlot, iSlot);
      else if (stamps !== undefined)
        fns.grads(U, I, gU, gI, d, users, pos, neg, s, e, xs, null, null, stamps.users, stamps.items, stamps.stamp);
      else fns.grads(U, I, gU, gI, d, users, pos, neg, s, e, xs);
    }
    return lossSum * invB;
  };
}

/**
 * For each score x in xs[0, n): the loss −log(γ + σ(x)) summed in order onto lossBefore (returned), and xs
 * overwritten with invB · d loss / dx — bprKernel's expressions exactly.
 */
function lossAndSlopes(xs: Float64Array, n: number, invB: number, lossBefore: number): number {
  let lossSum = lossBefore;
  for (let k = 0; k < n; k++) {
    const x = xs[k]!;
    const sig = x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
    lossSum -= Math.log(BPR_GAMMA + sig);
    xs[k] = (-(sig * (1 - sig)) / (BPR_GAMMA + sig)) * invB;
  }
  return lossSum;
}

/** The binding's bprDrawEpoch (native/bpr-draw.cc: one epoch's shuffle, pairs and negatives). */
export type EpochDrawFn = NonNullable<NativeBlas['bprDrawEpoch']>;

/** The native epoch draw, or null when the binding lacks it or CALITUNE_NATIVE_ADAM=0. */
export function nativeEpochDraw(): EpochDrawFn | null {
  if (process.env.CALITUNE_NATIVE_ADAM === '0') return null;
  const nb = loadNativeBlas();
  if (!nb.ok || typeof nb.blas.bprDrawEpoch !== 'function') return null;
  return nb.blas.bprDrawEpoch.bind(nb.blas);
}
