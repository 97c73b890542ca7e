/**
 * Grid and multi-experiment files: what to fine-tune, as a list of named points.
 *
 * Grid file (examples/ml-100k-grid.yaml):
 *   base: ml-100k-finetune.yaml        # a config file (relative to the grid file) or an inline mapping
 *   grid:                              # config key → list of values; every combination is a point
 *     combined_mode_alpha: [0.0, 0.5, 1.0]
 *     freeze_item_emb: [true, false]
 *   keep: frontier                     # optional: checkpoint weights to keep (all | frontier | last)
 * Point names follow the reference (experiment-naming.ts).
 *
 * Experiments file (examples/ml-100k-experiments.yaml), the reference's multi-experiment mode:
 *   base: ml-100k-finetune.yaml        # optional: what inline configs start from (default: the defaults)
 *   experiments:
 *     - name: c0.5_frozen
 *       config: ml-100k-finetune.yaml  # a file …
 *     - name: c1.0_unfrozen
 *       config: { combined_mode_alpha: 1.0, freeze_item_emb: false }   # … or inline keys on top of base
 *       set: { num_epochs: 100 }       # optional overrides on top of either
 *
 * Bad input (UserError with file and line): unknown keys, a grid key that is not a config key,
 * an empty or duplicated value list, a value the key does not allow, more than MAX_POINTS
 * points without `allowLarge`, two experiments with the same name, a name not usable as a folder.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { isMap, isSeq, isScalar, type Node as YamlNode } from 'yaml';
import {
  DEFAULT_FINETUNE_CONFIG,
  IGNORED_KEYS,
  parseFinetuneConfigYaml,
  validateFinetuneConfig,
  type FinetuneConfig,
} from '../calibration/finetune-config.js';
import { experimentName } from './experiment-naming.js';
import { experimentNameProblem } from '../store/experiment-name.js';
import { KEEP_POLICIES, type KeepPolicy } from '../calibration/checkpoints.js';
import { InputError, UserError } from '../util/errors.js';
import { quoteExcerpt, shortened } from '../util/excerpt.js';
import { readRegularTextFile } from '../util/input-files.js';
import { parseYamlInput, yamlToJs, type YamlInput } from '../util/yaml-input.js';

/** More points than this need an explicit `allowLarge`. */
export const MAX_POINTS = 10_000;

/** One point of a plan: its experiment name, its full configuration and the grid values that make it. */
export interface PlannedPoint {
  name: string;
  config: FinetuneConfig;
  /** The grid values of this point (empty for an experiments file). */
  varied: Record<string, unknown>;
}

/** What a grid or experiments file expands to: the points in order, the keep policy and notes. */
export interface Plan {
  kind: 'grid' | 'experiments';
  file: string;
  points: PlannedPoint[];
  keep?: KeepPolicy;
  /** Notes about ignored config keys. */
  notes: string[];
  /** Grid keys in file order and their values (grid files only). */
  axes?: { key: string; values: unknown[] }[];
}

const KNOWN_KEYS = Object.keys(DEFAULT_FINETUNE_CONFIG);

type YamlFile = YamlInput;

function readYaml(path: string, what: string): YamlFile {
  return parseYamlText(readRegularTextFile(path, `the ${what}`), path);
}

function parseYamlText(text: string, file: string): YamlFile {
  return parseYamlInput(text, file, { uniqueKeys: true });
}

function lineOf(y: YamlFile, node: unknown): number | undefined {
  const r = (node as { range?: [number, number, number] } | undefined)?.range;
  return r ? y.lines.linePos(r[0]).line : undefined;
}

