/** The untrained baselines' configurations: MostPop has no keys, Random only its seed. */
import { z } from 'zod';
import { trainingSchema } from './shared.js';

export const mostPopConfigSchema = z.object({}).strict();

export const randomConfigSchema = z.object({
  seed: trainingSchema.shape.seed.describe('seed of the random scores'),
}).strict();

export type MostPopConfig = z.output<typeof mostPopConfigSchema>;
export type RandomConfig = z.output<typeof randomConfigSchema>;
