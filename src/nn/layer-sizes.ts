/** Validation of the layer-size lists that model hyperparameters carry. */
import { UserError } from '../util/errors.js';

/** Checks a list of layer sizes: non-empty, positive integers. UserError otherwise. */
export function checkSizes(name: string, sizes: unknown): number[] {
  if (!Array.isArray(sizes) || sizes.length === 0) {
    throw new UserError(`${name} must be a non-empty list of positive integers (got ${JSON.stringify(sizes)})`);
  }
  for (const s of sizes) {
    if (typeof s !== 'number' || !Number.isInteger(s) || s <= 0) {
      throw new UserError(`${name} must be a list of positive integers (got ${JSON.stringify(sizes)})`);
    }
  }
  return [...sizes] as number[];
}
