/**
 * MultiVAE's configuration: RecBole 1.2.1's model settings (hidden [600], latent 64, dropout
 * 0.5, β cap 0.2 over 200000 batches, lr 1e-3) with batches of users (see the trainer).
 */
import { z } from 'zod';
import { parseConfig } from './fields.js';
import { positiveInt, sizeList, trainingSchema, withDefault } from './shared.js';

const T = trainingSchema.shape;

/** MultiVAE's keys: its sizes, dropout and β annealing, and the shared training keys. */
// Key order is the order model.json's training record has always had.
export const multiVaeConfigSchema = z
  .object({
    hidden: sizeList().describe('encoder hidden sizes; the decoder mirrors them').default([600]),
    latent: positiveInt().describe("size of μ; RecBole's latent_dimension = 2·latent").default(64),
    dropout: z.number().min(0).lt(1).describe('input dropout').default(0.5),
    annealCap: z.number().min(0).finite().describe('β cap').default(0.2),
    totalAnnealSteps: z
      .number()
      .int()
      .min(0)
      .describe("β's warm-up in batches; β = min(`annealCap`, batches / `totalAnnealSteps`)")
      .default(200000),
    ...T,
    lr: withDefault(T.lr, 1e-3),
    batchSize: withDefault(T.batchSize, 64).describe('users per batch'),
  })
  .strict();

/** A validated MultiVAE configuration, every key set. */
export type MultiVaeConfig = z.output<typeof multiVaeConfigSchema>;
/** A MultiVAE configuration as callers give it: any key may be left out. */
export type MultiVaeConfigInput = z.input<typeof multiVaeConfigSchema>;

/** Validates a MultiVAE configuration and fills in the defaults (UserError naming the key). */
export function parseMultiVaeConfig(input: MultiVaeConfigInput = {}): MultiVaeConfig {
  return parseConfig(multiVaeConfigSchema, input);
}

/** hidden [600], latent 64, dropout 0.5, β cap 0.2 over 200000 batches, lr 1e-3, 64 users per batch. */
export const DEFAULT_MULTIVAE_CONFIG: Readonly<MultiVaeConfig> = Object.freeze(parseMultiVaeConfig());
