/** BPR's configuration: the reference (RecBole) settings as defaults. */
import { z } from 'zod';
import { parseConfig } from './fields.js';
import { positiveInt, trainingSchema } from './shared.js';

const T = trainingSchema.shape;

/**
 * BPR's embedding optimizers: dense Adam over both tables every batch (PyTorch's nn.Embedding
 * without sparse=True), lazy Adam over the rows the batch touches (src/nn/sparse-adam.ts), or
 * `auto`, which picks by size (src/train/bpr-trainer.ts resolveBprOptimizer).
 */
export const BPR_OPTIMIZERS = ['auto', 'dense', 'sparse'] as const;

/** A BPR embedding optimizer setting. */
export type BprOptimizer = (typeof BPR_OPTIMIZERS)[number];

/** BPR's keys: its embedding size and the shared training keys. */
// Key order is the order model.json's training record has always had.
export const bprConfigSchema = z
  .object({
    dim: positiveInt().describe('embedding size').default(256),
    ...T,
    batchSize: T.batchSize.describe('triples per batch'),
    optimizer: z
      .enum(BPR_OPTIMIZERS)
      .describe(
        'Adam over the embeddings: dense, sparse (lazy: only the rows a batch touches move) or auto;' +
          ' auto is sparse from 50000 users + items on, else dense',
      )
      .default('auto'),
  })
  .strict();

/** A validated BPR configuration, every key set. */
export type BprConfig = z.output<typeof bprConfigSchema>;
/** A BPR configuration as callers give it: any key may be left out. */
export type BprConfigInput = z.input<typeof bprConfigSchema>;

/** Validates a BPR configuration and fills in the defaults (UserError naming the key). */
export function parseBprConfig(input: BprConfigInput = {}): BprConfig {
  return parseConfig(bprConfigSchema, input);
}

/** dim 256, lr 1e-4, batch 4096, 300 epochs, patience 10, the default seed, optimizer auto. */
export const DEFAULT_BPR_CONFIG: Readonly<BprConfig> = Object.freeze(parseBprConfig());
