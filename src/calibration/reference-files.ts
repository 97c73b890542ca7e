/**
 * The reference's preparation file formats, so its notebooks can read our output and we can
 * read its files:
 *
 * `.popularity` — header `item\tGroup_1\t…\tGroup_G`, then one row per item in internal-id
 * order: the external token and a one-hot row over the groups (`0`/`1`); the first row is
 * `[PAD]\t0\t…\t0`.
 *
 * `.userbaseline` — header `user_id\tGroup_1\t…\tGroup_G`, one row per user in internal-id
 * order: the user's INTERNAL id (that is what the reference writes in this file, unlike the
 * `.popularity` file's external item tokens) and the target fractions written like Python's `repr(float)`
 * (`0.0`, `0.375`, `0.18181818181818182`, `5e-05`); the first row is `[PAD]\t0.0\t…\t0.0`.
 */
import { UserError } from '../util/errors.js';
import { quoteExcerpt } from '../util/excerpt.js';
import { readRegularTextFile } from '../util/input-files.js';
import { writeFileAtomic } from '../util/atomic.js';

/** Formats a finite float like Python's `repr(float)` (shortest round-trip digits). */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (Object.is(x, -0)) return '-0.0';
  // toExponential() without an argument gives the shortest digits that round-trip.
  const [mant, expTxt] = x.toExponential().split('e') as [string, string];
  const exp = Number(expTxt);
  const neg = mant.startsWith('-');
  const digits = mant.replace('-', '').replace('.', '');
  let body: string;
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exp) < 10 ? `0${Math.abs(exp)}` : String(Math.abs(exp));
    body = `${m}e${exp < 0 ? '-' : '+'}${e}`;
  } else if (exp < 0) {
    body = `0.${'0'.repeat(-exp - 1)}${digits}`;
  } else if (digits.length <= exp + 1) {
    body = `${digits}${'0'.repeat(exp + 1 - digits.length)}.0`;
  } else {
    body = `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  }
  return neg ? `-${body}` : body;
}

function groupHeader(first: string, G: number): string {
  const cols = [first];
  for (let g = 1; g <= G; g++) cols.push(`Group_${g}`);
  return cols.join('\t');
}

/** Text of a `.popularity` file. tokens[i] is item i's external token (tokens[0] is written as [PAD]). */
export function formatPopularityFile(itemGroup: Int32Array, nGroups: number, tokens: readonly string[]): string {
  if (tokens.length !== itemGroup.length) {
    throw new UserError(`${tokens.length} item tokens for ${itemGroup.length} items`);
  }
  const lines: string[] = [groupHeader('item', nGroups)];
  const row = new Array<string>(nGroups);
  for (let i = 0; i < itemGroup.length; i++) {
    const g = itemGroup[i]!;
    if (i > 0 && (g < 0 || g >= nGroups)) throw new UserError(`item ${i} has no valid group (${g})`);
    for (let j = 0; j < nGroups; j++) row[j] = i > 0 && j === g ? '1' : '0';
    lines.push(`${i === 0 ? '[PAD]' : tokens[i]}\t${row.join('\t')}`);
  }
  return lines.join('\n') + '\n';
}

/**
 * Text of a `.userbaseline` file (targets row-major nUsers × nGroups). Rows are labelled with
 * internal ids like the reference's file, unless `labels` (index = internal id) are given.
 */
export function formatUserBaselineFile(targets: Float64Array, nGroups: number, labels?: readonly string[]): string {
  const nUsers = targets.length / nGroups;
  if (!Number.isInteger(nUsers))
    throw new UserError(`targets length ${targets.length} is not a multiple of ${nGroups} groups`);
  const tokens = labels ?? Array.from({ length: nUsers }, (_, u) => String(u));
  if (tokens.length !== nUsers) {
    throw new UserError(`targets have ${targets.length} values, expected ${nUsers}×${nGroups}`);
  }
  const lines: string[] = [groupHeader('user_id', nGroups)];
  const row = new Array<string>(nGroups);
  for (let u = 0; u < nUsers; u++) {
    for (let g = 0; g < nGroups; g++) row[g] = u === 0 ? '0.0' : pyFloatRepr(targets[u * nGroups + g]!);
    lines.push(`${u === 0 ? '[PAD]' : tokens[u]}\t${row.join('\t')}`);
  }
  return lines.join('\n') + '\n';
}

/** Writes a `.popularity` file (see {@link formatPopularityFile}), atomically. */
export function writePopularityFile(
  path: string,
  itemGroup: Int32Array,
  nGroups: number,
  tokens: readonly string[],
): void {
  writeFileAtomic(path, formatPopularityFile(itemGroup, nGroups, tokens));
}

/** Writes a `.userbaseline` file (see {@link formatUserBaselineFile}), atomically. */
export function writeUserBaselineFile(
  path: string,
  targets: Float64Array,
  nGroups: number,
  labels?: readonly string[],
): void {
  writeFileAtomic(path, formatUserBaselineFile(targets, nGroups, labels));
}

function readTable(path: string, firstCol: string): { G: number; rows: string[][] } {
  const text = readRegularTextFile(path);
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length < 2) throw new UserError('expected a header and a [PAD] row', path);
  const header = lines[0]!.split('\t');
  const G = header.length - 1;
  if (header[0] !== firstCol || G < 1 || header.slice(1).some((h, g) => h !== `Group_${g + 1}`)) {
    throw new UserError(
      `bad header ${quoteExcerpt(lines[0]!)}: expected '${groupHeader(firstCol, Math.max(G, 1))}'`,
      path,
      1,
    );
  }
  const rows: string[][] = [];
  for (let i = 1; i < lines.length; i++) {
    const cols = lines[i]!.split('\t');
    if (cols.length !== G + 1)
      throw new UserError(`expected ${G + 1} tab-separated columns, got ${cols.length}`, path, i + 1);
    rows.push(cols);
  }
  if (rows[0]![0] !== '[PAD]')
    throw new UserError(`first row must be the [PAD] row, got ${quoteExcerpt(rows[0]![0]!)}`, path, 2);
  return { G, rows };
}

/** A `.popularity` file read back: item tokens and their group (the [PAD] row → −1). */
export interface PopularityFile {
  readonly tokens: string[];
  readonly itemGroup: Int32Array;
  readonly nGroups: number;
}
/** A `.userbaseline` file read back: user tokens and their target rows, nUsers × nGroups. */
export interface UserBaselineFile {
  readonly tokens: string[];
  readonly targets: Float64Array;
  readonly nGroups: number;
}

/** Reads a `.popularity` file: one-hot rows → group index per item (the [PAD] row → −1). */
export function readPopularityFile(path: string): PopularityFile {
  const { G, rows } = readTable(path, 'item');
  const itemGroup = new Int32Array(rows.length);
  const tokens: string[] = [];
  for (let i = 0; i < rows.length; i++) {
    const cols = rows[i]!;
    tokens.push(cols[0]!);
    let group = -1,
      ones = 0;
    for (let g = 0; g < G; g++) {
      const v = cols[g + 1]!.trim();
      const x = Number(v);
      if (v === '' || !(x === 0 || x === 1))
        throw new UserError(`group columns must be 0 or 1, got '${v}'`, path, i + 2);
      if (x === 1) {
        group = g;
        ones++;
      }
    }
    if (i === 0 ? ones !== 0 : ones !== 1) {
      throw new UserError(
        i === 0 ? 'the [PAD] row must be all zeros' : `item '${cols[0]}' must be in exactly one group (${ones} ones)`,
        path,
        i + 2,
      );
    }
    itemGroup[i] = group;
  }
  return { tokens, itemGroup, nGroups: G };
}

/** Reads a `.userbaseline` file: per-user target fractions (the [PAD] row is kept as zeros). */
export function readUserBaselineFile(path: string): UserBaselineFile {
  const { G, rows } = readTable(path, 'user_id');
  const targets = new Float64Array(rows.length * G);
  const tokens: string[] = [];
  for (let u = 0; u < rows.length; u++) {
    const cols = rows[u]!;
    tokens.push(cols[0]!);
    for (let g = 0; g < G; g++) {
      const v = cols[g + 1]!.trim();
      const x = Number(v);
      if (v === '' || !Number.isFinite(x) || x < 0 || x > 1)
        throw new UserError(`target fractions must be numbers in [0, 1], got '${v}'`, path, u + 2);
      targets[u * G + g] = x;
    }
  }
  return { tokens, targets, nGroups: G };
}
