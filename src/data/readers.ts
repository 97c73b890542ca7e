/**
 * Interaction-file readers → InteractionLog (DESIGN §3): RecBole atomic `.inter`, MovieLens-100K
 * `u.data`, MovieLens-1M `ratings.dat`, generic CSV/TSV. Every row is a positive; duplicate
 * (user, item) pairs collapse to their first occurrence; ids are 1..N by first appearance.
 *
 * Files are read in chunks and scanned character by character: only the user, item (and, with
 * a rating threshold, rating) fields of each line become strings.
 */
import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { isAscii } from 'node:buffer';
import { UserError } from '../util/errors.js';
import { IdMapBuilder } from './idmap.js';
import type { InteractionLog } from './types.js';

export type InteractionFormat = 'inter' | 'ml-100k' | 'ml-1m' | 'csv' | 'tsv';
export const INTERACTION_FORMATS: readonly InteractionFormat[] = ['inter', 'ml-100k', 'ml-1m', 'csv', 'tsv'];

/** A column: a header name, or a 0-based index (a string of digits counts as an index unless the header has that name). */
export type ColumnSpec = string | number;

export interface ReadOptions {
  /** Default: detected from the file name (see detectFormat). */
  format?: InteractionFormat;
  /** User column. Default 'user_id' for .inter, else column 0. */
  userCol?: ColumnSpec;
  /** Item column. Default 'item_id' for .inter, else column 1. */
  itemCol?: ColumnSpec;
  /** Rating column, used only with minRating. Default 'rating' when the header has it, else column 2. */
  ratingCol?: ColumnSpec;
  /** Keep only rows with rating ≥ minRating (the rating must then parse as a number). */
  minRating?: number;
  /** Field separator for csv/tsv. Default ',' for csv, tab for tsv. */
  sep?: string;
  /** Whether a csv/tsv file has a header line. Default 'auto' (see readInteractions). */
  header?: boolean | 'auto';
}

/** Format from a file name: *.inter, u.data, ratings.dat, *.csv, *.tsv. */
export function detectFormat(path: string): InteractionFormat {
  const name = basename(path).toLowerCase();
  if (name.endsWith('.inter')) return 'inter';
  if (name === 'u.data') return 'ml-100k';
  if (name === 'ratings.dat') return 'ml-1m';
  if (name.endsWith('.csv')) return 'csv';
  if (name.endsWith('.tsv')) return 'tsv';
  throw new UserError(
    `cannot tell the format from the file name '${basename(path)}' (known: *.inter, u.data, ratings.dat, *.csv, *.tsv); name the format explicitly (${INTERACTION_FORMATS.join(', ')})`,
    path,
  );
}

/**
 * A dataset folder → its interaction file: a single *.inter, u.data, ratings.dat or ratings.csv,
 * looked for in the folder and then one level down (a fetched archive). A file path is returned
 * unchanged. Throws UserError when the path does not exist or nothing (or too much) matches.
 */
export function resolveInteractionFile(path: string): string {
  if (!existsSync(path)) throw new UserError('no such file or folder', path);
  if (!statSync(path).isDirectory()) return path;
  const look = (dir: string): string[] => {
    const names = readdirSync(dir);
    const inter = names.filter((n) => n.endsWith('.inter'));
    const found: string[] = [];
    if (inter.length > 0) found.push(...inter);
    else for (const n of ['u.data', 'ratings.dat', 'ratings.csv']) if (names.includes(n)) found.push(n);
    return found.map((n) => join(dir, n));
  };
  let found = look(path);
  if (found.length === 0) {
    for (const sub of readdirSync(path).sort()) {
      const p = join(path, sub);
      if (statSync(p).isDirectory()) found.push(...look(p));
    }
  }
  if (found.length === 1) return found[0]!;
  if (found.length === 0) throw new UserError('no interaction file found (looked for *.inter, u.data, ratings.dat, ratings.csv)', path);
  throw new UserError(`several interaction files found: ${found.map((f) => basename(f)).join(', ')}; name one`, path);
}

// ---------------------------------------------------------------------------------------------
// Line scanner

const CHUNK = 8 << 20;

/** One line's fields as offsets into `text` (reused between lines: copy what you keep). */
interface LineView {
  text: string;
  lineNo: number;
  count: number;
  starts: Int32Array;
  ends: Int32Array;
  /** Bit k set when field k was quoted with doubled quotes inside (needs unescaping). */
  escaped: boolean[];
}

interface ScanOptions {
  sep: string;
  trim: boolean;
  quotes: boolean;
}

function isBlank(text: string, s: number, e: number): boolean {
  for (let i = s; i < e; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13) return false;
  }
  return true;
}

