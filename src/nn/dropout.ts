/** Inverted dropout with its backward pass. */
import type { Rng } from '../math/rng.js';

/**
 * Inverted dropout as PyTorch's F.dropout in training mode: each element is zeroed with
 * probability p and the survivors scaled by 1/(1 − p). Writes the scale (0 or 1/(1−p)) of
 * every element into `mask` (for the backward pass). p = 0 copies; p = 1 zeroes.
 */
export function dropoutForward(
  x: Float32Array,
  p: number,
  rng: Rng,
  mask: Float32Array,
  y: Float32Array,
  len = x.length,
): Float32Array {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`dropout probability must be in [0, 1] (got ${p})`);
  const scale = p < 1 ? 1 / (1 - p) : 0;
  for (let i = 0; i < len; i++) {
    const m = p === 0 ? 1 : rng.nextFloat() < p ? 0 : scale;
    mask[i] = m;
    y[i] = x[i]! * m;
  }
  return y;
}

/** dx = dy·mask, the mask dropoutForward wrote; dx may alias dy. */
export function dropoutBackward(
  mask: Float32Array,
  dy: Float32Array,
  dx: Float32Array,
  len = mask.length,
): Float32Array {
  for (let i = 0; i < len; i++) dx[i] = dy[i]! * mask[i]!;
  return dx;
}
