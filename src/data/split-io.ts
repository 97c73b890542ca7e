/**
 * Split and id-map files in the reference oracle's format (../shared/oracle/ml-100k-bpr):
 * - split TSV: header `user_id\titem_id`, one `user\titem` pair of internal ids per line;
 * - id map TSV: header `user_id:token\tinternal_id` (or item_id), one `token\tid` per line,
 *   ids 1..N, padding not listed.
 * Layout of a split folder: `user_id_map.tsv`, `item_id_map.tsv`, `splits/{train,valid,test}_split.tsv`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../util/errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { quoteExcerpt } from '../util/excerpt.js';
import { readRegularTextFile } from '../util/input-files.js';
import { writeFileAtomicStreamed } from '../util/atomic-stream.js';
import { csrContains, csrFromCoo, csrNnz, type Csr } from '../math/csr.js';
import { GrowInt32 } from './grow-int32.js';
import { PAD_TOKEN } from './idmap.js';
import { scanLines, type LineView } from './line-scanner.js';
import type { IdMap, SplitDataset } from './types.js';

/** The three parts of the split. */
export const SPLIT_NAMES = ['train', 'valid', 'test'] as const;
/** One part of the split: train, valid or test. */
export type SplitName = (typeof SPLIT_NAMES)[number];

/** The files of a split folder: one TSV per part and the two id maps. */
export interface SplitPaths {
  train: string;
  valid: string;
  test: string;
  userMap: string;
  itemMap: string;
}

/** The oracle's layout under `dir`. */
export function splitPaths(dir: string): SplitPaths {
  return {
    train: join(dir, 'splits', 'train_split.tsv'),
    valid: join(dir, 'splits', 'valid_split.tsv'),
    test: join(dir, 'splits', 'test_split.tsv'),
    userMap: join(dir, 'user_id_map.tsv'),
    itemMap: join(dir, 'item_id_map.tsv'),
  };
}

function readText(path: string): string {
  if (!existsSync(path)) throw new UserError('no such file', path);
  const text = readRegularTextFile(path);
  if (text.trim().length === 0) throw new UserError('file is empty', path);
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Calls fn(line, lineNo) for each non-blank line (CR stripped). */
function eachLine(text: string, fn: (line: string, lineNo: number) => void): void {
  let pos = 0;
  let lineNo = 0;
  while (pos < text.length) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = text.length;
    lineNo++;
    let e = nl;
    if (e > pos && text.charCodeAt(e - 1) === 13) e--;
    const line = text.slice(pos, e);
    if (line.trim().length > 0) fn(line, lineNo);
    pos = nl + 1;
  }
}

