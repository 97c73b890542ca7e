/**
 * The CaliTune fine-tuning configuration: the reference's YAML keys with their meaning
 * (configurations/calitune/CaliTune_config_*.yaml), validated with zod. Defaults are the
 * reference's ML-100K configuration. Path and device keys of the reference are accepted and
 * ignored (our run directory holds the data and models; we run on the CPU) with a note.
 */
import { isMap, isScalar } from 'yaml';
import { z } from 'zod';
import { SELECTION_MODES } from '../selection/modes.js';
import { DEFAULT_ACCURACY_FLOOR } from '../selection/epochs.js';
import { InputError, UserError, type Naming } from '../util/errors.js';
import { quoteExcerpt } from '../util/excerpt.js';
import { readRegularTextFile } from '../util/input-files.js';
import { parseYamlInput, parseYamlScalar, yamlToJs } from '../util/yaml-input.js';
import { GROUP_OFFSET_MODES } from './group-offsets.js';

const MODES = ['combined', 'pop', 'rec'] as const;
const SELECTIONS = ['relevance', 'random'] as const;
/** How the calibration term weighs the candidates: the reference's min-max weights, or a soft top-k. */
const SURROGATES = ['minmax', 'soft_topk'] as const;
/** How users share the calibration term: equally, or in proportion to their current miscalibration. */
const USER_WEIGHTINGS = ['uniform', 'miscalibration'] as const;
/** Which candidates the calibration term sees: all, or only those that are not train items of the user. */
const CALIBRATION_CANDIDATES = ['all', 'unseen'] as const;

const int = (min: number) => z.number().int().min(min);

/**
 * The CaliTune configuration keys (the reference's YAML names) with their types and ranges; every key is required here,
 * loading a file fills in the defaults.
 */
export const finetuneConfigSchema = z
  .object({
    random_seed: z.number().int(),
    num_epochs: int(1),
    train_batch_size: int(1),
    learning_rate: z.number().positive().finite(),
    schedule_lr: z.boolean(),
    lr_scheduler_step_size: int(1),
    lr_scheduler_gamma: z.number().positive().finite(),
    loss_param: z.enum(['kl']),
    freeze_item_emb: z.boolean(),
    user_adapter: z.boolean(),
    finetuning_mode: z.enum(MODES),
    combined_mode_alpha: z.number().min(0).max(1),
    candidate_selection: z.enum(SELECTIONS),
    k_candidates: int(1),
    candidates_per_group: int(0),
    regenerate_candidates: z.boolean(),
    remove_valid_items: z.boolean(),
    top_k_ndcg: int(1),
    early_stopping_patience: int(1),
    target_metric: z.enum(SELECTION_MODES),
    model_save_interval: int(0),
    accuracy_floor: z.number().min(0).max(1),
    collapse_guard: z.boolean(),
    collapse_max_rollbacks: int(0),
    calibration_surrogate: z.enum(SURROGATES),
    soft_topk_temperature: z.number().positive().finite(),
    anchor_weight: z.number().min(0).finite(),
    calibration_user_weighting: z.enum(USER_WEIGHTINGS),
    group_offsets: z.enum(GROUP_OFFSET_MODES),
    calibration_candidates: z.enum(CALIBRATION_CANDIDATES),
  })
  .strict();

/** A complete CaliTune fine-tuning configuration (defaults in {@link DEFAULT_FINETUNE_CONFIG}). */
export type FinetuneConfig = z.infer<typeof finetuneConfigSchema>;
/** Which improvement early stopping and checkpointing count: a {@link SelectionMode}. */
export type TargetMetric = FinetuneConfig['target_metric'];

/**
 * The reference's ML-100K configuration (CaliTune_config_ml-100k.yaml), plus our collapse guard
 * (the reference has none; docs/numeric-contract.md §10): an epoch whose valid NDCG@k falls
 * below `accuracy_floor` × epoch 0's is never selected, and with `collapse_guard` the run rolls
 * back to the epoch before it with half the learning rate, at most `collapse_max_rollbacks`
 * times before it stops with the reason `collapse`.
 *
 * Ours, for strong calibration and off by default (src/calibration/loss-extended.ts):
 * `calibration_surrogate: soft_topk` computes the calibration term over a soft top-`top_k_ndcg`
 * membership whose sigmoid width is `soft_topk_temperature` × the candidates' score range;
 * `anchor_weight` > 0 adds that multiple of the KL from the frozen backbone's candidate distribution;
 * `calibration_user_weighting: miscalibration` (soft_topk only) weighs each user's calibration KL
 * by its ratio to the batch mean, so the users furthest from their target are pushed hardest.
 * `group_offsets` (src/calibration/group-offsets.ts) adds a per-user score offset per popularity
 * group: for BPR folded into the embeddings (a BPR model of dimension d + G), training the offsets
 * (`offsets`) or the offsets and the user embedding (`offsets_and_users`), the item tower following
 * `freeze_item_emb`; for other backbones (`offsets` only) a table beside the frozen network.
 * `calibration_candidates: unseen` leaves the user's train items out of the calibration term, so it
 * calibrates the candidates a test-time list can show (train items are masked there): with minmax
 * they count in no group (the min-max scaling still spans every candidate), with soft_topk they
 * leave the soft top-k altogether. The accuracy term still sees every candidate.
 */
