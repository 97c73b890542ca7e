/** The untrained baselines' configurations: MostPop has no keys, Random only its seed. */
import { z } from 'zod';
import { trainingSchema } from './shared.js';

/** MostPop ranks by train popularity: nothing to set. */
export const mostPopConfigSchema = z.object({}).strict();

/** Random scores every item at random: only its seed. */
export const randomConfigSchema = z
  .object({
    seed: trainingSchema.shape.seed.describe('seed of the random scores'),
  })
  .strict();

/** MostPop's (empty) configuration. */
export type MostPopConfig = z.output<typeof mostPopConfigSchema>;
/** Random's configuration: its seed. */
export type RandomConfig = z.output<typeof randomConfigSchema>;
