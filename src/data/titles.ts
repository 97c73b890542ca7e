/**
 * Item titles of a dataset, when it ships them: RecBole's atomic `.item` file (a `movie_title`
 * or `title` column), MovieLens-100K's `u.item` (`|`-separated, Latin-1) and MovieLens-1M's
 * `movies.dat` (`::`-separated, Latin-1). Titles only label served items; nothing numeric uses them.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../util/errors.js';

/** The title files readItemTitles understands, by how their names end. */
const TITLE_FILE_NAMES = ['u.item', 'movies.dat'] as const;

/** Item token → title, read from one of the files in the module comment. */
export function readItemTitles(file: string): Map<string, string> {
  if (!existsSync(file)) throw new UserError('no such file', file);
  const name = basename(file).toLowerCase();
  if (name === 'u.item') return readSeparated(file, '|');
  if (name === 'movies.dat') return readSeparated(file, '::');
  if (name.endsWith('.item')) return readAtomicItemFile(file);
  throw new UserError(`cannot tell the titles format from the name '${basename(file)}' (*.item, u.item, movies.dat)`);
}

/**
 * The title file that sits with a dataset: beside an interaction file (same stem `.item`, or
 * u.item / movies.dat), or inside a dataset folder. Undefined when there is none.
 */
export function findTitlesFile(datasetPath: string): string | undefined {
  if (!existsSync(datasetPath)) return undefined;
  const isDir = statSync(datasetPath).isDirectory();
  const dir = isDir ? datasetPath : dirname(datasetPath);
  const names = readdirSync(dir);
  if (!isDir) {
    const stem = basename(datasetPath).replace(/\.[^.]*$/, '');
    if (names.includes(`${stem}.item`)) return join(dir, `${stem}.item`);
  }
  const atomic = names.filter((n) => n.endsWith('.item') && n !== 'u.item');
  if (atomic.length === 1) return join(dir, atomic[0]!);
  const known = TITLE_FILE_NAMES.find((n) => names.includes(n));
  return known === undefined ? undefined : join(dir, known);
}

/** RecBole atomic item file: a tab-separated header of `name:type` fields; item_id and a title column. */
function readAtomicItemFile(file: string): Map<string, string> {
  const lines = readFileSync(file, 'utf8').split(/\r?\n/);
  const header = (lines[0] ?? '').split('\t').map((h) => h.split(':')[0]!.trim());
  const idCol = header.indexOf('item_id');
  const titleCol = header.findIndex((h) => h === 'movie_title' || h === 'title');
  if (idCol < 0 || titleCol < 0) throw new UserError('the header has no item_id or movie_title/title column', file);
  const titles = new Map<string, string>();
  for (let l = 1; l < lines.length; l++) {
    const line = lines[l]!;
    if (line === '') continue;
    const f = line.split('\t');
    const id = f[idCol],
      title = f[titleCol];
    if (id === undefined || title === undefined) throw new UserError('too few fields', file, l + 1);
    titles.set(id, title);
  }
  return titles;
}

/** MovieLens files without a header: the id in field 0, the title in field 1 (Latin-1 text). */
function readSeparated(file: string, sep: string): Map<string, string> {
  const lines = readFileSync(file, 'latin1').split(/\r?\n/);
  const titles = new Map<string, string>();
  for (let l = 0; l < lines.length; l++) {
    const line = lines[l]!;
    if (line === '') continue;
    const f = line.split(sep);
    if (f.length < 2) throw new UserError(`too few fields (separator '${sep}')`, file, l + 1);
    titles.set(f[0]!, f[1]!);
  }
  return titles;
}
