/**
 * Reading a per-user TSV (src/eval/per-user-table.ts) back, streamed: the file is scanned in
 * chunks (src/data/line-scanner.ts), never held as one text — at 138k users × 100 epochs it is
 * larger than the longest string V8 allows — and only the models asked for are kept in memory.
 * Two passes: the first finds the highest user id (the arrays' length), the second fills them.
 */
import { scanLines, type LineView } from '../data/line-scanner.js';
import { UserError } from '../util/errors.js';

/** Per-user columns of one model, indexed by user id (NaN where the cell was empty). */
export interface PerUserColumns {
  ndcg: Float64Array;
  jsd: Float64Array;
  headItems: Float64Array;
  rboVsBase: Float64Array;
}

/** A per-user TSV read back: per model, per-user arrays indexed by user id. */
export interface PerUserRows {
  nUsers: number;
  nGroups: number;
  /** model → per-user arrays indexed by user id (NaN where the cell was empty). */
  models: Map<string, PerUserColumns>;
  userGroupByName: Map<number, string>;
}

/** Which rows {@link readPerUserTable} keeps. */
export interface PerUserTableReadOptions {
  /** Keep only these models' rows (every row is still checked); default: every model. */
  models?: readonly string[];
}

/** Where the columns the reader needs are, from the header line. */
interface HeaderColumns {
  count: number;
  model: number;
  user: number;
  ndcg: number;
  jsd: number;
  userGroup: number;
  head: number;
  rbo: number;
  nGroups: number;
}

const TSV = { sep: '\t', trim: false, quotes: false };

function headerColumns(v: LineView, path: string): HeaderColumns {
  const header: string[] = [];
  for (let k = 0; k < v.count; k++) header.push(v.text.slice(v.starts[k]!, v.ends[k]!));
  const col = (name: string) => {
    const i = header.indexOf(name);
    if (i < 0) throw new UserError(`per-user table has no '${name}' column`, path, 1);
    return i;
  };
  return {
    count: header.length,
    model: col('model'),
    user: col('user_id'),
    ndcg: col('ndcg'),
    jsd: col('jsd'),
    userGroup: col('user_group'),
    head: col('head_items'),
    rbo: col('rbo_vs_base'),
    nGroups: header.filter((h) => h.startsWith('userbaseline_group_')).length,
  };
}

const cell = (v: LineView, k: number): string => v.text.slice(v.starts[k]!, v.ends[k]!);
const num = (s: string) => (s === '' ? NaN : Number(s));

/** Pass 1: the header's columns and the highest user id of the rows. */
function scanHeaderAndUsers(path: string): { cols: HeaderColumns; maxUser: number } {
  let cols: HeaderColumns | undefined;
  let maxUser = 0;
  scanLines(path, TSV, (v) => {
    if (cols === undefined) {
      cols = headerColumns(v, path);
      return;
    }
    const u = Number(cell(v, cols.user));
    if (u > maxUser) maxUser = u;
  });
  if (cols === undefined) throw new UserError('per-user table is empty', path);
  return { cols, maxUser };
}

function emptyColumns(nUsers: number): PerUserColumns {
  return {
    ndcg: new Float64Array(nUsers).fill(NaN),
    jsd: new Float64Array(nUsers).fill(NaN),
    headItems: new Float64Array(nUsers).fill(NaN),
    rboVsBase: new Float64Array(nUsers).fill(NaN),
  };
}

/**
 * Reads a per-user TSV back (for `calitune compare` and the report). Every row is checked (its
 * number of columns, its user id); rows of models outside `options.models` are not kept. Throws
 * UserError naming the file (and line) for a missing column, a short row or a bad user id.
 */
export function readPerUserTable(path: string, options: PerUserTableReadOptions = {}): PerUserRows {
  const { cols, maxUser } = scanHeaderAndUsers(path);
  const nUsers = maxUser + 1;
  const wanted = options.models === undefined ? undefined : new Set(options.models);
  const models: PerUserRows['models'] = new Map();
  const ug = new Map<number, string>();
  let first = true;
  scanLines(path, TSV, (v) => {
    if (first) {
      first = false;
      return;
    }
    if (v.count !== cols.count) throw new UserError(`expected ${cols.count} columns, got ${v.count}`, path, v.lineNo);
    const u = Number(cell(v, cols.user));
    if (!Number.isInteger(u) || u < 1) throw new UserError(`bad user_id '${cell(v, cols.user)}'`, path, v.lineNo);
    const g = cell(v, cols.userGroup);
    if (g !== '') ug.set(u, g);
    const m = cell(v, cols.model);
    if (wanted !== undefined && !wanted.has(m)) return;
    let rec = models.get(m);
    if (!rec) {
      rec = emptyColumns(nUsers);
      models.set(m, rec);
    }
    rec.ndcg[u] = num(cell(v, cols.ndcg));
    rec.jsd[u] = num(cell(v, cols.jsd));
    rec.headItems[u] = num(cell(v, cols.head));
    rec.rboVsBase[u] = num(cell(v, cols.rbo));
  });
  return { nUsers, nGroups: cols.nGroups, models, userGroupByName: ug };
}
