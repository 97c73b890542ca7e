/**
 * Candidate items for the CaliTune loss (DESIGN §3): per user either the top-K items by the
 * current model's scores (item 0 masked; train items are NOT masked, as in the reference) or K
 * items drawn uniformly without replacement from 1..nItems−1 (seeded). Plus the label y
 * (is the candidate a train positive of the user).
 */
import type { Recommender } from '../models/recommender.js';
import type { Csr } from '../data/types.js';
import type { Rng } from '../math/rng.js';
import { topkRows } from '../math/topk.js';
import { sortedContains } from '../eval/ndcg.js';

function checkK(k: number, nItems: number): void {
  if (!Number.isInteger(k) || k < 1 || k > nItems - 1) {
    throw new RangeError(`candidates: k = ${k} must be an integer in [1, ${nItems - 1}] (items without padding)`);
  }
}

/**
 * Top-k candidates of each user in `users` by `model.scoreAll`, scored in blocks of
 * `blockUsers` users. Row i (k ids, best first, ties → lower id) belongs to users[i].
 */
export function relevanceCandidates(model: Recommender, users: Int32Array, k: number, blockUsers = 256, out?: Int32Array): Int32Array {
  const nItems = model.nItems;
  checkK(k, nItems);
  const res = out ?? new Int32Array(users.length * k);
  if (res.length < users.length * k) throw new RangeError('relevanceCandidates: output buffer too small');
  const block = Math.max(1, Math.min(blockUsers, users.length));
  const scores = new Float32Array(block * nItems);
  for (let start = 0; start < users.length; start += block) {
    const n = Math.min(block, users.length - start);
    const bu = users.subarray(start, start + n);
    const s = model.scoreAll(bu, scores.subarray(0, n * nItems));
    for (let r = 0; r < n; r++) s[r * nItems] = -Infinity; // padding item 0
    topkRows(s, n, nItems, k, res.subarray(start * k, (start + n) * k));
  }
  return res;
}

/**
 * k distinct items from 1..nItems−1 per row (`rows` rows), uniformly, in random order: a partial
 * Fisher–Yates shuffle over a persistent pool (uniform whatever the pool's current order).
 */
export function randomCandidates(rng: Rng, rows: number, nItems: number, k: number, out?: Int32Array): Int32Array {
  checkK(k, nItems);
  const res = out ?? new Int32Array(rows * k);
  const pool = new Int32Array(nItems - 1);
  for (let i = 0; i < pool.length; i++) pool[i] = i + 1;
  const n = pool.length;
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < k; j++) {
      const pick = j + rng.nextInt(n - j);
      const t = pool[j]!;
      pool[j] = pool[pick]!;
      pool[pick] = t;
      res[r * k + j] = pool[j]!;
    }
  }
  return res;
}

/** y: 1 where candidates[i·k + c] is in users[i]'s train row, else 0 (Uint8Array B×K). */
export function candidateLabels(train: Csr, users: Int32Array, candidates: Int32Array, k: number, out?: Uint8Array): Uint8Array {
  const res = out ?? new Uint8Array(users.length * k);
  for (let i = 0; i < users.length; i++) {
    const u = users[i]!;
    const lo = train.indptr[u]!, hi = train.indptr[u + 1]!;
    for (let c = 0; c < k; c++) res[i * k + c] = sortedContains(train.indices, lo, hi, candidates[i * k + c]!) ? 1 : 0;
  }
  return res;
}
