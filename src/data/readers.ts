/**
 * Interaction-file readers → InteractionLog (docs/numeric-contract.md §1): RecBole atomic
 * `.inter`, MovieLens-100K `u.data`, MovieLens-1M `ratings.dat`, generic CSV/TSV. Every row is a
 * positive; duplicate (user, item) pairs collapse to their first occurrence; ids are 1..N by
 * first appearance.
 *
 * The steps live beside this module: interaction-format (which file, which layout),
 * line-scanner (chunked reading, fields as offsets), interaction-columns (header and columns),
 * interaction-rows (row checks, rating filter, ids).
 */
import { UserError } from '../util/errors.js';
import { quoteExcerpt } from '../util/excerpt.js';
import { statRegularFile } from '../util/input-files.js';
import { detectFormat, formatLayout, INTERACTION_FORMATS, resolveInteractionFile } from './interaction-format.js';
import type { ReadOptions } from './interaction-format.js';
import { InteractionCollector } from './interaction-rows.js';
import { scanLines } from './line-scanner.js';
import type { InteractionLog } from './types.js';

export {
  type ColumnSpec,
  detectFormat,
  INTERACTION_FORMATS,
  type InteractionFormat,
  type ReadOptions,
  resolveInteractionFile,
} from './interaction-format.js';

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
 * blank lines are skipped; whitespace around an id is trimmed ("196 " is id 196). Every bad
 * input is a UserError naming the file (and line): a FIFO or device instead of a regular file,
 * a NUL byte (binary input), a short line, an empty id.
 */
export function readInteractions(path: string, options: ReadOptions = {}): InteractionLog {
  return readInteractionFile(path, options).log;
}

/** An interaction log and the notes its reading gives the user (ids trimmed of whitespace). */
export interface InteractionFileRead {
  log: InteractionLog;
  /** One line each, e.g. how many ids had whitespace around them. */
  notes: string[];
}

/** {@link readInteractions} with the notes for the user (see {@link InteractionFileRead}). */
export function readInteractionFile(path: string, options: ReadOptions = {}): InteractionFileRead {
  const file = resolveInteractionFile(path);
  if (statRegularFile(file).size === 0) throw new UserError('file is empty', file);
  const format = options.format ?? detectFormat(file);
  if (!INTERACTION_FORMATS.includes(format)) {
    throw new UserError(`unknown format '${String(format)}' (known: ${INTERACTION_FORMATS.join(', ')})`);
  }
  const minRating = options.minRating;
  if (minRating !== undefined && !Number.isFinite(minRating)) {
    throw new UserError(`min-rating must be a number, got ${minRating}`);
  }
  const layout = formatLayout(format, options);
  const rows = new InteractionCollector(file, layout, { minRating, ratingCol: options.ratingCol });
  scanLines(file, { sep: layout.sep, trim: layout.csvLike, quotes: layout.csvLike }, (v) => rows.add(v));
  if (!rows.started) throw new UserError('file is empty (only blank lines)', file);
  if (rows.rows === 0) {
    const why =
      rows.filtered > 0
        ? `no interactions left: all ${rows.filtered} rows have rating < ${minRating}`
        : 'no interactions (header only)';
    throw new UserError(why, file);
  }
  const { users, items } = rows.pairs();
  const { u, i } = dedupeFirst(users, items, rows.userMap.size, rows.itemMap.size);
  const log = { users: u, items: i, userMap: rows.userMap.build(), itemMap: rows.itemMap.build(), source: file };
  const t = rows.trimmed;
  const notes =
    t === undefined
      ? []
      : [
          `${file}: ${t.count} id${t.count === 1 ? '' : 's'} had whitespace around ${t.count === 1 ? 'it' : 'them'}, ` +
            `trimmed (the first: ${quoteExcerpt(t.example)} on line ${t.line})`,
        ];
  return { log, notes };
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
