/**
 * Checking parsed JSON against a zod schema, with a message that names the field by its path
 * and shows the value found: `field a.b[3]: expected a finite number, got "NaN"`. The store's
 * readers (src/store/json-files.ts) and the model sidecar reader use it; the message is
 * prefixed with the file (and line) by the UserError the caller throws.
 */
import { z } from 'zod';

/** A finite JSON number (JSON has no NaN or Infinity; a string "NaN" is not a number). */
export const finiteNumber = z.number().finite();
/** A finite number, or null (how JSON.stringify writes a NaN). */
export const finiteOrNull = finiteNumber.nullable();
/** A whole number ≥ 0. */
export const wholeNumber = z.number().int().nonnegative();

/** The longest quote of a value in a message. */
const MAX_QUOTE = 80;

/** A path as a field name: `a.b[3].c`; `(top level)` for the empty path. */
export function fieldPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(p)) out += out === '' ? p : `.${p}`;
    else out += `[${JSON.stringify(p)}]`;
  }
  return out === '' ? '(top level)' : out;
}

function valueAt(input: unknown, path: readonly (string | number)[]): unknown {
  let v = input;
  for (const p of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string | number, unknown>)[p];
  }
  return v;
}

/** A value quoted for a message, at most MAX_QUOTE characters. */
export function quoteValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > MAX_QUOTE ? `${s.slice(0, MAX_QUOTE - 1)}…` : s;
}

const TYPE_WORDS: Record<string, string> = {
  number: 'a finite number',
  integer: 'a whole number',
  string: 'a string',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
  null: 'null',
};

function expectedText(issue: z.ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return TYPE_WORDS[issue.expected] ?? issue.expected;
    case 'not_finite':
      return 'a finite number';
    case 'invalid_literal':
      return JSON.stringify(issue.expected);
    case 'invalid_enum_value':
      return `one of ${issue.options.map((o) => JSON.stringify(o)).join(', ')}`;
    case 'too_small':
    case 'too_big':
      return boundText(issue);
    case 'invalid_string':
    case 'custom':
      return issue.message.replace(/^(Number|String|Array) must (be|contain) /i, '').replace(/^Invalid /, 'a valid ');
    default:
      return issue.message;
  }
}

function boundText(issue: z.ZodTooSmallIssue | z.ZodTooBigIssue): string {
  const low = issue.code === 'too_small';
  const op = low ? (issue.inclusive ? '≥' : '>') : issue.inclusive ? '≤' : '<';
  const bound = String(low ? issue.minimum : issue.maximum);
  if (issue.type === 'number') return `a number ${op} ${bound}`;
  if (issue.type === 'array') return `a list of ${op} ${bound} entries`;
  if (issue.type === 'string') return `a string of ${op} ${bound} characters`;
  return issue.message ?? 'a value in range';
}

/** The first problem of `input` against `schema` as `field PATH: expected …, got …`, or undefined. */
export function schemaProblem(schema: z.ZodTypeAny, input: unknown): string | undefined {
  const r = schema.safeParse(input);
  if (r.success) return undefined;
  const issue = deepestIssue(r.error.issues[0]!);
  if (issue.code === 'unrecognized_keys') {
    return `field ${fieldPath(issue.path)}: unexpected key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
  }
  const got = quoteValue(valueAt(input, issue.path));
  return `field ${fieldPath(issue.path)}: expected ${expectedText(issue)}, got ${got}`;
}

/** For a union, the issue of the branch that got furthest (the longest path), else the issue itself. */
function deepestIssue(issue: z.ZodIssue): z.ZodIssue {
  if (issue.code !== 'invalid_union') return issue;
  let best: z.ZodIssue | undefined;
  for (const e of issue.unionErrors) {
    const first = e.issues[0];
    if (first && (!best || first.path.length > best.path.length)) best = first;
  }
  return best && best.path.length > issue.path.length ? deepestIssue(best) : issue;
}
