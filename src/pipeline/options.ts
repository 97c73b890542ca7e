/**
 * Validation of a use-case's options with its zod schema: the first problem becomes an
 * InputError naming the option field (the CLI shows it as its flag).
 */
import type { z } from 'zod';
import { InputError } from '../util/errors.js';

/** Parses `input` with `schema` (which fills in the defaults); bad input → InputError. */
export function parseOptions<S extends z.ZodTypeAny>(schema: S, input: z.input<S>): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data as z.output<S>;
  const issue = r.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const field = issue.keys[0]!;
    throw new InputError(`unknown option '${field}'`, { field });
  }
  const field = issue.path.filter((p): p is string => typeof p === 'string').join('.');
  const text = describeIssue(issue, valueAt(input, issue.path));
  throw new InputError((n) => `${n.option(field)} ${text}`, { field });
}

function valueAt(input: unknown, path: readonly (string | number)[]): unknown {
  let v = input;
  for (const p of path)
    v = v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[p] : undefined;
  return v;
}

function shown(v: unknown): string {
  return typeof v === 'string' ? `'${v}'` : String(v);
}

/** The problem in words, after the field: "must be ≥ 1, got 0". */
function describeIssue(issue: z.ZodIssue, value: unknown): string {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.received === 'undefined') return 'is required';
      if (issue.expected === 'integer') return `must be an integer, got ${shown(value)}`;
      return `must be ${issue.expected === 'array' ? 'a list' : `a ${issue.expected}`}, got ${shown(value)}`;
    case 'too_small':
      if (issue.type === 'array') return `needs at least ${issue.minimum} value(s)`;
      if (issue.type === 'string') return 'must not be empty';
      return `must be ${issue.inclusive ? '≥' : '>'} ${issue.minimum}, got ${shown(value)}`;
    case 'too_big':
      if (issue.type === 'array') return `takes at most ${issue.maximum} value(s)`;
      return `must be ${issue.inclusive ? '≤' : '<'} ${issue.maximum}, got ${shown(value)}`;
    case 'invalid_enum_value':
      return `must be one of ${issue.options.join(', ')}; got ${shown(value)}`;
    case 'not_finite':
      return `must be a finite number, got ${shown(value)}`;
    default:
      return issue.message;
  }
}
