/** Flags shared by every command that reads an interaction file. */
import { INTERACTION_FORMATS, type InteractionFormat, type ReadOptions } from '../data/readers.js';
import { choice, float, str } from './args.js';
import type { OptionSpec, ParsedValues } from './command.js';

/** The flags of every command that reads an interaction file. */
export const DATA_OPTIONS: OptionSpec = {
  data: { type: 'string' },
  format: { type: 'string' },
  sep: { type: 'string' },
  'user-col': { type: 'string' },
  'item-col': { type: 'string' },
  'rating-col': { type: 'string' },
  'min-rating': { type: 'string' },
  header: { type: 'string' },
};

/** Help text of {@link DATA_OPTIONS}. */
export const DATA_HELP = `Data options:
  --data PATH          interaction file or dataset folder (RecBole .inter, ML-100K u.data,
                       ML-1M ratings.dat, CSV/TSV); a folder is searched for one of them
  --format F           ${INTERACTION_FORMATS.join(' | ')} (default: from the file name)
  --sep S              field separator for csv/tsv (default ',' / tab)
  --user-col C         user column: header name or 0-based index (default user_id / 0)
  --item-col C         item column (default item_id / 1)
  --rating-col C       rating column for --min-rating (default rating / 2)
  --min-rating R       keep only rows with rating ≥ R (every kept row is a positive)
  --header yes|no|auto whether a csv/tsv has a header line (default auto)`;

function col(v: string | undefined): string | number | undefined {
  if (v === undefined) return undefined;
  return /^\d+$/.test(v) ? Number(v) : v;
}

/** The read options given by the data flags. */
export function readOptionsFrom(v: ParsedValues): ReadOptions {
  const header = choice(v, 'header', ['yes', 'no', 'auto'] as const);
  const opts: ReadOptions = {};
  const format = choice(v, 'format', INTERACTION_FORMATS as readonly InteractionFormat[]);
  if (format) opts.format = format;
  const sep = str(v, 'sep');
  if (sep !== undefined) opts.sep = sep === '\\t' || sep === 'tab' ? '\t' : sep;
  const u = col(str(v, 'user-col'));
  if (u !== undefined) opts.userCol = u;
  const i = col(str(v, 'item-col'));
  if (i !== undefined) opts.itemCol = i;
  const r = col(str(v, 'rating-col'));
  if (r !== undefined) opts.ratingCol = r;
  const mr = float(v, 'min-rating');
  if (mr !== undefined) opts.minRating = mr;
  if (header) opts.header = header === 'auto' ? 'auto' : header === 'yes';
  return opts;
}
