/**
 * The per-user TSV: the reference's columns
 *   model, user_id, userbaseline_group_1..G, ndcg, jsd
 * plus ours: user_group (mainstream / diverse / niche), head_items (head items in the top-k),
 * rbo_vs_base (RBO of this list against the base model's, p as in the results file).
 * One row per (model, user), users 1..n−1 by internal id (the id the reference's
 * `.userbaseline` uses). `model` is the result key: base_recommendations,
 * postprocessed_{λ}, finetuned_epoch_{N}. Numbers are written with shortest round-trip
 * digits, so reading the file back gives the exact values.
 */
import { writeFileAtomicStreamed } from '../util/atomic-stream.js';

/** One model's per-user columns; undefined columns are left empty. */
export interface PerUserBlock {
  model: string;
  ndcg: Float64Array;
  jsd: Float64Array | undefined;
  headItems: Int32Array | undefined;
  rboVsBase: Float64Array | undefined;
}

/** What the per-user TSV holds: the users' targets and groups, and one block of columns per model. */
export interface PerUserTableInput {
  nUsers: number;
  nGroups: number;
  /** nUsers × nGroups targets, or undefined when prepare has not run (columns left empty). */
  targets: Float64Array | undefined;
  /** Per user: 0-based user group, −1 = none. */
  userGroup: Int32Array | undefined;
  userGroupNames: readonly string[];
  blocks: PerUserBlock[];
}

const fmt = (x: number | undefined): string => (x === undefined ? '' : Number.isFinite(x) ? String(x) : '');

/**
 * Number → text with a cache: per-user NDCG, JSD and RBO take few distinct values across
 * epochs (a user's JSD depends only on the list's group counts), and shortest round-trip
 * formatting is the slowest part of writing the table.
 */
function cachedFormatter(): (x: number | undefined) => string {
  const cache = new Map<number, string>();
  return (x) => {
    if (x === undefined) return '';
    let s = cache.get(x);
    if (s === undefined) {
      s = fmt(x);
      if (cache.size < 1_000_000) cache.set(x, s);
    }
    return s;
  };
}

/**
 * The per-user TSV as text parts, made one at a time as they are taken: the header, then one
 * part per model block (one row per user). Writing them as they come holds one block's text,
 * not the file's (at 138k users × 100 epochs the file is over a gigabyte).
 */
export function* perUserTableParts(t: PerUserTableInput): Generator<string> {
  const G = t.nGroups;
  const head = ['model', 'user_id'];
  for (let g = 1; g <= G; g++) head.push(`userbaseline_group_${g}`);
  head.push('ndcg', 'jsd', 'user_group', 'head_items', 'rbo_vs_base');
  yield head.join('\t') + '\n';
  // The target columns are the same for every model: format them once.
  const prefix: string[] = new Array<string>(t.nUsers).fill('');
  for (let u = 1; u < t.nUsers; u++) {
    let s = String(u);
    for (let g = 0; g < G; g++) s += '\t' + (t.targets ? fmt(t.targets[u * G + g]) : '');
    prefix[u] = s;
  }
  const ugName = (u: number) => {
    const g = t.userGroup?.[u] ?? -1;
    return g >= 0 ? (t.userGroupNames[g] ?? String(g + 1)) : '';
  };
  const f = cachedFormatter();
  const names = Array.from({ length: t.nUsers }, (_, u) => ugName(u));
  for (const b of t.blocks) {
    let out = '';
    for (let u = 1; u < t.nUsers; u++) {
      out +=
        `${b.model}\t${prefix[u]}\t${f(b.ndcg[u])}\t${b.jsd ? f(b.jsd[u]) : ''}\t${names[u]}\t` +
        `${b.headItems ? b.headItems[u] : ''}\t${b.rboVsBase ? f(b.rboVsBase[u]) : ''}\n`;
    }
    yield out;
  }
}

/** The per-user TSV as text chunks: a header, then one chunk per model block. */
export function formatPerUserTable(t: PerUserTableInput): string[] {
  return [...perUserTableParts(t)];
}

/** Writes the per-user TSV atomically, one model block at a time (see {@link perUserTableParts}). */
export function writePerUserTable(path: string, t: PerUserTableInput): void {
  // Model keys and group names are ASCII (experiment names are restricted), so latin1 = UTF-8 here and much faster.
  function* bytes(): Generator<Buffer> {
    for (const s of perUserTableParts(t)) yield Buffer.from(s, 'latin1');
  }
  writeFileAtomicStreamed(path, bytes());
}

export { type PerUserRows, type PerUserTableReadOptions, readPerUserTable } from './per-user-table-read.js';
