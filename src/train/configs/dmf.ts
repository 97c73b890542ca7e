/**
 * DMF's configuration (RecBole 1.2.1 pointwise training): embeddings 256, hidden [256, 256],
 * lr 1e-4, batch 4096 rows, patience 25, one negative per positive.
 */
import { z } from 'zod';
import { parseConfig } from './fields.js';
import { positiveInt, sizeList, trainingSchema, withDefault } from './shared.js';

const { seed, validK, ...optimisation } = trainingSchema.shape;

/** DMF's keys, each with its default and range (the cross-key rules are in dmfConfigSchema). */
// Key order is the order model.json's training record has always had.
export const dmfFieldsSchema = z
  .object({
    embeddingSize: positiveInt().describe('output size of user_linear / item_linear').default(256),
    userHidden: sizeList()
      .describe("user tower MLP sizes; also the item tower's unless `itemHidden` is given")
      .default([256, 256]),
    itemHidden: sizeList()
      .describe('item tower MLP sizes; as `userHidden` unless given; both must end at the same size')
      .default([256, 256]),
    ...optimisation,
    batchSize: optimisation.batchSize.describe('rows per batch incl. negatives'),
    patience: withDefault(optimisation.patience, 25),
    negSamples: positiveInt().describe('uniform negatives per positive').default(1),
    seed,
    validK,
  })
  .strict();

/** The item tower mirrors the user tower unless given (RecBole's configs set both lists). */
function mirrorItemTower(input: unknown): unknown {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return input;
  const o = input as Record<string, unknown>;
  return o.userHidden !== undefined && o.itemHidden === undefined ? { ...o, itemHidden: o.userHidden } : o;
}

/**
 * DMF's configuration: its keys, the item tower mirroring the user tower, a batch holding a positive and its
 * negatives.
 */
export const dmfConfigSchema = z.preprocess(
  mirrorItemTower,
  dmfFieldsSchema.superRefine((c, ctx) => {
    if (c.batchSize < 1 + c.negSamples) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['batchSize'],
        message: `batchSize ${c.batchSize} cannot hold one positive and its ${c.negSamples} negatives`,
      });
    }
  }),
);

/** A validated DMF configuration, every key set. */
export type DmfConfig = z.output<typeof dmfFieldsSchema>;
/** A DMF configuration as callers give it: any key may be left out. */
export type DmfConfigInput = z.input<typeof dmfFieldsSchema>;

/** Validates a DMF configuration and fills in the defaults (UserError naming the key). */
export function parseDmfConfig(input: DmfConfigInput = {}): DmfConfig {
  return parseConfig(dmfConfigSchema, input);
}

/** embeddings 256, towers [256, 256], lr 1e-4, 4096 rows per batch, patience 25, one negative. */
export const DEFAULT_DMF_CONFIG: Readonly<DmfConfig> = Object.freeze(parseDmfConfig());
