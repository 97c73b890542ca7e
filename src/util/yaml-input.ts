/**
 * YAML the user writes (configurations, grid files, `key=value` overrides), parsed so that every
 * problem is bad input naming the file and line: syntax errors, aliases that expand beyond
 * MAX_ALIAS_COUNT (an "alias bomb"), and integers that a JavaScript number cannot hold exactly
 * (beyond 2^53, e.g. 9007199254740993 would silently become …992).
 */
import { type Document, LineCounter, parse, parseDocument, visit } from 'yaml';
import { InputError } from './errors.js';
import { quoteExcerpt } from './excerpt.js';

/** How many times aliases may be expanded in one document (the `yaml` package's default). */
export const MAX_ALIAS_COUNT = 100;

/** A parsed YAML text with the line of every position, for messages. */
export interface YamlInput {
  /** The document; integer scalars already hold numbers (each checked to be exact). */
  doc: Document;
  lines: LineCounter;
  /** The file named in messages. */
  file: string;
  /** The text parsed. */
  text: string;
}

/**
 * Parses YAML `text` from `file`. Throws InputError (file and line) for a syntax error, for an
 * integer beyond 2^53 and for aliases that expand beyond MAX_ALIAS_COUNT.
 */
export function parseYamlInput(text: string, file: string, options: { uniqueKeys?: boolean } = {}): YamlInput {
  const lines = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: lines,
    prettyErrors: false,
    intAsBigInt: true,
    uniqueKeys: options.uniqueKeys ?? true,
  });
  if (doc.errors.length > 0) {
    const err = doc.errors[0]!;
    const first = err.message.split('\n')[0] ?? '';
    const why = first.length > 200 ? quoteExcerpt(first, 200) : first;
    throw new InputError(`invalid YAML: ${why}`, { file, line: lines.linePos(err.pos[0]).line });
  }
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value !== 'bigint') return;
      const line = node.range ? lines.linePos(node.range[0]).line : undefined;
      node.value = exactInteger(node.value, (message) => new InputError(message, { file, line }));
    },
  });
  const y = { doc, lines, file, text };
  yamlToJs(y);
  return y;
}

/**
 * The plain value of the document, or of `node` (a node of it). Aliases expanding beyond
 * MAX_ALIAS_COUNT → InputError naming the file.
 */
export function yamlToJs(y: YamlInput, node?: unknown): unknown {
  try {
    if (node === undefined) return y.doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    if (node === null) return null;
    const n = node as { toJS?: (doc: Document, opts: { maxAliasCount: number }) => unknown };
    return typeof n.toJS === 'function' ? n.toJS(y.doc, { maxAliasCount: MAX_ALIAS_COUNT }) : node;
  } catch (e) {
    if (e instanceof ReferenceError) throw aliasError(y.file, e);
    throw e;
  }
}

/**
 * One YAML scalar written by the user (the value of a `key=value` override): `0.5`, `true`,
 * `.nan`, `random`. An integer beyond 2^53 or an alias → InputError through `fail`.
 */
export function parseYamlScalar(text: string, fail: (message: string) => InputError): unknown {
  let value: unknown;
  try {
    value = parse(text, { intAsBigInt: true, maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    throw fail(`cannot parse the value: ${((e as Error).message.split('\n')[0] ?? '').slice(0, 200)}`);
  }
  return typeof value === 'bigint' ? exactInteger(value, fail) : value;
}

/**
 * The number of an integer literal when a number holds it exactly; otherwise the error from
 * `fail`. Beyond 2^53 most integers round to a neighbour (…993 → …992): those are refused, while
 * exact ones pass (1e18 written out by JSON.stringify as 1000000000000000000 reads back as is).
 */
function exactInteger(v: bigint, fail: (message: string) => InputError): number {
  const n = Number(v);
  if (Number.isSafeInteger(n) || (Number.isFinite(n) && BigInt(n) === v)) return n;
  const shown = quoteExcerpt(v.toString(), 40);
  throw fail(
    `the integer ${shown} is beyond 2^53 (${Number.MAX_SAFE_INTEGER}) and cannot be held exactly ` +
      `(it would become ${String(n)})`,
  );
}

function aliasError(file: string, e: Error): InputError {
  return new InputError(
    `YAML aliases expand too much (more than ${MAX_ALIAS_COUNT} alias expansions; ${e.message}): ` +
      'write the values out or use fewer aliases',
    { file },
  );
}