/** Calls onLine for every non-blank line. Returns the number of physical lines. */
function scanLines(path: string, opt: ScanOptions, onLine: (v: LineView) => void): number {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new UserError(`cannot open: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, path);
  }
  const view: LineView = {
    text: '',
    lineNo: 0,
    count: 0,
    starts: new Int32Array(16),
    ends: new Int32Array(16),
    escaped: [],
  };
  const sep = opt.sep;
  const sepCode = sep.length === 1 ? sep.charCodeAt(0) : -1;
  const sepLen = sep.length;
  const push = (s: number, e: number, esc: boolean): void => {
    if (view.count === view.starts.length) {
      const ns = new Int32Array(view.count * 2);
      ns.set(view.starts);
      view.starts = ns;
      const ne = new Int32Array(view.count * 2);
      ne.set(view.ends);
      view.ends = ne;
    }
    if (opt.trim) {
      while (s < e && view.text.charCodeAt(s) === 32) s++;
      while (e > s && view.text.charCodeAt(e - 1) === 32) e--;
    }
    view.starts[view.count] = s;
    view.ends[view.count] = e;
    view.escaped[view.count] = esc;
    view.count++;
  };
  const splitLine = (text: string, ls: number, le: number): void => {
    view.count = 0;
    let s = ls;
    for (;;) {
      if (opt.quotes) {
        let q = s;
        while (q < le && text.charCodeAt(q) === 32) q++;
        if (q < le && text.charCodeAt(q) === 34) {
          // Quoted field: up to the closing quote; "" is an escaped quote.
          let i = q + 1;
          let esc = false;
          for (;;) {
            const j = text.indexOf('"', i);
            if (j < 0 || j >= le) {
              throw new UserError('unterminated quoted field', path, view.lineNo);
            }
            if (j + 1 < le && text.charCodeAt(j + 1) === 34) {
              esc = true;
              i = j + 2;
              continue;
            }
            push(q + 1, j, esc);
            i = j + 1;
            break;
          }
          const next = text.indexOf(sep, i);
          if (next < 0 || next >= le) return;
          s = next + sepLen;
          continue;
        }
      }
      let e: number;
      if (sepCode >= 0) {
        e = s;
        while (e < le && text.charCodeAt(e) !== sepCode) e++;
      } else {
        e = text.indexOf(sep, s);
        if (e < 0 || e > le) e = le;
      }
      push(s, e, false);
      if (e >= le) return;
      s = e + sepLen;
    }
  };
  const decoder = new StringDecoder('utf8');
  const buf = Buffer.allocUnsafe(CHUNK);
  let carry = '';
  let first = true;
  let utf8Seen = false;
  let lineNo = 0;
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, CHUNK, null);
      let decoded: string;
      if (n === 0) decoded = utf8Seen ? decoder.end() : '';
      else if (!utf8Seen && isAscii(buf.subarray(0, n))) decoded = buf.toString('latin1', 0, n); // fast path
      else {
        utf8Seen = true;
        decoded = decoder.write(buf.subarray(0, n));
      }
      let text = carry + decoded;
      if (first && text.length > 0) {
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
        first = false;
      }
      const last = n > 0 ? text.lastIndexOf('\n') : text.length - 1;
      let pos = 0;
      view.text = text;
      while (pos <= last) {
        let nl = text.indexOf('\n', pos);
        if (nl < 0 || nl > last) nl = n > 0 ? last : text.length;
        lineNo++;
        let le = nl;
        if (le > pos && text.charCodeAt(le - 1) === 13) le--;
        if (!isBlank(text, pos, le)) {
          view.lineNo = lineNo;
          splitLine(text, pos, le);
          onLine(view);
        }
        pos = nl + 1;
      }
      carry = n > 0 ? text.slice(last + 1) : '';
      if (n === 0) break;
    }
  } finally {
    closeSync(fd);
  }
  return lineNo;
}

function field(v: LineView, k: number): string {
  const s = v.text.slice(v.starts[k]!, v.ends[k]!);
  return v.escaped[k] ? s.replace(/""/g, '"') : s;
}

// ---------------------------------------------------------------------------------------------
// Readers

const KNOWN_HEADER_NAMES = new Set([
  'user_id', 'userid', 'user', 'item_id', 'itemid', 'item', 'movieid', 'movie_id', 'rating', 'timestamp',
]);

class GrowInt32 {
  data = new Int32Array(1 << 16);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const n = new Int32Array(this.data.length * 2);
      n.set(this.data);
      this.data = n;
    }
    this.data[this.length++] = v;
  }
}

function resolveColumn(
  spec: ColumnSpec,
  names: readonly string[] | null,
  role: string,
  file: string,
): number {
  if (typeof spec === 'number') {
    if (!Number.isInteger(spec) || spec < 0) throw new UserError(`${role} column index must be a non-negative integer, got ${spec}`);
    if (names !== null && spec >= names.length) {
      throw new UserError(`${role} column index ${spec} is beyond the header's ${names.length} fields (${names.join(', ')})`, file, 1);
    }
    return spec;
  }
  if (names !== null) {
    const i = names.indexOf(spec);
    if (i >= 0) return i;
  }
  if (/^\d+$/.test(spec)) return resolveColumn(Number(spec), names, role, file);
  if (names === null) throw new UserError(`${role} column '${spec}' is a name, but the file has no header; give a 0-based column index`, file);
  throw new UserError(`header has no ${role} field '${spec}' (fields found: ${names.join(', ')})`, file, 1);
}

