/**
 * Which interaction file to read and how its format lays it out: format detection from the file
 * name, the search for the interaction file inside a dataset folder, and each format's separator,
 * header rule and default columns.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { UserError } from '../util/errors.js';

/** The interaction-file formats readInteractions understands. */
export type InteractionFormat = 'inter' | 'ml-100k' | 'ml-1m' | 'csv' | 'tsv';

/** Every InteractionFormat, in the order messages list them. */
export const INTERACTION_FORMATS: readonly InteractionFormat[] = ['inter', 'ml-100k', 'ml-1m', 'csv', 'tsv'];

/**
 * A column: a header name, or a 0-based index (a string of digits counts as an index unless the
 * header has that name).
 */
export type ColumnSpec = string | number;

/** How readInteractions reads a file; every field is optional. */
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
    `cannot tell the format from the file name '${basename(path)}' ` +
      `(known: *.inter, u.data, ratings.dat, *.csv, *.tsv); ` +
      `name the format explicitly (${INTERACTION_FORMATS.join(', ')})`,
    path,
  );
}

/** The interaction files directly inside `dir`: every *.inter, else u.data, ratings.dat and ratings.csv. */
function interactionFilesIn(dir: string): string[] {
  const names = readdirSync(dir);
  const inter = names.filter((n) => n.endsWith('.inter'));
  const found: string[] = [];
  if (inter.length > 0) found.push(...inter);
  else for (const n of ['u.data', 'ratings.dat', 'ratings.csv']) if (names.includes(n)) found.push(n);
  return found.map((n) => join(dir, n));
}

/**
 * A dataset folder → its interaction file: a single *.inter, u.data, ratings.dat or ratings.csv,
 * looked for in the folder and then one level down (a fetched archive). A file path is returned
 * unchanged. Throws UserError when the path does not exist or nothing (or too much) matches.
 */
export function resolveInteractionFile(path: string): string {
  if (!existsSync(path)) throw new UserError('no such file or folder', path);
  if (!statSync(path).isDirectory()) return path;
  const found = interactionFilesIn(path);
  if (found.length === 0) {
    for (const sub of readdirSync(path).sort()) {
      const p = join(path, sub);
      if (statSync(p).isDirectory()) found.push(...interactionFilesIn(p));
    }
  }
  if (found.length === 1) return found[0]!;
  if (found.length === 0) {
    throw new UserError('no interaction file found (looked for *.inter, u.data, ratings.dat, ratings.csv)', path);
  }
  throw new UserError(`several interaction files found: ${found.map((f) => basename(f)).join(', ')}; name one`, path);
}

/**
 * Whether the first non-blank line is a header: 'inter' (always, RecBole `name:type` fields),
 * true, false, or 'auto' (decided from that line, see readInteractions).
 */
export type HeaderMode = 'inter' | boolean | 'auto';

/** How one file is laid out: the format's defaults with the caller's options applied. */
export interface FormatLayout {
  /** The field separator (a literal `\t` already turned into a tab). */
  sep: string;
  /** Whether the first non-blank line is a header. */
  headerMode: HeaderMode;
  /** The user column. */
  userSpec: ColumnSpec;
  /** The item column. */
  itemSpec: ColumnSpec;
  /** The rating column when one is implied (by the caller or the format); undefined for csv/tsv defaults. */
  ratingSpec: ColumnSpec | undefined;
  /** csv/tsv: fields may be quoted and are trimmed of spaces. */
  csvLike: boolean;
}

/** The layout of `format` under `options`. Throws UserError for an empty separator. */
export function formatLayout(format: InteractionFormat, options: ReadOptions): FormatLayout {
  const layout = formatDefaults(format, options);
  if (layout.sep.length === 0) throw new UserError('the field separator must not be empty');
  if (layout.sep === '\\t') layout.sep = '\t';
  return layout;
}

function formatDefaults(format: InteractionFormat, options: ReadOptions): FormatLayout {
  const ratingSpec = options.ratingCol;
  switch (format) {
    case 'inter':
      return {
        sep: options.sep ?? '\t',
        headerMode: 'inter',
        userSpec: options.userCol ?? 'user_id',
        itemSpec: options.itemCol ?? 'item_id',
        ratingSpec: ratingSpec ?? 'rating',
        csvLike: false,
      };
    case 'ml-100k':
    case 'ml-1m':
      return {
        sep: options.sep ?? (format === 'ml-100k' ? '\t' : '::'),
        headerMode: false,
        userSpec: options.userCol ?? 0,
        itemSpec: options.itemCol ?? 1,
        ratingSpec: ratingSpec ?? 2,
        csvLike: false,
      };
    default:
      return {
        sep: options.sep ?? (format === 'csv' ? ',' : '\t'),
        headerMode: options.header ?? 'auto',
        userSpec: options.userCol ?? 0,
        itemSpec: options.itemCol ?? 1,
        ratingSpec,
        csvLike: true,
      };
  }
}