/** Parses a non-negative decimal integer; -1 when it is not one. */
function parseId(s: string): number {
  if (s.length === 0 || s.length > 9) return -1;
  let v = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** A field's id: digits only on the fast path; anything else as before (trimmed, then parsed). */
function fieldId(text: string, s: number, e: number): number {
  if (e > s && e - s <= 9) {
    let v = 0;
    let k = s;
    for (; k < e; k++) {
      const c = text.charCodeAt(k) - 48;
      if (c < 0 || c > 9) break;
      v = v * 10 + c;
    }
    if (k === e) return v;
  }
  return parseId(text.slice(s, e).trim());
}

/** Checks the header line of a split TSV (`user_id<TAB>item_id`, `:type` suffixes allowed). */
function checkSplitHeader(v: LineView, path: string): void {
  const f0 = v.text.slice(v.starts[0]!, v.ends[0]!);
  const f1 = v.count > 1 ? v.text.slice(v.starts[1]!, v.ends[1]!) : undefined;
  if (f0.split(':')[0] !== 'user_id' || f1?.split(':')[0] !== 'item_id') {
    const line = v.text.slice(v.starts[0]!, v.ends[v.count - 1]!);
    throw new UserError(`expected the header 'user_id<TAB>item_id', got ${quoteExcerpt(line)}`, path, v.lineNo);
  }
}

/**
 * Reads a split TSV into a CSR matrix of shape nUsers × nItems (padding included). Ids must be
 * in 1..nUsers-1 and 1..nItems-1; a repeated pair is an error. The file is scanned in chunks
 * and the pairs kept in typed arrays: at 17M rows its text is never held whole.
 */
export function readSplitTsv(path: string, nUsers: number, nItems: number): Csr {
  if (!existsSync(path)) throw new UserError('no such file', path);
  const rows = new GrowInt32();
  const cols = new GrowInt32();
  let header = true;
  scanLines(path, { sep: '\t', trim: false, quotes: false }, (v) => {
    if (header) {
      header = false;
      checkSplitHeader(v, path);
      return;
    }
    const text = v.text;
    if (v.count < 2) throw new UserError(`expected 2 tab-separated fields, got ${v.count}`, path, v.lineNo);
    const u = fieldId(text, v.starts[0]!, v.ends[0]!);
    const i = fieldId(text, v.starts[1]!, v.ends[1]!);
    const field = (k: number) => quoteExcerpt(text.slice(v.starts[k]!, v.ends[k]!));
    if (u < 0) throw new UserError(`user id ${field(0)} is not an integer`, path, v.lineNo);
    if (i < 0) throw new UserError(`item id ${field(1)} is not an integer`, path, v.lineNo);
    if (u < 1 || u >= nUsers)
      throw new UserError(`unknown user id ${u} (the user map has ids 1..${nUsers - 1})`, path, v.lineNo);
    if (i < 1 || i >= nItems)
      throw new UserError(`unknown item id ${i} (the item map has ids 1..${nItems - 1})`, path, v.lineNo);
    rows.push(u);
    cols.push(i);
  });
  if (header) throw new UserError('file is empty', path);
  return checkedCsr(rows.values(), cols.values(), nUsers, nItems, path);
}

/** The CSR of the pairs; a repeated pair is an error naming the first one. */
function checkedCsr(rows: Int32Array, cols: Int32Array, nUsers: number, nItems: number, path: string): Csr {
  const csr = csrFromCoo(rows, cols, nUsers, nItems);
  if (csrNnz(csr) !== rows.length) {
    // Find the first repeated pair for the message.
    const seen = new Set<number>();
    for (let k = 0; k < rows.length; k++) {
      const key = rows[k]! * nItems + cols[k]!;
      if (seen.has(key)) throw new UserError(`pair (${rows[k]}, ${cols[k]}) appears more than once`, path);
      seen.add(key);
    }
  }
  return csr;
}

/** The split TSV's text in parts of about 64 KB, made one at a time as they are written. */
function* splitTsvParts(m: Csr): Generator<Buffer> {
  yield Buffer.from('user_id\titem_id\n', 'utf8');
  let chunk = '';
  for (let u = 0; u < m.nRows; u++) {
    for (let k = m.indptr[u]!, e = m.indptr[u + 1]!; k < e; k++) {
      chunk += `${u}\t${m.indices[k]}\n`;
    }
    if (chunk.length > 1 << 16) {
      yield Buffer.from(chunk, 'utf8');
      chunk = '';
    }
  }
  yield Buffer.from(chunk, 'utf8');
}

/** Writes a CSR matrix as a split TSV (rows in user order, items ascending), atomically and streamed. */
export function writeSplitTsv(path: string, m: Csr): void {
  writeFileAtomicStreamed(path, splitTsvParts(m));
}

/**
 * Reads an id map TSV (`<field>:token\tinternal_id`). Ids must be exactly 1..N (any order),
 * tokens distinct. `field` is taken from the header; pass expectedField to check it.
 */
export function readIdMapTsv(path: string, expectedField?: string): IdMap {
  const text = readText(path);
  let field = '';
  let header = true;
  const byId = new Map<number, string>();
  const index = new Map<string, number>();
  let maxId = 0;
  eachLine(text, (line, lineNo) => {
    const f = line.split('\t');
    if (header) {
      header = false;
      const name = f[0]!.split(':')[0]!;
      if (f.length < 2 || f[1] !== 'internal_id' || name.length === 0) {
        throw new UserError(
          `expected the header '<field>:token<TAB>internal_id', got ${quoteExcerpt(line)}`,
          path,
          lineNo,
        );
      }
      if (expectedField !== undefined && name !== expectedField) {
        throw new UserError(
          `expected an id map for '${expectedField}', the header names ${quoteExcerpt(name)}`,
          path,
          lineNo,
        );
      }
      field = name;
      return;
    }
    if (f.length < 2) throw new UserError(`expected 2 tab-separated fields, got ${f.length}`, path, lineNo);
    const token = f[0]!;
    const id = parseId(f[1]!.trim());
    if (id < 1) throw new UserError(`internal id ${quoteExcerpt(f[1]!)} is not a positive integer`, path, lineNo);
    if (token.length === 0 || token === PAD_TOKEN)
      throw new UserError(`bad token ${quoteExcerpt(token)}`, path, lineNo);
    if (byId.has(id)) throw new UserError(`internal id ${id} appears twice`, path, lineNo);
    if (index.has(token)) throw new UserError(`token ${quoteExcerpt(token)} appears twice`, path, lineNo);
    byId.set(id, token);
    index.set(token, id);
    if (id > maxId) maxId = id;
  });
  if (header) throw new UserError('file is empty', path);
  if (byId.size === 0) throw new UserError('id map has no entries', path);
  if (maxId !== byId.size) {
    let missing = 1;
    while (byId.has(missing)) missing++;
    throw new UserError(`internal ids must be 1..${byId.size} without gaps; id ${missing} is missing`, path);
  }
  const tokens: string[] = [PAD_TOKEN];
  for (let id = 1; id <= maxId; id++) tokens.push(byId.get(id)!);
  return { field, tokens, index };
}

/** Writes an id map TSV (header `<field>:token\tinternal_id`, ids ascending, padding left out). */
export function writeIdMapTsv(path: string, map: IdMap): void {
  const lines = [`${map.field}:token\tinternal_id`];
  for (let id = 1; id < map.tokens.length; id++) lines.push(`${map.tokens[id]}\t${id}`);
  writeFileAtomic(path, lines.join('\n') + '\n');
}

/**
 * Reads a split (three TSVs and two id maps) and checks that train, valid and test are disjoint.
 */
export function readSplitFiles(paths: SplitPaths): SplitDataset {
  const userMap = readIdMapTsv(paths.userMap, 'user_id');
  const itemMap = readIdMapTsv(paths.itemMap, 'item_id');
  const nUsers = userMap.tokens.length;
  const nItems = itemMap.tokens.length;
  const train = readSplitTsv(paths.train, nUsers, nItems);
  const valid = readSplitTsv(paths.valid, nUsers, nItems);
  const test = readSplitTsv(paths.test, nUsers, nItems);
  const overlap = (a: Csr, b: Csr, an: string, bn: string, bPath: string): void => {
    for (let u = 0; u < b.nRows; u++) {
      for (let k = b.indptr[u]!, e = b.indptr[u + 1]!; k < e; k++) {
        if (csrContains(a, u, b.indices[k]!)) {
          throw new UserError(`pair (${u}, ${b.indices[k]}) is in both ${an} and ${bn}`, bPath);
        }
      }
    }
  };
  overlap(train, valid, 'train', 'valid', paths.valid);
  overlap(train, test, 'train', 'test', paths.test);
  overlap(valid, test, 'valid', 'test', paths.test);
  return { nUsers, nItems, train, valid, test, userMap, itemMap };
}

/** Reads a split folder in the oracle's layout (see splitPaths). */
export function readSplitDir(dir: string): SplitDataset {
  return readSplitFiles(splitPaths(dir));
}

/** Writes a split in the oracle's layout under `dir` (each file atomically). */
export function writeSplitDir(dir: string, ds: SplitDataset): SplitPaths {
  const p = splitPaths(dir);
  writeIdMapTsv(p.userMap, ds.userMap);
  writeIdMapTsv(p.itemMap, ds.itemMap);
  writeSplitTsv(p.train, ds.train);
  writeSplitTsv(p.valid, ds.valid);
  writeSplitTsv(p.test, ds.test);
  return p;
}
