/**
 * The training keys every trained backbone shares (optimiser, batches, epochs, early stopping,
 * seed), with their usual defaults. Each backbone schema spreads this shape into its own and
 * overrides the defaults or descriptions that differ (see bpr.ts, dmf.ts, multivae.ts).
 */
import { z } from 'zod';
import { DEFAULT_SEED } from '../../util/seed.js';

/** An integer ≥ 1. */
export const positiveInt = () => z.number().int().min(1);

/** A non-empty list of layer sizes, e.g. [256, 256]. */
export const sizeList = () => z.array(positiveInt()).min(1);

/** The shared training keys with their usual defaults. */
export const trainingSchema = z
  .object({
    lr: z.number().positive().finite().describe('Adam learning rate').default(1e-4),
    weightDecay: z.number().min(0).finite().describe('Adam weight decay').default(0),
    batchSize: positiveInt().describe('batch size').default(4096),
    epochs: positiveInt().describe('maximum epochs').default(300),
    patience: z
      .number()
      .int()
      .min(0)
      .describe('early stopping: stop after patience+1 evaluations without improvement')
      .default(10),
    seed: z.number().int().describe('training seed: initial weights, shuffling, sampling').default(DEFAULT_SEED),
    validK: positiveInt().describe('k of the validation NDCG@k that early stopping watches').default(10),
  })
  .strict();

/** The shared training keys, every key set. */
export type TrainingConfig = z.infer<typeof trainingSchema>;

/** A key's schema with another default (its description and range unchanged). */
export function withDefault<T extends z.ZodTypeAny>(field: z.ZodDefault<T>, value: z.input<T>): z.ZodDefault<T> {
  return field.removeDefault().default(value) as z.ZodDefault<T>;
}
