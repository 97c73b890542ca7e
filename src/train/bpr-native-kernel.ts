/**
 * BPR's fused forward/backward (src/models/bpr.ts bprKernel) through the native binding: the
 * dot products and the gradient accumulation in C++ (native/bpr.cc bprScores / bprGrads, the
 * same float64 arithmetic in the same order), the loss and its derivative in between in
 * TypeScript with bprKernel's expressions (V8's exp and log), so the result is the same bits.
 * The weights do not change during a forward/backward, so splitting it at the loss is exact.
 */
import { loadNativeBlas, type NativeBlas } from '../math/native.js';
import { BPR_GAMMA, type bprKernel } from '../models/bpr.js';

type Fns = { scores: NonNullable<NativeBlas['bprScores']>; grads: NonNullable<NativeBlas['bprGrads']> };

/** bprKernel's signature (the triples' loss sum · invB is returned; gradients · invB are added). */
export type BprKernelFn = typeof bprKernel;

/** The native two-pass BPR kernel, or null when the binding lacks it or CALITUNE_NATIVE_ADAM=0. */
export function nativeBprKernel(): BprKernelFn | null {
  if (process.env.CALITUNE_NATIVE_ADAM === '0') return null;
  const nb = loadNativeBlas();
  if (!nb.ok || typeof nb.blas.bprScores !== 'function' || typeof nb.blas.bprGrads !== 'function') return null;
  const fns: Fns = { scores: nb.blas.bprScores.bind(nb.blas), grads: nb.blas.bprGrads.bind(nb.blas) };
  let xs = new Float64Array(0);
  return (U, I, gU, gI, d, users, pos, neg, start, end, invB) => {
    if (xs.length < end - start) xs = new Float64Array(end - start);
    fns.scores(U, I, d, users, pos, neg, start, end, xs);
    const lossSum = lossAndSlopes(xs, end - start, invB);
    fns.grads(U, I, gU, gI, d, users, pos, neg, start, end, xs);
    return lossSum * invB;
  };
}

/**
 * For each score x in xs[0, n): the loss −log(γ + σ(x)) summed in order (returned), and xs
 * overwritten with invB · d loss / dx — bprKernel's expressions exactly.
 */
function lossAndSlopes(xs: Float64Array, n: number, invB: number): number {
  let lossSum = 0;
  for (let k = 0; k < n; k++) {
    const x = xs[k]!;
    const sig = x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
    lossSum -= Math.log(BPR_GAMMA + sig);
    xs[k] = (-(sig * (1 - sig)) / (BPR_GAMMA + sig)) * invB;
  }
  return lossSum;
}
