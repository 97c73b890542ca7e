/**
 * Blocked scoring + masking + top-k: the inference path of docs/numeric-contract.md §5. Users are processed in
 * blocks (default 256 rows) so one users×items score buffer is never materialised; a
 * single block buffer is reused, and per block the work is score → mask → top-k.
 * `scoreTopK` scores dot-product models (user · itemᵀ through the GEMM seam, NT case);
 * `scoreTopKWith` runs the same loop over any block scorer (e.g. Recommender.scoreAll).
 */
import type { Csr } from './csr.js';
import { sgemm } from './gemm.js';
import type { Matrix } from './matrix.js';
import { maskBlock } from './mask.js';
import { topkRows } from './topk.js';

/** Writes users.length × nItems scores (row-major) into out (exactly that long). */
export type BlockScorer = (usersBlock: Int32Array, out: Float32Array) => void;

/** How {@link scoreTopK} works through the users: block size, padding mask, output buffer. */
export interface ScoreTopKOptions {
  /** Users per block (default 256): 256 × 3,706 floats ≈ 3.8 MB stays cache-friendly. */
  readonly blockRows?: number;
  /** Mask the padding item 0 (default true; padding is never recommended, docs/numeric-contract.md §1). */
  readonly maskPadding?: boolean;
  /** Where to write the users.length × k result (default: a new Int32Array). */
  readonly out?: Int32Array;
  /** A score buffer to reuse across calls (grown when smaller than a block; default: a new one). */
  readonly scratch?: Float32Array;
  /**
   * Called after each block is masked and ranked, with the block's users, its masked scores
   * (usersBlock.length × nItems) and its top-k rows — for callers that also need scores
   * (CP candidates, score ranges) without a second pass. The buffers are reused afterwards.
   */
  readonly onBlock?: (usersBlock: Int32Array, scores: Float32Array, top: Int32Array, firstRow: number) => void;
}

/**
 * Top-k items for each user under any block scorer. Returns users.length × k item ids, best
 * first, −1 where fewer than k items are left after masking.
 */
export function scoreTopKWith(
  scorer: BlockScorer,
  nItems: number,
  users: Int32Array,
  k: number,
  masks: readonly Csr[],
  opts: ScoreTopKOptions = {},
): Int32Array {
  const blockRows = opts.blockRows ?? 256;
  if (!Number.isInteger(blockRows) || blockRows < 1)
    throw new RangeError(`scoreTopK: blockRows must be ≥ 1, got ${blockRows}`);
  if (!Number.isInteger(k) || k < 0) throw new RangeError(`scoreTopK: k must be a non-negative integer, got ${k}`);
  const n = users.length;
  const out = opts.out ?? new Int32Array(n * k);
  if (out.length < n * k) throw new RangeError(`scoreTopK: output of ${out.length} cannot hold ${n}×${k}`);
  const rowsPerBlock = Math.min(blockRows, Math.max(1, n));
  const scores =
    opts.scratch && opts.scratch.length >= rowsPerBlock * nItems
      ? opts.scratch
      : new Float32Array(rowsPerBlock * nItems);
  for (let r0 = 0; r0 < n; r0 += blockRows) {
    const b = Math.min(blockRows, n - r0);
    const ub = users.subarray(r0, r0 + b);
    const sb = scores.subarray(0, b * nItems);
    scorer(ub, sb);
    maskBlock(sb, ub, nItems, masks, { padding: opts.maskPadding ?? true });
    const top = out.subarray(r0 * k, (r0 + b) * k);
    topkRows(sb, b, nItems, k, top);
    opts.onBlock?.(ub, sb, top, r0);
  }
  return out;
}

/** Block scorer for dot-product models: scores = userEmb[users] · itemEmbᵀ. */
export function dotBlockScorer(userEmb: Matrix, itemEmb: Matrix, maxBlockRows = 256): BlockScorer {
  if (userEmb.cols !== itemEmb.cols) {
    throw new RangeError(`dotBlockScorer: user dim ${userEmb.cols} ≠ item dim ${itemEmb.cols}`);
  }
  const d = userEmb.cols,
    nItems = itemEmb.rows;
  // Gathered user rows, reused across blocks (grown if a caller passes a bigger block).
  let gathered = new Float32Array(maxBlockRows * d);
  return (usersBlock, out) => {
    const b = usersBlock.length;
    if (out.length !== b * nItems)
      throw new RangeError(`dotBlockScorer: out has ${out.length} values, want ${b}×${nItems}`);
    if (gathered.length < b * d) gathered = new Float32Array(b * d);
    for (let r = 0; r < b; r++) {
      const u = usersBlock[r]!;
      if (!(u >= 0 && u < userEmb.rows))
        throw new RangeError(`dotBlockScorer: user ${u} outside 0..${userEmb.rows - 1}`);
      gathered.set(userEmb.data.subarray(u * d, (u + 1) * d), r * d);
    }
    sgemm(false, true, b, nItems, d, 1, gathered, d, itemEmb.data, d, 0, out, nItems);
  };
}

/**
 * Top-k items for each user of a dot-product model (user and item embeddings, item row 0 =
 * padding), with the items of `masks` (e.g. [train] or [train, valid]) excluded.
 */
export function scoreTopK(
  userEmb: Matrix,
  itemEmb: Matrix,
  users: Int32Array,
  k: number,
  masks: readonly Csr[],
  opts: ScoreTopKOptions = {},
): Int32Array {
  const scorer = dotBlockScorer(userEmb, itemEmb, opts.blockRows ?? 256);
  return scoreTopKWith(scorer, itemEmb.rows, users, k, masks, opts);
}