/** The top-level mapping: key → [key node, value node]. */
function topLevel(
  y: YamlFile,
  allowed: readonly string[],
  what: string,
): Map<string, { key: YamlNode; value: unknown }> {
  const out = new Map<string, { key: YamlNode; value: unknown }>();
  const c = y.doc.contents;
  if (!isMap(c))
    throw new UserError(`the ${what} must be a mapping with ${allowed.map((a) => `'${a}'`).join(', ')}`, y.file, 1);
  for (const pair of c.items) {
    const k = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    if (!allowed.includes(k))
      throw new UserError(
        `unknown key ${quoteExcerpt(k)} in the ${what}; allowed: ${allowed.join(', ')}`,
        y.file,
        lineOf(y, pair.key),
      );
    out.set(k, { key: pair.key as YamlNode, value: pair.value });
  }
  return out;
}

function toJs(y: YamlFile, node: unknown): unknown {
  return node === undefined ? null : yamlToJs(y, node);
}

/** Raw config keys from `base`: a file path (relative to `fromFile`) or an inline mapping. */
function baseRaw(y: YamlFile, node: unknown, notes: string[], what: string): Record<string, unknown> {
  if (node === undefined || node === null) return {};
  if (isScalar(node) && typeof node.value === 'string') {
    const p = isAbsolute(node.value) ? node.value : resolve(dirname(y.file), node.value);
    const cf = readYaml(p, 'fine-tuning config');
    const raw = yamlToJs(cf);
    if (raw !== null && (typeof raw !== 'object' || Array.isArray(raw)))
      throw new UserError('the fine-tuning config must be a mapping of keys to values', p, 1);
    // full validation (with line numbers) of the file on its own
    const v = parseFinetuneConfigYaml(cf.text, p);
    notes.push(...v.notes);
    return (raw ?? {}) as Record<string, unknown>;
  }
  if (isMap(node)) {
    const raw = toJs(y, node) as Record<string, unknown>;
    const lines = new Map<string, number>();
    for (const pair of node.items)
      if (isScalar(pair.key)) {
        const l = lineOf(y, pair.key);
        if (l !== undefined) lines.set(String(pair.key.value), l);
      }
    const v = validateFinetuneConfig(raw, y.file, lines);
    notes.push(...v.notes);
    return raw;
  }
  throw new UserError(`'${what}' must be a config file path or a mapping of config keys`, y.file, lineOf(y, node));
}

