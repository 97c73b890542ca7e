/** Copying parameter values out and in (snapshots, loading weights) and detecting changed weights. */
import { UserError } from '../util/errors.js';
import type { Parameter } from './parameter.js';

/** Deep copies of the parameter values (best-epoch snapshots never alias live tensors). */
export function snapshotParams(params: readonly Parameter[]): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const p of params) out[p.name] = p.value.slice();
  return out;
}

/**
 * Copies the parameter values into an earlier snapshot's arrays (no allocation) when `dst`
 * holds exactly one array of the right length per parameter name; returns false, leaving
 * `dst` untouched, when it does not.
 */
export function snapshotParamsInto(params: readonly Parameter[], dst: Record<string, Float32Array>): boolean {
  if (Object.keys(dst).length !== params.length) return false;
  for (const p of params) if (dst[p.name]?.length !== p.value.length) return false;
  for (const p of params) dst[p.name]!.set(p.value);
  return true;
}

/** Copies weights in by name; a missing tensor or a size mismatch is a UserError. */
export function loadParams(params: readonly Parameter[], w: Readonly<Record<string, Float32Array>>): void {
  for (const p of params) {
    const src = w[p.name];
    if (!src) throw new UserError(`missing tensor ${p.name}`);
    if (src.length !== p.value.length) {
      const expected = `${p.value.length} (${p.shape.join('×')})`;
      throw new UserError(`tensor ${p.name} has ${src.length} values, expected ${expected}`);
    }
    p.value.set(src);
  }
}

/** A cheap order-sensitive checksum of tensors (detects weights changed behind a cache). */
export function paramsChecksum(params: readonly Parameter[]): number {
  let s = 0;
  for (const p of params) {
    const v = p.value;
    let a = 0,
      b = 0;
    for (let i = 0; i + 1 < v.length; i += 2) {
      a += v[i]!;
      b += v[i + 1]! * 1.6180339887;
    }
    if (v.length & 1) a += v[v.length - 1]! * 0.5;
    s = s * 1.000001 + a + b + v.length;
  }
  return s;
}
