/** Checks of plain values shared by every layer (a UserError naming the value on failure). */
import { UserError } from './errors.js';

/** Returns `v` when it is an integer ≥ 1. */
export function checkPositiveInt(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw new UserError(`${name} must be a positive integer (got ${String(v)})`);
  }
  return v;
}

/** A numeric array as the checks read it: any typed array or plain array of numbers. */
export type NumericArray = ArrayLike<number>;

/** Index of the first value that is NaN or ±Infinity, or −1 when every value is finite. */
export function firstNonFinite(data: NumericArray): number {
  // one loop per array kind: each stays monomorphic, so the check runs at memory speed
  if (data instanceof Float32Array) return firstNonFiniteF32(data);
  if (data instanceof Float64Array) return firstNonFiniteF64(data);
  const n = data.length;
  for (let i = 0; i < n; i++) {
    const v = data[i]!;
    // v − v is 0 for every finite v and NaN for NaN and ±Infinity
    if (v - v !== 0) return i;
  }
  return -1;
}

function firstNonFiniteF32(data: Float32Array): number {
  const n = data.length;
  for (let i = 0; i < n; i++) {
    const v = data[i]!;
    if (v - v !== 0) return i;
  }
  return -1;
}

function firstNonFiniteF64(data: Float64Array): number {
  const n = data.length;
  for (let i = 0; i < n; i++) {
    const v = data[i]!;
    if (v - v !== 0) return i;
  }
  return -1;
}

/**
 * Index of the first value (from index `from` on) outside [min, max] that is not in `allowed`,
 * or −1. A NaN is outside every range.
 */
export function firstOutOfRange(
  data: NumericArray,
  min: number,
  max: number,
  allowed: readonly number[] = [],
  from = 0,
): number {
  if (data instanceof Int32Array) return firstOutOfRangeI32(data, min, max, allowed, from);
  const n = data.length;
  for (let i = from; i < n; i++) {
    const v = data[i]!;
    if (v >= min && v <= max) continue;
    if (allowed.length > 0 && allowed.includes(v)) continue;
    return i;
  }
  return -1;
}

/** {@link firstOutOfRange} for int32 arrays (ids, groups, counts), a monomorphic loop. */
function firstOutOfRangeI32(data: Int32Array, min: number, max: number, allowed: readonly number[], from: number) {
  const n = data.length;
  for (let i = from; i < n; i++) {
    const v = data[i]!;
    if (v >= min && v <= max) continue;
    if (allowed.length > 0 && allowed.includes(v)) continue;
    return i;
  }
  return -1;
}

/**
 * A flat row-major index as the multi-dimensional index of an array of `shape`: `[12, 3]`
 * (`[7]` for a vector, the flat index when the shape does not match).
 */
export function formatIndex(flat: number, shape: readonly number[]): string {
  const size = shape.reduce((a, b) => a * b, 1);
  if (shape.length === 0 || flat < 0 || flat >= size) return `[${flat}]`;
  const parts: number[] = [];
  let rest = flat;
  for (let d = shape.length - 1; d >= 0; d--) {
    const dim = shape[d]!;
    parts.push(rest % dim);
    rest = Math.floor(rest / dim);
  }
  return `[${parts.reverse().join(', ')}]`;
}

/** What a check reports in its message: the array's name (e.g. `tensor user_embedding.weight`), shape, file. */
export interface ArrayLabel {
  /** How the message names the array, e.g. `tensor item_embedding.weight` or `item groups`. */
  what: string;
  shape: readonly number[];
  /** The file the array was read from (the message starts with it). */
  file?: string;
}

function valueText(v: number): string {
  return Number.isNaN(v) ? 'NaN' : String(v);
}

/** UserError naming the file, the array, the first bad index, what was expected and the value found. */
export function badValueError(label: ArrayLabel, flat: number, expected: string, value: number): UserError {
  const at = formatIndex(flat, label.shape);
  return new UserError(`${label.what}: index ${at}: expected ${expected}, got ${valueText(value)}`, label.file);
}

/** Checks that every value is finite (UserError naming the first NaN or ±Infinity otherwise). */
export function checkFinite(data: NumericArray, label: ArrayLabel): void {
  const i = firstNonFinite(data);
  if (i >= 0) throw badValueError(label, i, 'a finite number', data[i]!);
}

/**
 * Checks that every value (from index `range.from` on) lies in [min, max] or is one of `allowed`
 * (UserError naming the first value that does not otherwise; `expected` describes the valid
 * values in the message).
 */
export function checkRange(
  data: NumericArray,
  label: ArrayLabel,
  range: { min: number; max: number; allowed?: readonly number[]; from?: number; expected: string },
): void {
  const i = firstOutOfRange(data, range.min, range.max, range.allowed, range.from);
  if (i >= 0) throw badValueError(label, i, range.expected, data[i]!);
}
