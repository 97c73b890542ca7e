/**
 * The train command's flags, their help and the reading of a run's training settings
 * (configuration file, then flags), all derived from the backbone schemas in
 * src/train/configs: a new key there is a new flag here, with its help line.
 */
import type { z } from 'zod';
import { readBackboneConfigFile } from '../train/configs/config-file.js';
import {
  BACKBONE_SPECS,
  configFields,
  configKeys,
  DEFAULT_MODEL,
  fieldInfo,
  isModelType,
  LIBRARY_ONLY_KEYS,
  MODEL_TYPES,
  parseBackboneConfig,
  runKeys,
  trainingSchema,
  type BackboneConfig,
  type FieldInfo,
  type ModelType,
} from '../train/configs/index.js';
import { UserError } from '../util/errors.js';
import { DEFAULT_SEED } from '../util/seed.js';
import { int, str } from './args.js';
import type { OptionSpec, ParsedValues } from './command.js';
import { fieldHelp, formatDefault, helpLine, kebabCase, placeholder, readFlag } from './schema-flags.js';

/** Keys whose flag is not their kebab-case name: DMF's user tower and MultiVAE's encoder share --hidden. */
const FLAG_ALIASES: Partial<Record<ModelType, Readonly<Record<string, string>>>> = { dmf: { userHidden: 'hidden' } };

const SECTION_TITLES: Partial<Record<ModelType, string>> = {
  bpr: 'BPR:',
  dmf: 'DMF (RecBole 1.2.1):',
  multivae: 'MultiVAE (RecBole 1.2.1):',
};

const TRAINED = MODEL_TYPES.filter((t) => BACKBONE_SPECS[t].trained);

/** The shared training keys a run may set, the seed first (the split seed follows it in the help). */
const SHARED_KEYS = [
  'seed',
  ...Object.keys(trainingSchema.shape).filter((k) => k !== 'seed' && !LIBRARY_ONLY_KEYS.includes(k)),
];

/** The train command's usage line. */
export const TRAIN_USAGE = `train --run RUN [--data PATH] [--config FILE] [--model ${MODEL_TYPES.join('|')}] [options]`;

/** The flag of a model type's key (without the leading dashes). */
export function flagOf(type: ModelType, key: string): string {
  return FLAG_ALIASES[type]?.[key] ?? kebabCase(key);
}

function sharedField(key: string): FieldInfo {
  return fieldInfo(key, (trainingSchema.shape as Record<string, z.ZodTypeAny>)[key]!);
}

function fieldOf(type: ModelType, key: string): FieldInfo {
  return configFields(type).find((x) => x.key === key) ?? sharedField(key);
}

/** The parseArgs options of the train command (the data options apart). */
export function trainOptions(): OptionSpec {
  const flags = new Set(['run', 'config', 'model', 'split-seed']);
  for (const t of MODEL_TYPES) for (const k of runKeys(t)) flags.add(flagOf(t, k));
  return Object.fromEntries([...flags].map((f) => [f, { type: 'string' as const }]));
}

/**
 * The defaults of a shared key over the trained backbones: "default 1e-4; multivae 1e-3"
 * (the most common first), or per backbone with its own description when one has it.
 */
function sharedDefaults(key: string): string {
  const shared = sharedField(key);
  const rows = TRAINED.map((t) => ({ t, f: fieldOf(t, key) }));
  if (rows.some((r) => r.f.description !== shared.description)) {
    return rows.map((r) => `${r.t}: ${formatDefault(r.f.default)} ${r.f.summary}`).join('; ');
  }
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(formatDefault(r.f.default), (counts.get(formatDefault(r.f.default)) ?? 0) + 1);
  const common = [...counts.entries()].reduce((a, b) => (b[1] > a[1] ? b : a))[0];
  const others = rows
    .filter((r) => formatDefault(r.f.default) !== common)
    .map((r) => `${r.t} ${formatDefault(r.f.default)}`);
  return [`default ${common}`, ...others].join('; ');
}

function keyLine(type: ModelType, key: string, shared = false): string {
  const f = shared ? sharedField(key) : fieldOf(type, key);
  const defaults = shared ? sharedDefaults(key) : undefined;
  return helpLine(
    `--${flagOf(type, key)} ${placeholder(f)}`,
    fieldHelp(f, (k) => flagOf(type, k), defaults),
  );
}

/** The train command's "Options:" block (the data options apart). */
export function trainOptionsHelp(): string {
  const trained = TRAINED.map((t) => (t === DEFAULT_MODEL ? `${t} (default)` : t)).join(', ');
  const baselines = MODEL_TYPES.filter((t) => !BACKBONE_SPECS[t].trained).join(', ');
  const lines = [
    'Options:',
    helpLine('--run DIR', 'run directory (created from --data, or reused when it exists)'),
    helpLine(
      '--config FILE',
      'YAML file of training keys (model, seed, lr, …; see examples/ml-100k-bpr.yaml); flags override it',
    ),
    helpLine('--model NAME', `backbone: ${trained}; or the untrained baselines ${baselines}`),
    ...SHARED_KEYS.flatMap((k) => [
      keyLine(DEFAULT_MODEL, k, true),
      ...(k === 'seed'
        ? [helpLine('--split-seed N', 'seed of the 80/10/10 split when the run is created (default: --seed)')]
        : []),
    ]),
  ];
  for (const t of TRAINED) {
    lines.push(SECTION_TITLES[t] ?? `${t}:`);
    for (const k of runKeys(t)) if (!SHARED_KEYS.includes(k)) lines.push(keyLine(t, k));
  }
  return lines.join('\n');
}

/** What the train command reads from its flags and configuration file. */
export interface TrainSettings {
  model: ModelType;
  /** The model's configuration, defaults filled in. */
  config: BackboneConfig;
  /** The training seed (also in `config` for the models that have one). */
  seed: number;
  splitSeed: number;
}

/**
 * A run's training settings: the model and its keys from --config FILE, each overridden by
 * its flag; the split seed defaults to the seed.
 */
export function readTrainSettings(v: ParsedValues): TrainSettings {
  const named = str(v, 'model');
  if (named !== undefined && !isModelType(named)) {
    throw new UserError(`unknown model '${named}' (known: ${MODEL_TYPES.join(', ')})`);
  }
  const path = str(v, 'config');
  const file = path === undefined ? undefined : readBackboneConfigFile(path, named);
  const model = named ?? file?.model ?? DEFAULT_MODEL;
  const values: Record<string, unknown> = { ...file?.config };
  for (const key of runKeys(model)) {
    const x = readFlag(v, flagOf(model, key), fieldOf(model, key));
    if (x !== undefined) values[key] = x;
  }
  const seed = (values.seed as number | undefined) ?? DEFAULT_SEED;
  const own = Object.fromEntries(Object.entries({ ...values, seed }).filter(([k]) => configKeys(model).includes(k)));
  const config = parseBackboneConfig(model, own) as BackboneConfig;
  return { model, config, seed, splitSeed: int(v, 'split-seed') ?? seed };
}
