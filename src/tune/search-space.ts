/**
 * A backbone's search space: for each configuration key, the values a tuning trial may take —
 * a list of values, a uniform or log-uniform range of numbers, or an inclusive range of
 * integers — and the seeded sampling of trials from it. Keys and values are checked against
 * the backbone's configuration schema (train/configs), the same rules `train`'s configuration
 * files obey, so every sampled trial is a configuration that training accepts.
 *
 * In YAML:
 *
 *   dim: [64, 128, 256]
 *   lr: {loguniform: [1.0e-4, 1.0e-2]}
 *   batchSize: {int: [512, 8192], log: true}
 *   weightDecay: {uniform: [0, 0.001]}
 */
import { z } from 'zod';
import { Rng } from '../math/rng.js';
import {
  BACKBONE_SPECS,
  configFields,
  isModelType,
  MODEL_TYPES,
  parseBackboneConfig,
  runKeys,
  type FieldInfo,
  type ModelType,
} from '../train/configs/index.js';
import { InputError, isUserError } from '../util/errors.js';
import { quoteExcerpt } from '../util/excerpt.js';

/** One value of a configuration key: a number, or a list of layer sizes. */
export type ConfigValue = number | readonly number[];

/** The values one key may take in a trial. */
export type Dimension =
  /** One of these values, each equally likely. */
  | { kind: 'choice'; values: readonly ConfigValue[] }
  /** A number uniform in [lo, hi). */
  | { kind: 'uniform'; lo: number; hi: number }
  /** A number whose logarithm is uniform in [log lo, log hi) (lo > 0). */
  | { kind: 'loguniform'; lo: number; hi: number }
  /** An integer in [lo, hi], uniform, or with `log` log-uniform (lo ≥ 1). */
  | { kind: 'int'; lo: number; hi: number; log: boolean };

/** A backbone's search space: the keys that vary, in the schema's key order, and their values. */
export interface SearchSpace {
  /** The backbone whose configuration keys the space varies. */
  model: ModelType;
  /** Each key that varies with its values, in the order of the backbone's schema (the order of drawing). */
  dimensions: ReadonlyArray<{ key: string; dimension: Dimension }>;
}

/** A sampled trial: a value for every key of the space (the other keys keep their defaults). */
export type TrialConfig = Record<string, ConfigValue>;

const pair = z.tuple([z.number().finite(), z.number().finite()]);
const dimensionSchema = z.union([
  z.array(z.unknown()).min(1),
  z.object({ uniform: pair }).strict(),
  z.object({ loguniform: pair }).strict(),
  z.object({ int: pair, log: z.boolean().optional() }).strict(),
]);

const ALLOWED_FORMS =
  'a non-empty list of values, {uniform: [lo, hi]}, {loguniform: [lo, hi]} with lo > 0, ' +
  'or {int: [lo, hi]} with integers lo ≤ hi (optional log: true)';

/**
 * Reads `input` (a YAML mapping of configuration keys to values, already parsed) as the search
 * space of `model`. Bad input → InputError whose field is the offending key, saying what is
 * allowed.
 */
export function parseSearchSpace(model: ModelType, input: unknown): SearchSpace {
  if (!isModelType(model)) throw new InputError(`model must be one of ${MODEL_TYPES.join(', ')}`, { field: 'model' });
  if (!BACKBONE_SPECS[model].trained) {
    throw new InputError(`model ${model} has no training to tune`, { field: 'model' });
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InputError('the search space must be a mapping of configuration keys to their values');
  }
  const allowed = runKeys(model);
  const raw = input as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (!allowed.includes(key)) {
      const message = `unknown key ${quoteExcerpt(key)} for model ${model} (allowed: ${allowed.join(', ')})`;
      throw new InputError(message, { field: key });
    }
  }
  const fields = new Map(configFields(model).map((f) => [f.key, f]));
  const dimensions = allowed
    .filter((key) => raw[key] !== undefined)
    .map((key) => ({ key, dimension: parseDimension(model, fields.get(key)!, raw[key]) }));
  if (dimensions.length === 0) {
    throw new InputError(`the search space names no key (allowed: ${allowed.join(', ')})`);
  }
  return { model, dimensions };
}

