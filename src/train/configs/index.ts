/**
 * The configuration schema of every model type, in one table: what trainBackbone, the CLI's
 * flags and help, and configuration files read. A new backbone adds its schema here.
 */
import type { z } from 'zod';
import { MODEL_TYPES, type ModelType } from '../../models/recommender.js';
import { mostPopConfigSchema, randomConfigSchema } from './baselines.js';
import { bprConfigSchema, type BprConfig } from './bpr.js';
import { dmfConfigSchema, type DmfConfig } from './dmf.js';
import { fieldsOf, keysOf, parseConfig, type FieldInfo } from './fields.js';
import { multiVaeConfigSchema, type MultiVaeConfig } from './multivae.js';

export interface BackboneSpec {
  /** Validates a configuration and fills in the defaults. */
  schema: z.ZodTypeAny;
  /** Trained with epochs and early stopping (false: built directly from the train split). */
  trained: boolean;
}

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

export function isModelType(name: string): name is ModelType {
  return (MODEL_TYPES as readonly string[]).includes(name);
}

/** The keys of a model type's configuration, in schema order. */
export function configKeys(type: ModelType): string[] {
  return keysOf(BACKBONE_SPECS[type].schema);
}

export function configFields(type: ModelType): FieldInfo[] {
  return fieldsOf(BACKBONE_SPECS[type].schema);
}

/** Validates a model type's configuration (UserError naming the key; `source` names the file). */
export function parseBackboneConfig(type: ModelType, input: unknown, source?: string): Record<string, unknown> {
  return parseConfig(BACKBONE_SPECS[type].schema, input, source) as Record<string, unknown>;
}

export { MODEL_TYPES, type ModelType };
export * from './baselines.js';
export * from './bpr.js';
export * from './dmf.js';
export * from './fields.js';
export * from './multivae.js';
export { positiveInt, sizeList, trainingSchema, type TrainingConfig } from './shared.js';
