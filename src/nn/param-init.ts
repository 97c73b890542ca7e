/** Creating parameters and filling them with their initial random values. */
import type { Rng } from '../math/rng.js';
import type { Parameter } from './parameter.js';

/** A parameter with fresh zeroed value and grad buffers. */
export function makeParam(name: string, shape: readonly number[], itemSide: boolean): Parameter {
  const n = shape.reduce((a, b) => a * b, 1);
  return { name, shape: [...shape], value: new Float32Array(n), grad: new Float32Array(n), itemSide };
}

/** Fills with N(mean, std²) draws. */
export function normalInit(out: Float32Array, std: number, rng: Rng, mean = 0): Float32Array {
  for (let i = 0; i < out.length; i++) out[i] = mean + std * rng.normal();
  return out;
}

/** PyTorch xavier_normal_ for a weight with the given fans: std = sqrt(2 / (fanIn + fanOut)). */
export function xavierNormalInit(out: Float32Array, fanIn: number, fanOut: number, rng: Rng): Float32Array {
  return normalInit(out, Math.sqrt(2 / (fanIn + fanOut)), rng);
}
