/**
 * The header of an interaction file and where its columns are: whether the first non-blank line
 * is a header, the field names it gives, and the user, item and rating column indices.
 */
import { UserError } from '../util/errors.js';
import { shortened } from '../util/excerpt.js';
import type { ColumnSpec, FormatLayout } from './interaction-format.js';
import { field, type LineView } from './line-scanner.js';

const KNOWN_HEADER_NAMES = new Set([
  'user_id',
  'userid',
  'user',
  'item_id',
  'itemid',
  'item',
  'movieid',
  'movie_id',
  'rating',
  'timestamp',
]);

/** Where a file's columns are, settled on its first non-blank line. */
export interface ColumnPlan {
  /** Whether that first line is a header (and so holds no interaction). */
  isHeader: boolean;
  /** The user column index. */
  user: number;
  /** The item column index. */
  item: number;
  /** The rating column, or -1 when no rating threshold is applied. */
  rating: number;
  /** The number of fields every row must have: the header's, or one past the highest column used. */
  needed: number;
}

/** What the caller asked for, beside the format's layout. */
export interface ColumnRequest {
  /** The rating column the caller named (it alone makes a csv/tsv header 'auto' count as present). */
  ratingCol: ColumnSpec | undefined;
  /** Whether a rating threshold applies, so the rating column is needed. */
  withRating: boolean;
}

/**
 * Settles the columns from the file's first non-blank line `v`. Throws UserError (naming `file`,
 * and line 1 for header problems) when a column is missing or out of range.
 */
export function planColumns(v: LineView, layout: FormatLayout, request: ColumnRequest, file: string): ColumnPlan {
  const isHeader = isHeaderLine(v, layout, request.ratingCol);
  const names = isHeader ? headerNames(v, layout.headerMode === 'inter') : null;
  const user = resolveColumn(layout.userSpec, names, 'user', file);
  const item = resolveColumn(layout.itemSpec, names, 'item', file);
  let rating = -1;
  if (request.withRating) {
    let spec = layout.ratingSpec;
    if (spec === undefined) spec = names?.includes('rating') ? 'rating' : 2;
    rating = resolveColumn(spec, names, 'rating', file);
  }
  const needed = names !== null ? names.length : Math.max(user, item, rating) + 1;
  return { isHeader, user, item, rating, needed };
}

/**
 * With header 'auto', a line is a header when a column is given by name or when one of its
 * fields (before any `:type`) is a well-known column name.
 */
function isHeaderLine(v: LineView, layout: FormatLayout, ratingCol: ColumnSpec | undefined): boolean {
  const mode = layout.headerMode;
  if (mode === 'inter' || mode === true) return true;
  if (mode === false) return false;
  const named = (s: ColumnSpec | undefined): boolean => typeof s === 'string' && !/^\d+$/.test(s);
  if (named(layout.userSpec) || named(layout.itemSpec) || named(ratingCol)) return true;
  for (let k = 0; k < v.count; k++) {
    const f = field(v, k);
    const c = f.indexOf(':');
    if (KNOWN_HEADER_NAMES.has((c >= 0 ? f.slice(0, c) : f).toLowerCase())) return true;
  }
  return false;
}

/** The header's field names; RecBole `.inter` names lose their `:type` suffix. */
function headerNames(v: LineView, recBole: boolean): string[] {
  const names: string[] = [];
  for (let k = 0; k < v.count; k++) {
    const f = field(v, k);
    const c = f.indexOf(':');
    names.push(recBole && c >= 0 ? f.slice(0, c) : f);
  }
  return names;
}

/**
 * The 0-based index of the column `spec` names: an index as given, a header name, or a string
 * of digits that is no header name. `role` (user, item, rating) names the column in errors.
 */
function resolveColumn(spec: ColumnSpec, names: readonly string[] | null, role: string, file: string): number {
  if (typeof spec === 'number') {
    if (!Number.isInteger(spec) || spec < 0) {
      throw new UserError(`${role} column index must be a non-negative integer, got ${spec}`);
    }
    if (names !== null && spec >= names.length) {
      throw new UserError(
        `${role} column index ${spec} is beyond the header's ${names.length} fields (${fieldList(names)})`,
        file,
        1,
      );
    }
    return spec;
  }
  if (names !== null) {
    const i = names.indexOf(spec);
    if (i >= 0) return i;
  }
  if (/^\d+$/.test(spec)) return resolveColumn(Number(spec), names, role, file);
  if (names === null) {
    throw new UserError(
      `${role} column '${spec}' is a name, but the file has no header; give a 0-based column index`,
      file,
    );
  }
  throw new UserError(`header has no ${role} field '${spec}' (fields found: ${fieldList(names)})`, file, 1);
}

/** The header's names for a message: comma-separated, cut after EXCERPT_CHARS characters. */
function fieldList(names: readonly string[]): string {
  return shortened(names.join(', '));
}