function parseDimension(model: ModelType, field: FieldInfo, value: unknown): Dimension {
  const { key } = field;
  const parsed = dimensionSchema.safeParse(value);
  if (!parsed.success) {
    const shown = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
    throw new InputError(`${key} must be ${ALLOWED_FORMS} (got ${quoteExcerpt(shown)})`, { field: key });
  }
  const d = parsed.data;
  if (Array.isArray(d)) {
    for (const v of d) checkValue(model, key, v);
    return { kind: 'choice', values: d.map((v) => (Array.isArray(v) ? [...(v as number[])] : (v as number))) };
  }
  if (field.kind === 'size list') {
    throw new InputError(`${key} is a list of layer sizes: give its choices as a list of lists`, { field: key });
  }
  const dimension = rangeOf(d as RangeInput);
  const { lo, hi } = dimension;
  if (dimension.kind !== 'int' && field.kind === 'integer') {
    throw new InputError(`${key} takes integers: use {int: [lo, hi]} or a list of values`, { field: key });
  }
  if (dimension.kind === 'int' && !(Number.isInteger(lo) && Number.isInteger(hi))) {
    throw new InputError(`${key}: {int: [lo, hi]} needs integers (got [${lo}, ${hi}])`, { field: key });
  }
  const ordered = dimension.kind === 'int' ? lo <= hi : lo < hi;
  if (!ordered) {
    const rule = dimension.kind === 'int' ? 'lo ≤ hi' : 'lo < hi';
    throw new InputError(`${key}: the range needs ${rule} (got [${lo}, ${hi}])`, { field: key });
  }
  const logScale = dimension.kind === 'loguniform' || (dimension.kind === 'int' && dimension.log);
  if (logScale && !(lo > 0)) {
    throw new InputError(`${key}: a log-scale range needs lo > 0 (got ${lo})`, { field: key });
  }
  checkValue(model, key, lo);
  checkValue(model, key, hi);
  return dimension;
}

type RangeInput = Exclude<z.output<typeof dimensionSchema>, unknown[]>;

function rangeOf(d: RangeInput): Exclude<Dimension, { kind: 'choice' }> {
  if ('uniform' in d) return { kind: 'uniform', lo: d.uniform[0], hi: d.uniform[1] };
  if ('loguniform' in d) return { kind: 'loguniform', lo: d.loguniform[0], hi: d.loguniform[1] };
  return { kind: 'int', lo: d.int[0], hi: d.int[1], log: d.log ?? false };
}

/** A value (or a range's end) must be one the backbone's schema accepts for `key`. */
function checkValue(model: ModelType, key: string, value: unknown): void {
  try {
    parseBackboneConfig(model, { [key]: value });
  } catch (e) {
    if (isUserError(e)) throw new InputError(`${e.message}, a value in the search space`, { field: key });
    throw e;
  }
}

/**
 * `n` trials drawn from `space` with the project's seeded RNG: the same space, `n` and `seed`
 * give the same trials. Each trial draws its keys in the schema's order. A trial the backbone's
 * cross-key rules reject (e.g. DMF's batch too small for its negatives) → InputError.
 */
export function sampleTrials(space: SearchSpace, n: number, seed: number): TrialConfig[] {
  if (!Number.isInteger(n) || n < 1) {
    throw new InputError(`trials must be a positive integer (got ${String(n)})`, { field: 'trials' });
  }
  if (!Number.isInteger(seed)) throw new InputError(`seed must be an integer (got ${String(seed)})`, { field: 'seed' });
  const rng = new Rng(seed);
  const trials: TrialConfig[] = [];
  for (let i = 0; i < n; i++) {
    const trial: TrialConfig = {};
    for (const { key, dimension } of space.dimensions) trial[key] = draw(dimension, rng);
    try {
      parseBackboneConfig(space.model, trial);
    } catch (e) {
      if (isUserError(e)) throw new InputError(`trial ${i + 1} of the search space: ${e.message}`);
      throw e;
    }
    trials.push(trial);
  }
  return trials;
}

function draw(d: Dimension, rng: Rng): ConfigValue {
  switch (d.kind) {
    case 'choice': {
      const v = d.values[rng.nextInt(d.values.length)]!;
      return typeof v === 'number' ? v : [...v];
    }
    case 'uniform':
      return d.lo + (d.hi - d.lo) * rng.nextFloat();
    case 'loguniform':
      return clamp(logUniform(d.lo, d.hi, rng), d.lo, d.hi);
    case 'int':
      if (!d.log) return d.lo + rng.nextInt(d.hi - d.lo + 1);
      // log-uniform over [lo, hi + 1), floored: each integer gets the mass of its unit interval
      // (clamped: exp(log(x)) may round just below x)
      return clamp(Math.floor(logUniform(d.lo, d.hi + 1, rng)), d.lo, d.hi);
  }
}

function logUniform(lo: number, hi: number, rng: Rng): number {
  const a = Math.log(lo);
  return Math.exp(a + (Math.log(hi) - a) * rng.nextFloat());
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}
