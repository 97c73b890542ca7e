/** Typed accessors for parsed CLI values: every bad value is a UserError naming the flag. */
import { UserError } from '../util/errors.js';
import { quoteExcerpt } from '../util/excerpt.js';
import type { ParsedValues } from './command.js';

/** The string value of `--name`, undefined when absent; UserError when it was given without a value. */
export function str(v: ParsedValues, name: string): string | undefined {
  const x = v[name];
  if (x === undefined) return undefined;
  if (typeof x !== 'string') throw new UserError(`--${name} needs a value`);
  return x;
}

/** The non-empty string value of `--name`; UserError when it is missing. */
export function requireStr(v: ParsedValues, name: string): string {
  const x = str(v, name);
  if (x === undefined || x === '') throw new UserError(`--${name} is required`);
  return x;
}

/** Whether the boolean flag `--name` was given. */
export function bool(v: ParsedValues, name: string): boolean {
  return v[name] === true;
}

function num(v: ParsedValues, name: string, integer: boolean): number | undefined {
  const x = str(v, name);
  if (x === undefined) return undefined;
  const n = Number(x);
  if (x.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw new UserError(`--${name} must be ${integer ? 'an integer' : 'a number'}, got ${quoteExcerpt(x)}`);
  }
  // Beyond 2^53 an integer is rounded to its neighbour (…993 → …992): refuse it rather than change it.
  if (integer && !Number.isSafeInteger(n)) {
    throw new UserError(
      `--${name} ${quoteExcerpt(x, 40)} is beyond 2^53 (${Number.MAX_SAFE_INTEGER}): it cannot be held exactly`,
    );
  }
  return n;
}

/** The integer value of `--name` within the optional bounds; UserError otherwise. */
export function int(v: ParsedValues, name: string, opts: { min?: number; max?: number } = {}): number | undefined {
  const n = num(v, name, true);
  if (n !== undefined) checkRange(name, n, opts);
  return n;
}

/** The finite number value of `--name` within the optional bounds; UserError otherwise. */
export function float(v: ParsedValues, name: string, opts: { min?: number; max?: number } = {}): number | undefined {
  const n = num(v, name, false);
  if (n !== undefined) checkRange(name, n, opts);
  return n;
}

/** The integer value of `--name`, at least 1. */
export function positiveInt(v: ParsedValues, name: string): number | undefined {
  return int(v, name, { min: 1 });
}

/** The comma-separated numbers of `--name`, each within the optional bounds. */
export function floatList(
  v: ParsedValues,
  name: string,
  opts: { min?: number; max?: number } = {},
): number[] | undefined {
  const x = str(v, name);
  if (x === undefined) return undefined;
  const parts = x
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (parts.length === 0) throw new UserError(`--${name} needs a comma-separated list of numbers`);
  return parts.map((p) => {
    const n = Number(p);
    if (!Number.isFinite(n)) throw new UserError(`--${name}: '${p}' is not a number`);
    checkRange(name, n, opts);
    return n;
  });
}

/** The value of `--name` if it is one of `allowed`; UserError listing them otherwise. */
export function choice<T extends string>(v: ParsedValues, name: string, allowed: readonly T[]): T | undefined {
  const x = str(v, name);
  if (x === undefined) return undefined;
  if (!allowed.includes(x as T)) throw new UserError(`--${name} must be one of ${allowed.join(', ')}; got '${x}'`);
  return x as T;
}

function checkRange(name: string, n: number, { min, max }: { min?: number; max?: number }): void {
  if (min !== undefined && n < min) throw new UserError(`--${name} must be ≥ ${min}, got ${n}`);
  if (max !== undefined && n > max) throw new UserError(`--${name} must be ≤ ${max}, got ${n}`);
}