function keepOf(y: YamlFile, node: unknown): KeepPolicy | undefined {
  if (node === undefined || node === null) return undefined;
  const v = isScalar(node) ? node.value : undefined;
  if (typeof v !== 'string' || !(KEEP_POLICIES as readonly string[]).includes(v)) {
    throw new UserError(`'keep' must be one of ${KEEP_POLICIES.join(', ')}`, y.file, lineOf(y, node));
  }
  return v as KeepPolicy;
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Reads a grid file and plans its points (validated; nothing is written). */
export function loadGridFile(path: string, opts: { allowLarge?: boolean } = {}): Plan {
  return parseGrid(readYaml(path, 'grid file'), opts);
}

/** Expands grid YAML into its points (at most 10,000 unless `allowLarge`); UserError naming `file` and line. */
export function parseGridText(text: string, file = '<grid>', opts: { allowLarge?: boolean } = {}): Plan {
  return parseGrid(parseYamlText(text, file), opts);
}

/** One grid key and its values, in file order. */
interface Axis {
  key: string;
  values: unknown[];
}

function parseGrid(y: YamlFile, opts: { allowLarge?: boolean }): Plan {
  const top = topLevel(y, ['base', 'grid', 'keep'], 'grid file');
  const notes: string[] = [];
  const base = baseRaw(y, top.get('base')?.value, notes, 'base');
  const keep = keepOf(y, top.get('keep')?.value);
  const axes = gridAxes(y, top.get('grid'), base);
  const count = axes.reduce((n, a) => n * a.values.length, 1);
  checkPointCount(y, axes, count, opts);
  const points = expandGrid(y, axes, count, base);
  return { kind: 'grid', file: y.file, points, keep, notes: [...new Set(notes)], axes };
}

/** The axes of `grid:`, each key a config key and each value valid for it on top of the base. */
function gridAxes(
  y: YamlFile,
  g: { key: YamlNode; value: unknown } | undefined,
  base: Record<string, unknown>,
): Axis[] {
  if (!g || g.value === null || g.value === undefined)
    throw new UserError(
      `the grid file needs 'grid:', a mapping of config keys to lists of values`,
      y.file,
      g ? lineOf(y, g.key) : 1,
    );
  if (!isMap(g.value))
    throw new UserError(`'grid' must be a mapping of config keys to lists of values`, y.file, lineOf(y, g.value));
  const axes: Axis[] = [];
  for (const pair of g.value.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    axes.push({ key, values: axisValues(y, key, lineOf(y, pair.key), pair.value, base) });
  }
  if (axes.length === 0)
    throw new UserError(
      `'grid' lists no keys: give at least one config key with a list of values`,
      y.file,
      lineOf(y, g.key),
    );
  return axes;
}

/** The values of grid key `key` (a list or one scalar): distinct scalars, each valid on top of the base. */
function axisValues(
  y: YamlFile,
  key: string,
  line: number | undefined,
  vn: unknown,
  base: Record<string, unknown>,
): unknown[] {
  if (!KNOWN_KEYS.includes(key)) {
    const why = key in IGNORED_KEYS ? ` ('${key}' is a reference key we ignore: ${IGNORED_KEYS[key]})` : '';
    throw new UserError(
      `grid key ${quoteExcerpt(key)} is not a fine-tuning config key${why}; allowed: ${KNOWN_KEYS.join(', ')}`,
      y.file,
      line,
    );
  }
  let values: unknown[];
  if (isSeq(vn)) values = toJs(y, vn) as unknown[];
  else if (isScalar(vn) && vn.value !== null) values = [vn.value];
  else throw new UserError(`grid key '${key}' needs a list of values`, y.file, line);
  if (values.length === 0) throw new UserError(`grid key '${key}' has an empty list of values`, y.file, line);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== null && typeof v === 'object')
      throw new UserError(`grid key '${key}': value ${i + 1} is not a scalar`, y.file, line);
    for (let j = 0; j < i; j++)
      if (sameValue(values[j], v))
        throw new UserError(`grid key '${key}' lists ${shortened(JSON.stringify(v))} twice`, y.file, line);
    // each value must be valid for its key on top of the base
    validateFinetuneConfig({ ...base, [key]: v }, y.file, new Map([[key, line ?? 0]]));
  }
  return values;
}

/** More than MAX_POINTS points without `allowLarge` → InputError naming the option. */
function checkPointCount(y: YamlFile, axes: readonly Axis[], count: number, opts: { allowLarge?: boolean }): void {
  if (count > MAX_POINTS && !opts.allowLarge) {
    const sizes = axes.map((a) => a.values.length).join(' × ');
    throw new InputError(
      (n) =>
        `the grid has ${count.toLocaleString('en')} points (${sizes}), ` +
        `more than ${MAX_POINTS.toLocaleString('en')}: ` +
        `pass ${n.option('allowLarge')} to run it anyway`,
      { field: 'allowLarge', file: y.file },
    );
  }
}

/** Every combination of the axes' values as a named point, the last axis moving fastest. */
function expandGrid(y: YamlFile, axes: readonly Axis[], count: number, base: Record<string, unknown>): PlannedPoint[] {
  const points: PlannedPoint[] = [];
  const byName = new Map<string, PlannedPoint>();
  // A key with one value is a setting shared by every point, not a dimension: it stays out of the names.
  const varied = axes.filter((a) => a.values.length > 1).map((a) => a.key);
  const idx = new Array<number>(axes.length).fill(0);
  for (let p = 0; p < count; p++) {
    const v: Record<string, unknown> = {};
    axes.forEach((a, i) => {
      v[a.key] = a.values[idx[i]!];
    });
    const { config } = validateFinetuneConfig({ ...base, ...v }, y.file);
    const name = experimentName(config, varied);
    const prev = byName.get(name);
    if (prev)
      throw new UserError(
        `grid points ${JSON.stringify(prev.varied)} and ${JSON.stringify(v)} get the same name '${name}'`,
        y.file,
      );
    const pt = { name, config, varied: v };
    byName.set(name, pt);
    points.push(pt);
    // odometer: the last axis moves fastest
    for (let i = axes.length - 1; i >= 0; i--) {
      if (++idx[i]! < axes[i]!.values.length) break;
      idx[i] = 0;
    }
  }
  return points;
}

