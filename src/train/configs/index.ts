/**
 * The configuration schema of every model type, in one table: what trainBackbone, the CLI's
 * flags and help, and configuration files read. A new backbone adds its schema here.
 */
import type { z } from 'zod';
import { MODEL_TYPES, type ModelType } from '../../models/recommender.js';
import { mostPopConfigSchema, randomConfigSchema } from './baselines.js';
import { bprConfigSchema, type BprConfig } from './bpr.js';
import { dmfConfigSchema, type DmfConfig } from './dmf.js';
import { fieldsOf, keysOf, parseConfig, type ConfigSource, type FieldInfo } from './fields.js';
import { multiVaeConfigSchema, type MultiVaeConfig } from './multivae.js';

/** What the table holds per model type. */
export interface BackboneSpec {
  /** Validates a configuration and fills in the defaults. */
  schema: z.ZodTypeAny;
  /** Trained with epochs and early stopping (false: built directly from the train split). */
  trained: boolean;
}

/** Every model type's configuration schema. */
export const BACKBONE_SPECS: Readonly<Record<ModelType, BackboneSpec>> = Object.freeze({
  bpr: { schema: bprConfigSchema, trained: true },
  dmf: { schema: dmfConfigSchema, trained: true },
  multivae: { schema: multiVaeConfigSchema, trained: true },
  mostpop: { schema: mostPopConfigSchema, trained: false },
  random: { schema: randomConfigSchema, trained: false },
});

/** The model a configuration names when it names none. */
export const DEFAULT_MODEL: ModelType = 'bpr';

/** Any backbone's keys (each trainer reads its own). */
export type BackboneConfig = Partial<BprConfig & DmfConfig & MultiVaeConfig>;

/** True when `name` is one of MODEL_TYPES. */
export function isModelType(name: string): name is ModelType {
  return (MODEL_TYPES as readonly string[]).includes(name);
}

/** The keys of a model type's configuration, in schema order. */
export function configKeys(type: ModelType): string[] {
  return keysOf(BACKBONE_SPECS[type].schema);
}

/** The keys of a model type's configuration with their kind, default, range and description. */
export function configFields(type: ModelType): FieldInfo[] {
  return fieldsOf(BACKBONE_SPECS[type].schema);
}

/**
 * Keys that a run's settings (command-line flags, configuration files) leave at their
 * default: a run reports NDCG@10 (progress, model file, base results), so its early stopping
 * watches NDCG@10 too. Library callers may still set them.
 */
export const LIBRARY_ONLY_KEYS: readonly string[] = Object.freeze(['validK']);

/** The keys a run's settings may set for a model type (seed always: it also seeds the split). */
export function runKeys(type: ModelType): string[] {
  const keys = configKeys(type).filter((k) => !LIBRARY_ONLY_KEYS.includes(k));
  return keys.includes('seed') ? keys : ['seed', ...keys];
}

/** Validates a model type's configuration (UserError naming the key; `source` names the file). */
export function parseBackboneConfig(type: ModelType, input: unknown, source?: ConfigSource): Record<string, unknown> {
  return parseConfig(BACKBONE_SPECS[type].schema, input, source) as Record<string, unknown>;
}

export { MODEL_TYPES, type ModelType };
export * from './baselines.js';
export * from './bpr.js';
export * from './dmf.js';
export * from './fields.js';
export * from './multivae.js';
export { positiveInt, sizeList, trainingSchema, type TrainingConfig } from './shared.js';
