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
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomic.js';
import { UserError } from '../util/errors.js';

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

/** The per-user TSV as text chunks: a header, then one row per model and user. */
export function formatPerUserTable(t: PerUserTableInput): string[] {
  const G = t.nGroups;
  const head = ['model', 'user_id'];
  for (let g = 1; g <= G; g++) head.push(`userbaseline_group_${g}`);
  head.push('ndcg', 'jsd', 'user_group', 'head_items', 'rbo_vs_base');
  const chunks: string[] = [head.join('\t') + '\n'];
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
    chunks.push(out);
  }
  return chunks;
}

/** Writes the per-user TSV, atomically. */
export function writePerUserTable(path: string, t: PerUserTableInput): void {
  // Model keys and group names are ASCII (experiment names are restricted), so latin1 = UTF-8 here and much faster.
  writeFileAtomic(
    path,
    formatPerUserTable(t).map((s) => Buffer.from(s, 'latin1')),
  );
}

/** A per-user TSV read back: per model, per-user arrays indexed by user id. */
export interface PerUserRows {
  nUsers: number;
  nGroups: number;
  /** model → per-user arrays indexed by user id (NaN where the cell was empty). */
  models: Map<string, { ndcg: Float64Array; jsd: Float64Array; headItems: Float64Array; rboVsBase: Float64Array }>;
  userGroupByName: Map<number, string>;
}

/** Reads a per-user TSV back (for `calitune compare`). */
export function readPerUserTable(path: string): PerUserRows {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read the per-user table: ${(e as Error).message}`, path);
  }
  const lines = text.split('\n');
  const header = lines[0]!.split('\t');
  const col = (name: string) => {
    const i = header.indexOf(name);
    if (i < 0) throw new UserError(`per-user table has no '${name}' column`, path, 1);
    return i;
  };
  const cModel = col('model'),
    cUser = col('user_id'),
    cN = col('ndcg'),
    cJ = col('jsd'),
    cUg = col('user_group'),
    cH = col('head_items'),
    cR = col('rbo_vs_base');
  const G = header.filter((h) => h.startsWith('userbaseline_group_')).length;
  let maxUser = 0;
  for (let i = 1; i < lines.length; i++) {
    const l = lines[i]!;
    if (l === '') continue;
    const a = l.indexOf('\t');
    const b = l.indexOf('\t', a + 1);
    const u = Number(l.slice(a + 1, b));
    if (u > maxUser) maxUser = u;
  }
  const nUsers = maxUser + 1;
  const models: PerUserRows['models'] = new Map();
  const ug = new Map<number, string>();
  const num = (s: string | undefined) => (s === undefined || s === '' ? NaN : Number(s));
  for (let i = 1; i < lines.length; i++) {
    const l = lines[i]!;
    if (l === '') continue;
    const c = l.split('\t');
    if (c.length !== header.length)
      throw new UserError(`expected ${header.length} columns, got ${c.length}`, path, i + 1);
    const m = c[cModel]!;
    let rec = models.get(m);
    if (!rec) {
      rec = {
        ndcg: new Float64Array(nUsers).fill(NaN),
        jsd: new Float64Array(nUsers).fill(NaN),
        headItems: new Float64Array(nUsers).fill(NaN),
        rboVsBase: new Float64Array(nUsers).fill(NaN),
      };
      models.set(m, rec);
    }
    const u = Number(c[cUser]);
    if (!Number.isInteger(u) || u < 1) throw new UserError(`bad user_id '${c[cUser]}'`, path, i + 1);
    rec.ndcg[u] = num(c[cN]);
    rec.jsd[u] = num(c[cJ]);
    rec.headItems[u] = num(c[cH]);
    rec.rboVsBase[u] = num(c[cR]);
    if (c[cUg]) ug.set(u, c[cUg]!);
  }
  return { nUsers, nGroups: G, models, userGroupByName: ug };
}