/** Reads an experiments file (list of name + config) and plans its points. */
export function loadExperimentsFile(path: string): Plan {
  return parseExperiments(readYaml(path, 'experiments file'));
}

/** Reads experiments YAML: a list of named configurations; UserError naming `file` and line. */
export function parseExperimentsText(text: string, file = '<experiments>'): Plan {
  return parseExperiments(parseYamlText(text, file));
}

function parseExperiments(y: YamlFile): Plan {
  const top = topLevel(y, ['base', 'experiments', 'keep'], 'experiments file');
  const notes: string[] = [];
  const base = baseRaw(y, top.get('base')?.value, notes, 'base');
  const keep = keepOf(y, top.get('keep')?.value);
  const e = top.get('experiments');
  if (!e || !isSeq(e.value) || e.value.items.length === 0) {
    throw new UserError(
      `the experiments file needs 'experiments:', a non-empty list of { name, config }`,
      y.file,
      e ? lineOf(y, e.key) : 1,
    );
  }
  const points: PlannedPoint[] = [];
  const seen = new Map<string, number | undefined>();
  for (const item of e.value.items) {
    const line = lineOf(y, item);
    if (!isMap(item)) throw new UserError('each experiment must be a mapping with name and config', y.file, line);
    const fields = new Map<string, unknown>();
    for (const pair of item.items) {
      const k = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      if (!['name', 'config', 'set'].includes(k))
        throw new UserError(
          `unknown key ${quoteExcerpt(k)} in an experiment; allowed: name, config, set`,
          y.file,
          lineOf(y, pair.key),
        );
      fields.set(k, pair.value);
    }
    const nameNode = fields.get('name');
    const name = isScalar(nameNode) ? String(nameNode.value) : '';
    if (!name) throw new UserError(`an experiment has no 'name'`, y.file, line);
    const nameProblem = experimentNameProblem(name);
    if (nameProblem !== undefined) throw new UserError(nameProblem, y.file, lineOf(y, nameNode));
    if (seen.has(name))
      throw new UserError(
        `two experiments are named '${name}' (lines ${seen.get(name)} and ${lineOf(y, nameNode)})`,
        y.file,
        lineOf(y, nameNode),
      );
    seen.set(name, lineOf(y, nameNode));
    const cn = fields.get('config');
    let raw: Record<string, unknown>;
    if (cn === undefined || cn === null) raw = { ...base };
    else if (isScalar(cn) && typeof cn.value === 'string') raw = baseRaw(y, cn, notes, 'config');
    else if (isMap(cn)) raw = { ...base, ...baseRaw(y, cn, notes, 'config') };
    else
      throw new UserError(
        `'config' of '${name}' must be a config file path or a mapping of config keys`,
        y.file,
        lineOf(y, cn),
      );
    const sn = fields.get('set');
    if (sn !== undefined && sn !== null) {
      if (!isMap(sn)) throw new UserError(`'set' of '${name}' must be a mapping of config keys`, y.file, lineOf(y, sn));
      raw = { ...raw, ...(toJs(y, sn) as Record<string, unknown>) };
    }
    const lines = new Map<string, number>();
    for (const node of [cn, sn]) {
      if (isMap(node))
        for (const pair of node.items)
          if (isScalar(pair.key)) {
            const l = lineOf(y, pair.key);
            if (l !== undefined) lines.set(String(pair.key.value), l);
          }
    }
    const v = validateFinetuneConfig(raw, y.file, lines);
    notes.push(...v.notes);
    points.push({ name, config: v.config, varied: {} });
  }
  return { kind: 'experiments', file: y.file, points, keep, notes: [...new Set(notes)] };
}
