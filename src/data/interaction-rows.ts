/**
 * The rows of an interaction file → internal ids (docs/numeric-contract.md §1): the first
 * non-blank line settles the columns, every row is checked, dropped when its rating is below the
 * threshold, and its user and item tokens get ids in order of first appearance.
 */
import { UserError } from '../util/errors.js';
import { quoteExcerpt } from '../util/excerpt.js';
import { GrowInt32 } from './grow-int32.js';
import { IdMapBuilder } from './idmap.js';
import { type ColumnPlan, planColumns } from './interaction-columns.js';
import type { ColumnSpec, FormatLayout } from './interaction-format.js';
import type { LineView } from './line-scanner.js';

/** The rating threshold and the rating column the caller named. */
export interface RatingFilter {
  /** Keep only rows with rating ≥ minRating; undefined keeps every row and never parses ratings. */
  minRating: number | undefined;
  /** The rating column the caller named, if any. */
  ratingCol: ColumnSpec | undefined;
}

/** Whether the character code is whitespace an id may carry around it by mistake (space, tab, CR, VT, FF). */
function isIdSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/** The text of field `col` between s and e, with the doubled quotes of an escaped quoted field undone. */
function idText(v: LineView, col: number, s: number, e: number): string {
  const text = v.text.slice(s, e);
  return v.escaped[col] ? text.replace(/""/g, '"') : text;
}

/** The first id of a file that carried surrounding whitespace, and how many did. */
export interface TrimmedIds {
  /** User and item fields trimmed (a field counts once per row). */
  count: number;
  /** The first one as written, e.g. '196 '. */
  example: string;
  /** Its 1-based line. */
  line: number;
}

/** Collects the (user id, item id) pairs of a file's lines, in file order, duplicates included. */
export class InteractionCollector {
  /** User tokens → ids 1..N by first appearance among the rows kept. */
  readonly userMap = new IdMapBuilder('user_id');
  /** Item tokens → ids 1..N by first appearance among the rows kept. */
  readonly itemMap = new IdMapBuilder('item_id');
  /** Rows kept. */
  rows = 0;
  /** Rows dropped by the rating threshold. */
  filtered = 0;
  /** Ids written with surrounding whitespace ("196 " is id 196); undefined when none was. */
  trimmed: TrimmedIds | undefined;
  private readonly users = new GrowInt32();
  private readonly items = new GrowInt32();
  private columns: ColumnPlan | null = null;
  private lastUser = '\u0000';
  private lastUserId = 0;

  /** Rows of `file`, laid out as `layout`, filtered by `filter`. */
  constructor(
    private readonly file: string,
    private readonly layout: FormatLayout,
    private readonly filter: RatingFilter,
  ) {}

  /** Whether a non-blank line has been seen (the columns are settled). */
  get started(): boolean {
    return this.columns !== null;
  }

  /** Takes one non-blank line. Throws UserError naming the file and line for a bad row. */
  add(v: LineView): void {
    let columns = this.columns;
    if (columns === null) {
      const request = { ratingCol: this.filter.ratingCol, withRating: this.filter.minRating !== undefined };
      columns = planColumns(v, this.layout, request, this.file);
      this.columns = columns;
      if (columns.isHeader) return;
    }
    if (v.count < columns.needed) {
      throw new UserError(
        `line has ${v.count} field${v.count === 1 ? '' : 's'}, expected ${columns.needed} ` +
          `(separator ${JSON.stringify(this.layout.sep)})`,
        this.file,
        v.lineNo,
      );
    }
    if (columns.rating >= 0 && this.belowThreshold(v, columns.rating)) {
      this.filtered++;
      return;
    }
    this.addPair(v, columns.user, columns.item);
  }

  /** The user and item ids of the rows kept, in file order. */
  pairs(): { users: Int32Array; items: Int32Array } {
    return {
      users: this.users.data.subarray(0, this.users.length),
      items: this.items.data.subarray(0, this.items.length),
    };
  }

  private belowThreshold(v: LineView, col: number): boolean {
    const s = v.starts[col]!;
    const e = v.ends[col]!;
    const txt = v.text.slice(s, e);
    const r = e > s ? Number(txt) : NaN;
    if (Number.isNaN(r)) {
      throw new UserError(`rating ${quoteExcerpt(txt)} is not a number (needed for min-rating)`, this.file, v.lineNo);
    }
    return r < this.filter.minRating!;
  }

  private addPair(v: LineView, uCol: number, iCol: number): void {
    this.trimField(v, uCol);
    this.trimField(v, iCol);
    const us = v.starts[uCol]!;
    const ue = v.ends[uCol]!;
    const is = v.starts[iCol]!;
    const ie = v.ends[iCol]!;
    if (ue === us) throw new UserError('empty user field', this.file, v.lineNo);
    if (ie === is) throw new UserError('empty item field', this.file, v.lineNo);
    // Files grouped by user (ratings.dat) repeat the user token line after line: reuse its id
    // without slicing and hashing.
    if (!(ue - us === this.lastUser.length && v.text.startsWith(this.lastUser, us)) || v.escaped[uCol]) {
      this.lastUser = idText(v, uCol, us, ue);
      this.lastUserId = this.userMap.idOf(this.lastUser);
    }
    this.users.push(this.lastUserId);
    this.items.push(this.itemMap.idOf(idText(v, iCol, is, ie)));
    this.rows++;
  }

  /**
   * Narrows field `col` of the view to its text without surrounding whitespace, counting it in
   * `trimmed`. (In place, without allocating: this runs twice per row of files of millions.)
   */
  private trimField(v: LineView, col: number): void {
    const s0 = v.starts[col]!;
    const e0 = v.ends[col]!;
    const text = v.text;
    if (s0 === e0 || (!isIdSpace(text.charCodeAt(s0)) && !isIdSpace(text.charCodeAt(e0 - 1)))) return;
    let s = s0;
    let e = e0;
    while (s < e && isIdSpace(text.charCodeAt(s))) s++;
    while (e > s && isIdSpace(text.charCodeAt(e - 1))) e--;
    if (this.trimmed === undefined) this.trimmed = { count: 0, example: text.slice(s0, e0), line: v.lineNo };
    this.trimmed.count++;
    v.starts[col] = s;
    v.ends[col] = e;
  }
}