export const DEFAULT_FINETUNE_CONFIG: Readonly<FinetuneConfig> = Object.freeze({
  random_seed: 111,
  num_epochs: 500,
  train_batch_size: 16,
  learning_rate: 1e-4,
  schedule_lr: true,
  lr_scheduler_step_size: 20,
  lr_scheduler_gamma: 0.9,
  loss_param: 'kl',
  freeze_item_emb: true,
  user_adapter: false,
  finetuning_mode: 'combined',
  combined_mode_alpha: 0.5,
  candidate_selection: 'relevance',
  k_candidates: 50,
  candidates_per_group: 0,
  regenerate_candidates: true,
  remove_valid_items: true,
  top_k_ndcg: 10,
  early_stopping_patience: 25,
  target_metric: 'any',
  model_save_interval: 1,
  accuracy_floor: DEFAULT_ACCURACY_FLOOR,
  collapse_guard: true,
  collapse_max_rollbacks: 3,
  calibration_surrogate: 'minmax',
  soft_topk_temperature: 0.05,
  anchor_weight: 0,
  calibration_user_weighting: 'uniform',
  group_offsets: 'off',
  calibration_candidates: 'all',
});

/** Keys the reference has that we accept and ignore, with the reason given in the note. */
export const IGNORED_KEYS: Readonly<Record<string, string>> = Object.freeze({
  data_path: 'data comes from the run directory',
  splits_folder: 'the split comes from the run directory',
  dataset: 'the dataset comes from the run directory',
  dataset_path: 'the dataset comes from the run directory',
  model: 'the backbone comes from the run directory',
  model_path: 'the backbone comes from the run directory',
  base_weights_path: 'the backbone comes from the run directory',
  checkpoint_dir: 'checkpoints are written in the run directory',
  save_path: 'outputs are written in the run directory',
  output_dir: 'outputs are written in the run directory',
  log_dir: 'logs are written in the run directory',
  device: 'we run on the CPU',
  gpu_id: 'we run on the CPU',
  use_gpu: 'we run on the CPU',
  valid_batch_size: 'validation scores users in blocks sized by the scoring module',
});

const KNOWN_KEYS = Object.keys(DEFAULT_FINETUNE_CONFIG);

/** A validated configuration with a note for every ignored key. */
export interface LoadedFinetuneConfig {
  config: FinetuneConfig;
  /** One line per ignored key. */
  notes: string[];
}

/** Weight of the calibration term implied by the mode: rec → 0, pop → 1, combined → α. */
export function calibrationAlpha(c: Pick<FinetuneConfig, 'finetuning_mode' | 'combined_mode_alpha'>): number {
  return c.finetuning_mode === 'rec' ? 0 : c.finetuning_mode === 'pop' ? 1 : c.combined_mode_alpha;
}

function allowedFor(key: string): string {
  const shape = finetuneConfigSchema.shape as Record<string, z.ZodTypeAny>;
  const s = shape[key];
  if (s instanceof z.ZodEnum) return `one of ${(s.options as string[]).map((o) => `'${o}'`).join(', ')}`;
  if (s instanceof z.ZodBoolean) return 'true or false';
  const checks: string[] = [];
  if (s instanceof z.ZodNumber) {
    checks.push(s.isInt ? 'an integer' : 'a number');
    if (s.minValue !== null && s.minValue !== undefined) checks.push(`≥ ${s.minValue}`);
    if (s.maxValue !== null && s.maxValue !== undefined) checks.push(`≤ ${s.maxValue}`);
    if (key === 'learning_rate' || key === 'lr_scheduler_gamma' || key === 'soft_topk_temperature') checks.push('> 0');
  }
  return checks.join(' ');
}

function describe(v: unknown): string {
  // NaN and ±Infinity as themselves: JSON would write them as null
  if (typeof v === 'number') return String(v);
  return typeof v === 'string' ? quoteExcerpt(v) : (JSON.stringify(v) ?? String(v));
}

/**
 * Validates a plain object of config keys (missing keys take the defaults). Unknown keys and
 * wrong types/ranges → UserError naming the key and what is allowed. `lines` maps keys to
 * their line in `file` for error positions.
 */