/**
 * Reads an interaction file (or a dataset folder, see resolveInteractionFile) into an
 * InteractionLog. Formats:
 * - `inter`: RecBole atomic, tab-separated, header `name:type`; columns found by name
 *   (defaults user_id / item_id / rating).
 * - `ml-100k` (u.data): tab, no header, `user item rating timestamp`.
 * - `ml-1m` (ratings.dat): `::`, no header, `user::item::rating::timestamp`.
 * - `csv` / `tsv`: separator `sep` (default ',' / tab), fields may be "quoted", spaces around
 *   fields are trimmed. header 'auto' means: a header when a column is given by name or when
 *   a first-line field is a well-known column name (user_id, userId, item_id, movieId, rating, …).
 * A line with fewer fields than the header (or than the highest column used) is an error;
 * blank lines are skipped.
 */
export function readInteractions(path: string, options: ReadOptions = {}): InteractionLog {
  const file = resolveInteractionFile(path);
  if (statSync(file).size === 0) throw new UserError('file is empty', file);
  const format = options.format ?? detectFormat(file);
  if (!INTERACTION_FORMATS.includes(format)) {
    throw new UserError(`unknown format '${String(format)}' (known: ${INTERACTION_FORMATS.join(', ')})`);
  }
  const minRating = options.minRating;
  if (minRating !== undefined && !Number.isFinite(minRating)) throw new UserError(`min-rating must be a number, got ${minRating}`);

  let sep: string;
  let headerMode: 'inter' | boolean | 'auto';
  let userSpec: ColumnSpec;
  let itemSpec: ColumnSpec;
  let ratingSpec: ColumnSpec | undefined = options.ratingCol;
  let csvLike = false;
  switch (format) {
    case 'inter':
      sep = options.sep ?? '\t';
      headerMode = 'inter';
      userSpec = options.userCol ?? 'user_id';
      itemSpec = options.itemCol ?? 'item_id';
      ratingSpec ??= 'rating';
      break;
    case 'ml-100k':
    case 'ml-1m':
      sep = options.sep ?? (format === 'ml-100k' ? '\t' : '::');
      headerMode = false;
      userSpec = options.userCol ?? 0;
      itemSpec = options.itemCol ?? 1;
      ratingSpec ??= 2;
      break;
    default:
      csvLike = true;
      sep = options.sep ?? (format === 'csv' ? ',' : '\t');
      headerMode = options.header ?? 'auto';
      userSpec = options.userCol ?? 0;
      itemSpec = options.itemCol ?? 1;
  }
  if (sep.length === 0) throw new UserError('the field separator must not be empty');
  if (sep === '\\t') sep = '\t';

  const userMap = new IdMapBuilder('user_id');
  const itemMap = new IdMapBuilder('item_id');
  const users = new GrowInt32();
  const items = new GrowInt32();
  let names: string[] | null = null;
  let headerDone = false;
  let uCol = -1;
  let iCol = -1;
  let rCol = -1;
  let needed = 0;
  let rows = 0;
  let filtered = 0;
  let lastUser = '\u0000';
  let lastUserId = 0;

  const setup = (v: LineView): boolean => {
    // Returns true when v is the header line (consumed).
    let isHeader: boolean;
    if (headerMode === 'inter' || headerMode === true) isHeader = true;
    else if (headerMode === false) isHeader = false;
    else {
      const named = (s: ColumnSpec | undefined): boolean => typeof s === 'string' && !/^\d+$/.test(s);
      isHeader = named(userSpec) || named(itemSpec) || named(options.ratingCol);
      for (let k = 0; k < v.count && !isHeader; k++) {
        const f = field(v, k);
        const c = f.indexOf(':');
        if (KNOWN_HEADER_NAMES.has((c >= 0 ? f.slice(0, c) : f).toLowerCase())) isHeader = true;
      }
    }
    if (isHeader) {
      names = [];
      for (let k = 0; k < v.count; k++) {
        const f = field(v, k);
        const c = f.indexOf(':');
        names.push(headerMode === 'inter' && c >= 0 ? f.slice(0, c) : f);
      }
    }
    uCol = resolveColumn(userSpec, names, 'user', file);
    iCol = resolveColumn(itemSpec, names, 'item', file);
    if (minRating !== undefined) {
      let spec = ratingSpec;
      if (spec === undefined) spec = names !== null && (names as string[]).includes('rating') ? 'rating' : 2;
      rCol = resolveColumn(spec, names, 'rating', file);
    }
    needed = names !== null ? (names as string[]).length : Math.max(uCol, iCol, rCol) + 1;
    headerDone = true;
    return isHeader;
  };

  const onLine = (v: LineView): void => {
    if (!headerDone && setup(v)) return;
    if (v.count < needed) {
      throw new UserError(
        `line has ${v.count} field${v.count === 1 ? '' : 's'}, expected ${needed} (separator ${JSON.stringify(sep)})`,
        file,
        v.lineNo,
      );
    }
    if (rCol >= 0) {
      const s = v.starts[rCol]!;
      const e = v.ends[rCol]!;
      const txt = v.text.slice(s, e);
      const r = e > s ? Number(txt) : NaN;
      if (Number.isNaN(r)) throw new UserError(`rating '${txt}' is not a number (needed for min-rating)`, file, v.lineNo);
      if (r < minRating!) {
        filtered++;
        return;
      }
    }
    const us = v.starts[uCol]!;
    const ue = v.ends[uCol]!;
    const is = v.starts[iCol]!;
    const ie = v.ends[iCol]!;
    if (ue === us) throw new UserError('empty user field', file, v.lineNo);
    if (ie === is) throw new UserError('empty item field', file, v.lineNo);
    // Files grouped by user (ratings.dat) repeat the user token line after line: reuse its id
    // without slicing and hashing.
    if (!(ue - us === lastUser.length && v.text.startsWith(lastUser, us)) || v.escaped[uCol]) {
      lastUser = v.escaped[uCol] ? field(v, uCol) : v.text.slice(us, ue);
      lastUserId = userMap.idOf(lastUser);
    }
    users.push(lastUserId);
    items.push(itemMap.idOf(v.escaped[iCol] ? field(v, iCol) : v.text.slice(is, ie)));
    rows++;
  };

  scanLines(file, { sep, trim: csvLike, quotes: csvLike }, onLine);
  if (!headerDone) throw new UserError('file is empty (only blank lines)', file);
  if (rows === 0) {
    throw new UserError(
      filtered > 0 ? `no interactions left: all ${filtered} rows have rating < ${minRating}` : 'no interactions (header only)',
      file,
    );
  }
  const { u, i } = dedupeFirst(users.data.subarray(0, users.length), items.data.subarray(0, items.length), userMap.size, itemMap.size);
  return { users: u, items: i, userMap: userMap.build(), itemMap: itemMap.build(), source: file };
}

