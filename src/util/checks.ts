/** Checks of plain values shared by every layer (a UserError naming the value on failure). */
import { UserError } from './errors.js';

/** Returns `v` when it is an integer ≥ 1. */
export function checkPositiveInt(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw new UserError(`${name} must be a positive integer (got ${String(v)})`);
  }
  return v;
}
