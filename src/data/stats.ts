/**
 * Dataset statistics for `calitune data stats`: sizes, density, per-user and per-item
 * interaction counts, and split sizes. Plain objects, ready for JSON.
 */
import { csrColCounts, csrNnz, csrRowLengths } from '../math/csr.js';
import type { InteractionLog, SplitDataset } from './types.js';

/** Minimum, median, mean and maximum of interaction counts (per user or per item). */
export interface CountSummary {
  min: number;
  median: number;
  mean: number;
  max: number;
}

/** Interactions per part of the split and how many users have valid and test items. */
export interface SplitSizes {
  train: number;
  valid: number;
  test: number;
  /** Users with at least one valid / test interaction. */
  usersWithValid: number;
  usersWithTest: number;
}

/** Statistics of an interaction log: sizes, density, per-user and per-item counts, and the split's sizes. */
export interface DataStats {
  source: string;
  /** Real users and items (padding not counted). */
  users: number;
  items: number;
  interactions: number;
  /** interactions / (users · items). */
  density: number;
  perUser: CountSummary;
  perItem: CountSummary;
  split?: SplitSizes;
}

/** min / median (mean of the two middle values for an even count) / mean / max of counts[from..]. */
export function summarizeCounts(counts: Int32Array, from = 0): CountSummary {
  const n = counts.length - from;
  if (n <= 0) return { min: 0, median: 0, mean: 0, max: 0 };
  const s = counts.slice(from).sort();
  let sum = 0;
  for (let i = 0; i < n; i++) sum += s[i]!;
  const median = n % 2 === 1 ? s[(n - 1) >> 1]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
  return { min: s[0]!, median, mean: sum / n, max: s[n - 1]! };
}

function splitSizesOf(ds: SplitDataset): SplitSizes {
  const nonEmpty = (a: Int32Array): number => {
    let c = 0;
    for (let u = 1; u < a.length; u++) if (a[u]! > 0) c++;
    return c;
  };
  return {
    train: csrNnz(ds.train),
    valid: csrNnz(ds.valid),
    test: csrNnz(ds.test),
    usersWithValid: nonEmpty(csrRowLengths(ds.valid)),
    usersWithTest: nonEmpty(csrRowLengths(ds.test)),
  };
}

/** Statistics of a (deduplicated) log, plus split sizes when a split is given. */
export function logStats(log: InteractionLog, split?: SplitDataset): DataStats {
  const nU = log.userMap.tokens.length;
  const nI = log.itemMap.tokens.length;
  const perUser = new Int32Array(nU);
  const perItem = new Int32Array(nI);
  const n = log.users.length;
  for (let k = 0; k < n; k++) {
    perUser[log.users[k]!]!++;
    perItem[log.items[k]!]!++;
  }
  const users = nU - 1;
  const items = nI - 1;
  const out: DataStats = {
    source: log.source,
    users,
    items,
    interactions: n,
    density: users > 0 && items > 0 ? n / (users * items) : 0,
    perUser: summarizeCounts(perUser, 1),
    perItem: summarizeCounts(perItem, 1),
  };
  if (split) out.split = splitSizesOf(split);
  return out;
}

/** Statistics of a split alone (counts over train ∪ valid ∪ test). */
export function splitStats(ds: SplitDataset, source = ''): DataStats {
  const perUser = new Int32Array(ds.nUsers);
  const perItem = new Int32Array(ds.nItems);
  let n = 0;
  for (const m of [ds.train, ds.valid, ds.test]) {
    const r = csrRowLengths(m);
    const c = csrColCounts(m);
    for (let u = 0; u < ds.nUsers; u++) perUser[u]! += r[u]!;
    for (let i = 0; i < ds.nItems; i++) perItem[i]! += c[i]!;
    n += csrNnz(m);
  }
  const users = ds.nUsers - 1;
  const items = ds.nItems - 1;
  return {
    source,
    users,
    items,
    interactions: n,
    density: users > 0 && items > 0 ? n / (users * items) : 0,
    perUser: summarizeCounts(perUser, 1),
    perItem: summarizeCounts(perItem, 1),
    split: splitSizesOf(ds),
  };
}