/**
 * Drops repeated (user, item) pairs, keeping the first occurrence, in file order.
 * O(n + nUsers + nItems): a stable counting sort by user and a per-item stamp array.
 */
export function dedupeFirst(
  users: Int32Array,
  items: Int32Array,
  nUsers: number,
  nItems: number,
): { u: Int32Array; i: Int32Array } {
  const n = users.length;
  const start = new Int32Array(nUsers + 1);
  for (let k = 0; k < n; k++) start[users[k]! + 1]!++;
  for (let r = 0; r < nUsers; r++) start[r + 1]! += start[r]!;
  const order = new Int32Array(n);
  const fill = start.slice(0, nUsers);
  for (let k = 0; k < n; k++) order[fill[users[k]!]!++] = k;
  const stamp = new Int32Array(nItems).fill(-1);
  const keep = new Uint8Array(n);
  let kept = 0;
  for (let r = 0; r < nUsers; r++) {
    for (let p = start[r]!, e = start[r + 1]!; p < e; p++) {
      const k = order[p]!;
      const it = items[k]!;
      if (stamp[it] !== r) {
        stamp[it] = r;
        keep[k] = 1;
        kept++;
      }
    }
  }
  const u = new Int32Array(kept);
  const i = new Int32Array(kept);
  let w = 0;
  for (let k = 0; k < n; k++) {
    if (keep[k]) {
      u[w] = users[k]!;
      i[w] = items[k]!;
      w++;
    }
  }
  return { u, i };
}