export function validateFinetuneConfig(
  raw: unknown,
  file?: string,
  lines?: ReadonlyMap<string, number>,
): LoadedFinetuneConfig {
  if (raw === null || raw === undefined) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new UserError('the fine-tuning config must be a mapping of keys to values', file, 1);
  }
  const notes: string[] = [];
  const merged: Record<string, unknown> = { ...DEFAULT_FINETUNE_CONFIG };
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    if (key in IGNORED_KEYS) {
      notes.push(`config key '${key}' is ignored: ${IGNORED_KEYS[key]}`);
      continue;
    }
    if (!KNOWN_KEYS.includes(key)) {
      throw new UserError(
        `unknown config key ${quoteExcerpt(key)}; allowed keys: ${KNOWN_KEYS.join(', ')} ` +
          `(ignored: ${Object.keys(IGNORED_KEYS).join(', ')})`,
        file,
        lines?.get(key),
      );
    }
    // the reference casefolds it
    merged[key] = key === 'loss_param' && typeof value === 'string' ? value.toLowerCase() : value;
  }
  const r = finetuneConfigSchema.safeParse(merged);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const key = String(issue.path[0] ?? '');
    throw new UserError(
      `config key '${key}': got ${describe(merged[key])}, expected ${allowedFor(key)}`,
      file,
      lines?.get(key),
    );
  }
  if (r.data.candidates_per_group > 0 && r.data.candidate_selection !== 'relevance') {
    throw new UserError(
      `config key 'candidates_per_group': ${r.data.candidates_per_group} applies to relevance candidates only ` +
        `(candidate_selection is '${r.data.candidate_selection}')`,
      file,
      lines?.get('candidates_per_group'),
    );
  }
  if (r.data.calibration_user_weighting !== 'uniform' && r.data.calibration_surrogate !== 'soft_topk') {
    throw new UserError(
      `config key 'calibration_user_weighting': '${r.data.calibration_user_weighting}' applies to the soft_topk ` +
        `calibration term only (calibration_surrogate is '${r.data.calibration_surrogate}')`,
      file,
      lines?.get('calibration_user_weighting'),
    );
  }
  if (r.data.group_offsets !== 'off' && r.data.user_adapter) {
    throw new UserError(
      `config key 'group_offsets': '${r.data.group_offsets}' trains per-user offsets in place of the user ` +
        'adapter; set user_adapter to false',
      file,
      lines?.get('group_offsets'),
    );
  }
  return { config: r.data, notes };
}

/** Reads and validates a YAML config file. Missing file / bad YAML → UserError with file (and line). */
export function loadFinetuneConfig(path: string, overrides: readonly string[] = []): LoadedFinetuneConfig {
  return parseFinetuneConfigYaml(readRegularTextFile(path, 'the fine-tuning config'), path, overrides);
}

/** Parses and validates configuration YAML (after `key=value` overrides); UserError naming the file and line. */
export function parseFinetuneConfigYaml(
  text: string,
  file = '<config>',
  overrides: readonly string[] = [],
): LoadedFinetuneConfig {
  const y = parseYamlInput(text, file);
  const lines = new Map<string, number>();
  if (isMap(y.doc.contents)) {
    for (const pair of y.doc.contents.items) {
      if (isScalar(pair.key) && pair.key.range)
        lines.set(String(pair.key.value), y.lines.linePos(pair.key.range[0]).line);
    }
  }
  const raw = yamlToJs(y);
  const base = raw === null || raw === undefined ? {} : raw;
  if (typeof base !== 'object' || Array.isArray(base))
    throw new UserError('the fine-tuning config must be a mapping of keys to values', file, 1);
  const withOverrides = applyOverrides(base as Record<string, unknown>, overrides);
  for (const o of overrides) lines.delete(o.slice(0, o.indexOf('=')).trim());
  return validateFinetuneConfig(withOverrides, file, lines);
}

/** Applies `key=value` overrides; the value is parsed as a YAML scalar (`true`, `0.5`, `random`). */
export function applyOverrides(
  raw: Readonly<Record<string, unknown>>,
  overrides: readonly string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...raw };
  for (const o of overrides) {
    const eq = o.indexOf('=');
    const fail = (message: (names: Naming) => string) => new InputError(message, { field: 'overrides' });
    if (eq <= 0) throw fail((n) => `${n.option('overrides')} expects key=value, got ${quoteExcerpt(o)}`);
    const key = o.slice(0, eq).trim();
    const text = o.slice(eq + 1).trim();
    if (!KNOWN_KEYS.includes(key) && !(key in IGNORED_KEYS)) {
      throw fail(
        (n) => `${n.option('overrides')} ${o}: unknown config key '${key}'; allowed keys: ${KNOWN_KEYS.join(', ')}`,
      );
    }
    const value =
      text === '' ? null : parseYamlScalar(text, (why) => fail((n) => `${n.option('overrides')} ${o}: ${why}`));
    if (value !== null && typeof value === 'object')
      throw fail((n) => `${n.option('overrides')} ${o}: the value must be a scalar`);
    out[key] = value;
  }
  return out;
}

/** Checks that need the dataset: k_candidates ≤ number of real items (padding item 0 excluded). */
export function checkFinetuneConfigForData(c: FinetuneConfig, nItems: number): void {
  const real = nItems - 1;
  if (c.k_candidates > real) {
    throw new UserError(`config key 'k_candidates': ${c.k_candidates} is more than the ${real} items of the dataset`);
  }
  if (c.top_k_ndcg > real) {
    throw new UserError(`config key 'top_k_ndcg': ${c.top_k_ndcg} is more than the ${real} items of the dataset`);
  }
}
