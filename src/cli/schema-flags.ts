/**
 * Command-line flags from configuration schemas: the flag of a key (kebab-case), its
 * placeholder and help line, and the reading of its value with errors naming the flag.
 * What a key is (kind, range, default, description) comes from src/train/configs/fields.ts.
 */
import type { FieldInfo } from '../train/configs/fields.js';
import { UserError } from '../util/errors.js';
import { quoteExcerpt } from '../util/excerpt.js';
import { float, int, str } from './args.js';
import type { ParsedValues } from './command.js';

/** Column where help texts start, and the width they wrap at. */
const TEXT_COLUMN = 23;
const WRAP_WIDTH = 120;

/** `weightDecay` or `weight_decay` → `weight-decay`. */
export function kebabCase(key: string): string {
  return key
    .replace(/_/g, '-')
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase();
}

/** The value placeholder of a key in help texts: N, X, A,B,… or the choices (auto|dense|sparse). */
export function placeholder(field: Pick<FieldInfo, 'kind' | 'choices'>): string {
  if (field.kind === 'choice') return (field.choices ?? []).join('|');
  return field.kind === 'size list' ? 'A,B,…' : field.kind === 'integer' ? 'N' : 'X';
}

/** A default as help texts print it: 1e-4 rather than 0.0001, lists comma-separated. */
export function formatDefault(v: unknown): string {
  if (Array.isArray(v)) return v.map(formatDefault).join(',');
  if (typeof v === 'number' && v !== 0 && Math.abs(v) < 0.01) return v.toExponential();
  return String(v);
}

/**
 * A key's help text: "summary (default D; note)", with `key` references in the note turned
 * into their flags by `flagOf`. `defaults` replaces "default D" when given (e.g. per backbone).
 */
export function fieldHelp(field: FieldInfo, flagOf: (key: string) => string, defaults?: string): string {
  const parts = [
    defaults ?? (field.default === undefined ? undefined : `default ${formatDefault(field.default)}`),
    field.note,
  ];
  const inner = parts.filter((p) => p !== undefined).join('; ');
  const text = inner === '' ? field.summary : `${field.summary} (${inner})`;
  return text.replace(/`([A-Za-z_]+)`/g, (_, key: string) => `--${flagOf(key)}`);
}

/** One help line: "  --flag N" in the first column, the text from TEXT_COLUMN on, wrapped. */
export function helpLine(usage: string, text: string): string {
  const head = `  ${usage}`;
  const out: string[] = [];
  let line = head.length + 2 > TEXT_COLUMN ? `${head}  ` : head.padEnd(TEXT_COLUMN);
  let empty = true;
  for (const word of text.split(' ')) {
    if (!empty && line.length + 1 + word.length > WRAP_WIDTH) {
      out.push(line);
      line = ' '.repeat(TEXT_COLUMN);
      empty = true;
    }
    line += (empty ? '' : ' ') + word;
    empty = false;
  }
  out.push(line);
  return out.join('\n');
}

/** The value of `--flag` for a key (undefined when absent), its syntax and range checked. */
export function readFlag(v: ParsedValues, flag: string, field: FieldInfo): number | number[] | string | undefined {
  if (field.kind === 'size list') return sizeList(v, flag);
  if (field.kind === 'choice') return choice(v, flag, field.choices ?? []);
  const n = field.kind === 'integer' ? int(v, flag) : float(v, flag);
  if (n === undefined) return undefined;
  for (const b of field.bounds) {
    const ok = b.op === '≥' ? n >= b.value : b.op === '>' ? n > b.value : b.op === '≤' ? n <= b.value : n < b.value;
    if (!ok) throw new UserError(`--${flag} must be ${b.op} ${b.value}, got ${n}`);
  }
  return n;
}

/** One of the allowed names ("sparse"). */
function choice(v: ParsedValues, flag: string, choices: readonly string[]): string | undefined {
  const raw = str(v, flag);
  if (raw === undefined || choices.includes(raw)) return raw;
  throw new UserError(`--${flag} must be one of ${choices.join(', ')} (got ${quoteExcerpt(raw)})`);
}

/** A comma-separated list of positive integers ("256,256"). */
function sizeList(v: ParsedValues, flag: string): number[] | undefined {
  const raw = str(v, flag);
  if (raw === undefined) return undefined;
  const parts = raw.split(',').map((x) => x.trim());
  const out = parts.map(Number);
  // isSafeInteger: a size beyond 2^53 would be silently rounded
  if (parts.some((x) => x === '') || out.some((x) => !Number.isSafeInteger(x) || x <= 0)) {
    throw new UserError(`--${flag} must be a comma-separated list of positive integers (got ${quoteExcerpt(raw)})`);
  }
  return out;
}
