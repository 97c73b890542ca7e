/**
 * Whether a split can be measured (docs/numeric-contract.md §2, "Small and empty splits"): a
 * valid or test part with no interactions makes its NDCG meaningless (every user scores 0), and
 * one with few users makes it noisy. Users with at most 2 interactions put none in valid, users
 * with 1 none in test, so a dataset of such users ends up there.
 */
import { InputError } from '../util/errors.js';
import type { Csr } from '../math/csr.js';
import type { SplitDataset } from './types.js';

/** Fewer users than this with interactions in the valid or test part: a warning (noisy metrics). */
export const MIN_MEASURED_USERS = 10;

/** The parts of a split that metrics are measured on. */
export type MeasuredPart = 'valid' | 'test';

/** Users with at least one interaction in `m`. */
function usersWithItems(m: Csr): number {
  let n = 0;
  for (let u = 0; u < m.nRows; u++) if (m.indptr[u + 1]! > m.indptr[u]!) n++;
  return n;
}

/** Why a part can be empty, for messages. */
const EMPTY_CAUSE: Record<MeasuredPart, string> = {
  valid: 'users with at most 2 interactions put none in it (docs/numeric-contract.md §2)',
  test: 'users with a single interaction put none in it (docs/numeric-contract.md §2)',
};

/**
 * Warnings about the valid and test parts: one per part that is empty or has fewer than
 * MIN_MEASURED_USERS users with interactions.
 */
export function splitWarnings(ds: SplitDataset): string[] {
  const out: string[] = [];
  for (const part of ['valid', 'test'] as const) {
    const n = usersWithItems(ds[part]);
    if (n === 0) out.push(`warning: the ${part} split is empty: ${EMPTY_CAUSE[part]}`);
    else if (n < MIN_MEASURED_USERS) {
      out.push(
        `warning: only ${n} user${n === 1 ? ' has' : 's have'} interactions in the ${part} split ` +
          `(fewer than ${MIN_MEASURED_USERS}): its metrics are noisy`,
      );
    }
  }
  return out;
}

/**
 * Throws InputError when the `part` of the split has no interactions; `purpose` says what needs
 * it ("early stopping on valid NDCG@10"), `field` the option that chose the data or split.
 */
export function requireMeasuredPart(ds: SplitDataset, part: MeasuredPart, purpose: string, field: string): void {
  if (usersWithItems(ds[part]) > 0) return;
  throw new InputError(
    `the ${part} split has no interactions: ${EMPTY_CAUSE[part]}; ${purpose} would be meaningless. ` +
      `Use data where users have at least ${part === 'valid' ? 3 : 2} interactions`,
    { field },
  );
}
