/**
 * Element-wise activations with their backward passes. Each backward takes the forward
 * *output* y (not the input), so the forward may overwrite its input in place.
 */

/** y = max(0, x); y may alias x. */
export function reluForward(x: Float32Array, y: Float32Array, len = x.length): Float32Array {
  for (let i = 0; i < len; i++) {
    const v = x[i]!;
    // biome-ignore lint/complexity/useMathMinMax: Math.max would pass NaN through; this maps NaN to 0
    y[i] = v > 0 ? v : 0;
  }
  return y;
}

/** dx = dy·[y > 0] given the forward *output* y; dx may alias dy. */
export function reluBackward(y: Float32Array, dy: Float32Array, dx: Float32Array, len = y.length): Float32Array {
  for (let i = 0; i < len; i++) dx[i] = y[i]! > 0 ? dy[i]! : 0;
  return dx;
}

/** y = tanh(x); y may alias x. */
export function tanhForward(x: Float32Array, y: Float32Array, len = x.length): Float32Array {
  for (let i = 0; i < len; i++) y[i] = Math.tanh(x[i]!);
  return y;
}

/** dx = dy·(1 − y²) given the forward output y. */
export function tanhBackward(y: Float32Array, dy: Float32Array, dx: Float32Array, len = y.length): Float32Array {
  for (let i = 0; i < len; i++) {
    const t = y[i]!;
    dx[i] = dy[i]! * (1 - t * t);
  }
  return dx;
}

/** Numerically stable logistic function. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** y = σ(x) element-wise; y may alias x. */
export function sigmoidForward(x: Float32Array, y: Float32Array, len = x.length): Float32Array {
  for (let i = 0; i < len; i++) y[i] = sigmoid(x[i]!);
  return y;
}

/** dx = dy·y·(1 − y) given the forward output y. */
export function sigmoidBackward(y: Float32Array, dy: Float32Array, dx: Float32Array, len = y.length): Float32Array {
  for (let i = 0; i < len; i++) {
    const s = y[i]!;
    dx[i] = dy[i]! * s * (1 - s);
  }
  return dx;
}
