/**
 * Reading a backbone configuration schema: what each key is (integer, number or list of
 * sizes), its default, its allowed range as words, and its description — so that help
 * texts, key lists and error messages come from the schema instead of being written again.
 * Also the one parse that turns a zod failure into a UserError naming the key and the rule.
 *
 * Description convention: `.describe('summary; note')`. The part after the first "; " is a
 * note that help texts print after the default; a key written in backticks (`annealCap`)
 * refers to another key of the same schema.
 */
import { z } from 'zod';
import { UserError } from '../../util/errors.js';

/** What a key holds: an integer, a number, a list of layer sizes or one of a few names. */
export type FieldKind = 'integer' | 'number' | 'size list' | 'choice';

/** A bound on a number (or on every element of a size list). */
export interface Bound {
  op: '≥' | '>' | '≤' | '<';
  value: number;
}

/** A key of a configuration schema as help texts and messages need it. */
export interface FieldInfo {
  key: string;
  kind: FieldKind;
  /** The whole description (summary and note). */
  description: string;
  summary: string;
  note: string | undefined;
  /** undefined when the key has no default. */
  default: unknown;
  /** Bounds of the value (of each element for a size list). */
  bounds: Bound[];
  /** The rule in words, e.g. "a positive integer". */
  rule: string;
  /** The allowed names of a 'choice' key (undefined for the other kinds). */
  choices?: readonly string[];
}

/** The object schema under any preprocess / refinement wrappers. */
export function objectOf(schema: z.ZodTypeAny): z.AnyZodObject {
  let s: z.ZodTypeAny = schema;
  while (s instanceof z.ZodEffects) s = s.innerType();
  if (!(s instanceof z.ZodObject)) throw new Error('configuration schema is not an object');
  return s;
}

/** The keys of a configuration schema, in its order. */
export function keysOf(schema: z.ZodTypeAny): string[] {
  return Object.keys(objectOf(schema).shape);
}

/** Every key of a configuration schema with its kind, default, bounds and description. */
export function fieldsOf(schema: z.ZodTypeAny): FieldInfo[] {
  const shape = objectOf(schema).shape as Record<string, z.ZodTypeAny>;
  return Object.entries(shape).map(([key, field]) => fieldInfo(key, field));
}

/** One key's kind, default, bounds, rule and description (see the description convention above). */
export function fieldInfo(key: string, field: z.ZodTypeAny): FieldInfo {
  const description = field.description ?? '';
  const cut = description.indexOf('; ');
  let inner = field,
    dflt: unknown;
  for (;;) {
    if (inner instanceof z.ZodDefault) {
      dflt = inner._def.defaultValue();
      inner = inner._def.innerType;
    } else if (inner instanceof z.ZodOptional) inner = inner.unwrap();
    else break;
  }
  const summary = cut < 0 ? description : description.slice(0, cut);
  const note = cut < 0 ? undefined : description.slice(cut + 2);
  if (inner instanceof z.ZodEnum) {
    const choices = [...(inner.options as string[])];
    return {
      key,
      kind: 'choice',
      description,
      summary,
      note,
      default: dflt,
      bounds: [],
      rule: ruleOf('choice', [], choices),
      choices,
    };
  }
  const list = inner instanceof z.ZodArray;
  const num = list ? (inner as z.ZodArray<z.ZodTypeAny>).element : inner;
  if (!(num instanceof z.ZodNumber))
    throw new Error(`configuration key ${key}: only numbers, size lists and choices are supported`);
  const kind: FieldKind = list ? 'size list' : num.isInt ? 'integer' : 'number';
  const bounds = boundsOf(num);
  return {
    key,
    kind,
    description,
    summary,
    note,
    default: dflt,
    bounds,
    rule: ruleOf(kind, bounds),
  };
}

function boundsOf(num: z.ZodNumber): Bound[] {
  const out: Bound[] = [];
  for (const c of num._def.checks) {
    if (c.kind === 'min') out.push({ op: c.inclusive ? '≥' : '>', value: c.value });
    if (c.kind === 'max') out.push({ op: c.inclusive ? '≤' : '<', value: c.value });
  }
  return out;
}

/** > 0, or ≥ 1 for an integer. */
function isPositive(kind: FieldKind, b: Bound[]): boolean {
  if (b.length !== 1) return false;
  return (b[0]!.op === '>' && b[0]!.value === 0) || (kind === 'integer' && b[0]!.op === '≥' && b[0]!.value === 1);
}

/**
 * The rule in words: "a positive integer", "a number in [0, 1)", "a non-empty list of positive
 * integers", "one of 'auto', 'dense', 'sparse'".
 */
function ruleOf(kind: FieldKind, bounds: Bound[], choices: readonly string[] = []): string {
  if (kind === 'size list') return 'a non-empty list of positive integers';
  if (kind === 'choice') return `one of ${choices.map((c) => `'${c}'`).join(', ')}`;
  const noun = kind === 'integer' ? 'integer' : 'number';
  if (isPositive(kind, bounds)) return `a positive ${noun}`;
  const article = kind === 'integer' ? 'an' : 'a';
  const lo = bounds.find((b) => b.op === '≥' || b.op === '>'),
    hi = bounds.find((b) => b.op === '≤' || b.op === '<');
  if (lo && hi)
    return `${article} ${noun} in ${lo.op === '≥' ? '[' : '('}${lo.value}, ${hi.value}${hi.op === '≤' ? ']' : ')'}`;
  return [`${article} ${noun}`, ...bounds.map((b) => `${b.op} ${b.value}`)].join(' ');
}

/** A value as a message shows it: strings quoted, numbers and lists as JSON. */
export function showValue(v: unknown): string {
  return typeof v === 'string' ? `'${v}'` : (JSON.stringify(v) ?? String(v));
}

/** Where a configuration came from, for error messages: a file and the line of each key. */
export interface ConfigSource {
  file: string;
  lines?: ReadonlyMap<string, number>;
}

/**
 * Parses `input` with `schema` (defaults filled in). A failure is a UserError naming the
 * first offending key and its rule, or the unknown key and the allowed ones, prefixed with
 * the file (and the key's line) when `source` is given.
 */
export function parseConfig<S extends z.ZodTypeAny>(schema: S, input: unknown, source?: ConfigSource): z.output<S> {
  const r = schema.safeParse(input ?? {});
  if (r.success) return r.data as z.output<S>;
  const { key, message } = describeIssue(schema, r.error.issues[0]!, input);
  throw new UserError(message, source?.file, key === undefined ? undefined : source?.lines?.get(key));
}

function describeIssue(schema: z.ZodTypeAny, issue: z.ZodIssue, input: unknown): { key?: string; message: string } {
  if (issue.code === 'unrecognized_keys') {
    const s = issue.keys.length > 1 ? 's' : '';
    const allowed = keysOf(schema).join(', ') || 'none';
    return {
      key: issue.keys[0],
      message: `unknown key${s} ${issue.keys.map((k) => `'${k}'`).join(', ')} (allowed: ${allowed})`,
    };
  }
  const key = issue.path[0];
  const field = typeof key === 'string' ? (objectOf(schema).shape as Record<string, z.ZodTypeAny>)[key] : undefined;
  if (typeof key !== 'string' || issue.code === 'custom' || field === undefined) return { message: issue.message };
  const value = (input as Record<string, unknown> | undefined)?.[key];
  return { key, message: `${key} must be ${fieldInfo(key, field).rule} (got ${showValue(value)})` };
}
