/**
 * Masking of a score block before top-k (docs/numeric-contract.md §5): row r of the block
 * belongs to user users[r]; every item in that user's rows of the given CSRs (train, and for
 * test-time lists also valid) and the padding item 0 become −Infinity, which top-k never
 * returns.
 */
import type { Csr } from './csr.js';

/** Layout of a score block for {@link maskBlock}. */
export interface MaskOptions {
  /** Row stride of the score block (≥ nItems); defaults to nItems. */
  readonly ld?: number;
  /** Also mask column 0, the padding item. Default true. */
  readonly padding?: boolean;
}

/**
 * Sets scores[r·ld + i] = −Infinity for each item i of users[r] in any of `masks`, and for
 * i = 0 unless `padding: false`. `scores` holds users.length rows of nItems columns.
 */
export function maskBlock(
  scores: Float32Array,
  users: Int32Array,
  nItems: number,
  masks: readonly Csr[],
  opts: MaskOptions = {},
): void {
  const ld = opts.ld ?? nItems;
  const padding = opts.padding ?? true;
  if (ld < nItems) throw new RangeError(`maskBlock: ld ${ld} < nItems ${nItems}`);
  if (users.length > 0 && scores.length < (users.length - 1) * ld + nItems) {
    throw new RangeError(`maskBlock: ${scores.length} scores cannot hold ${users.length}×${nItems} (ld ${ld})`);
  }
  for (const m of masks) {
    // A CSR from another item space would mask the wrong columns: refuse rather than guess.
    if (m.nCols > nItems) throw new RangeError(`maskBlock: mask has ${m.nCols} items, the block ${nItems}`);
  }
  for (let r = 0; r < users.length; r++) {
    const u = users[r]!;
    const row = r * ld;
    if (padding && nItems > 0) scores[row] = -Infinity;
    for (let mi = 0; mi < masks.length; mi++) {
      const m = masks[mi]!;
      if (u < 0 || u >= m.nRows) throw new RangeError(`maskBlock: user ${u} outside the mask's ${m.nRows} rows`);
      const ind = m.indices;
      for (let p = m.indptr[u]!, e = m.indptr[u + 1]!; p < e; p++) scores[row + ind[p]!] = -Infinity;
    }
  }
}
