/**
 * Reading the run's JSON and JSON-lines files, with errors that name the file (and line).
 * Every artefact of the run is read through {@link readJsonArtefact} (or {@link readJsonLines}
 * with {@link schemaLineCheck}): parsed, then checked against its zod schema, so that a wrong
 * type or a "NaN" string is refused as `FILE: field a.b[3]: expected a finite number, got "NaN"`
 * before any code uses the value.
 * Writing goes through src/util/atomic.ts (temp file, fsync, rename).
 */
import { existsSync, readFileSync } from 'node:fs';
import type { z } from 'zod';
import { UserError } from '../util/errors.js';
import { schemaProblem } from '../util/json-schema.js';

/**
 * JSON.parse that also accepts the bare NaN / Infinity / -Infinity tokens Python's json module
 * writes; those become null. Returns how many were replaced.
 */
export function parseJsonLenient(text: string): { value: unknown; replaced: number } {
  try {
    return { value: JSON.parse(text), replaced: 0 };
  } catch (first) {
    let replaced = 0;
    let out = '';
    let i = 0;
    const n = text.length;
    while (i < n) {
      const c = text[i]!;
      if (c === '"') {
        // copy the string literal verbatim
        let j = i + 1;
        while (j < n && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
        out += text.slice(i, j + 1);
        i = j + 1;
        continue;
      }
      const m = /^(-?Infinity|NaN)/.exec(text.slice(i, i + 9));
      if (m) {
        out += 'null';
        replaced++;
        i += m[0].length;
        continue;
      }
      out += c;
      i++;
    }
    if (replaced === 0) throw first;
    return { value: JSON.parse(out), replaced };
  }
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read: ${(e as Error).message}`, path);
  }
}

/** A JSON file (UserError naming the file when it cannot be read or parsed). */
export function readJsonFile(path: string): unknown {
  const text = readText(path);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UserError(`not valid JSON (${(e as Error).message})`, path);
  }
}

/** A JSON file that may hold bare NaN / Infinity tokens (read as null; `replaced` counts them). */
export function readJsonFileLenient(path: string): { value: unknown; replaced: number } {
  const text = readText(path);
  try {
    return parseJsonLenient(text);
  } catch (e) {
    throw new UserError(`not valid JSON (${(e as Error).message})`, path);
  }
}

/**
 * `value` (parsed from `path`) checked against `schema`: returned as it is (unknown keys
 * kept), or a UserError naming the file, the field's path and the value found.
 */
export function checkJsonArtefact<S extends z.ZodTypeAny>(path: string, value: unknown, schema: S): z.infer<S> {
  const problem = schemaProblem(schema, value);
  if (problem !== undefined) throw new UserError(problem, path);
  return value as z.infer<S>;
}

/**
 * A JSON artefact of the run, checked against its schema (UserError naming the file when it
 * cannot be read or parsed, and the file and field when a value does not fit the schema).
 */
export function readJsonArtefact<S extends z.ZodTypeAny>(path: string, schema: S): z.infer<S> {
  return checkJsonArtefact(path, readJsonFile(path), schema);
}

/** A {@link readJsonLines} check from a schema: each line's first problem as `field …: expected …, got …`. */
export function schemaLineCheck(schema: z.ZodTypeAny): (value: unknown) => string | undefined {
  return (value) => schemaProblem(schema, value);
}

/** A JSON file if it exists, else undefined. */
export function readJsonIfExists(path: string): unknown {
  return existsSync(path) ? readJsonFile(path) : undefined;
}

/**
 * The records of a JSON-lines file that is appended to one line at a time. A missing file has
 * none. Blank lines are skipped. The last line without its newline is an interrupted append:
 * dropped when it is not valid JSON, read otherwise. Any other line that is not valid JSON, or
 * that `check` refuses (it returns the problem), is a UserError naming the file and line.
 */
export function readJsonLines<T>(
  path: string,
  check: (value: unknown) => string | undefined,
): { record: T; line: number }[] {
  if (!existsSync(path)) return [];
  const lines = readText(path).split('\n');
  const out: { record: T; line: number }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!;
    if (text.trim() === '') continue;
    const unterminated = i === lines.length - 1;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      if (unterminated) break;
      throw new UserError(`not a JSON line (${(e as Error).message})`, path, i + 1);
    }
    const problem = check(value);
    if (problem !== undefined) throw new UserError(problem, path, i + 1);
    out.push({ record: value as T, line: i + 1 });
  }
  return out;
}

/** Type guard: a plain JSON object. */
export function isJsonObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
