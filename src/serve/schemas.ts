/**
 * The API's request schemas (JSON Schema, validated by Fastify before a handler runs and
 * published in /openapi.json) and the limits that bound one request's work.
 *
 * Query parameters arrive as text and are not coerced: k and m must be written as digits
 * (`k=1e1` and `k=-3` are refused), λ as a plain decimal. A parameter given twice arrives as an
 * array and fails its string schema; an unknown parameter or body field is refused
 * (additionalProperties false).
 */
import { SELECTION_MODES } from './serving-model.js';

/** Largest request body in bytes; a larger one is answered 413. */
export const MAX_BODY_BYTES = 1 << 20;
/** Most users in one POST /recommend. */
export const MAX_USERS_PER_REQUEST = 10_000;
/**
 * Most recommended items one request may ask for (users × k); a larger request is answered
 * 413 before any work. 200,000 items is about 15 MB of JSON and under a second of work.
 */
export const MAX_ITEMS_PER_REQUEST = 200_000;

/** A positive whole number written in digits. */
export const DIGITS_PATTERN = '^[0-9]+$';
/** A plain decimal number (no sign, no exponent), e.g. 0.5, 1, .25. */
export const DECIMAL_PATTERN = '^([0-9]+(\\.[0-9]*)?|\\.[0-9]+)$';
/** A comma-separated list of split parts, or `none`. */
export const EXCLUDE_PATTERN = '^(none|(train|valid|test)(,(train|valid|test))*)$';

/** What each pattern means, for the 400 messages. */
export const PATTERN_MEANINGS: Readonly<Record<string, string>> = {
  [DIGITS_PATTERN]: 'must be a whole number written in digits',
  [DECIMAL_PATTERN]: 'must be a plain decimal number such as 0.5',
  [EXCLUDE_PATTERN]: "must be 'none' or a comma-separated list of train, valid, test",
};

const METHOD = {
  type: 'string',
  enum: ['model', 'cp'],
  description: "'model': the served model's own top-k; 'cp': CP re-ranking of its top-m",
} as const;

/** GET /recommend's query string. */
export const recommendQuerySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['user'],
  properties: {
    user: { type: 'string', minLength: 1, description: "the dataset's own user id" },
    k: { type: 'string', pattern: DIGITS_PATTERN, description: 'list length (default 10, at most the catalogue)' },
    method: METHOD,
    lambda: { type: 'string', pattern: DECIMAL_PATTERN, description: "CP's trade-off λ in [0, 1] (default 0.5)" },
    m: { type: 'string', pattern: DIGITS_PATTERN, description: "CP's candidate pool (default 100, at least k)" },
    exclude: {
      type: 'string',
      pattern: EXCLUDE_PATTERN,
      description: "the user's known items never recommended (default train,valid,test)",
    },
  },
} as const;

const SPLIT_PART = { type: 'string', enum: ['train', 'valid', 'test', 'none'] } as const;

/** POST /recommend's body. */
export const recommendBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['users'],
  properties: {
    users: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_USERS_PER_REQUEST,
      items: { anyOf: [{ type: 'string', minLength: 1 }, { type: 'integer' }] },
      description: "the dataset's own user ids",
    },
    k: { type: 'integer', minimum: 1, description: 'list length (default 10, at most the catalogue)' },
    method: METHOD,
    lambda: { type: 'number', minimum: 0, maximum: 1, description: "CP's trade-off λ (default 0.5)" },
    m: { type: 'integer', minimum: 1, description: "CP's candidate pool (default 100, at least k)" },
    exclude: {
      anyOf: [
        { type: 'array', items: SPLIT_PART },
        { type: 'string', pattern: EXCLUDE_PATTERN },
      ],
      description: "the user's known items never recommended: parts of the split, or 'none'",
    },
  },
} as const;

/**
 * POST /admin/reload's body: `backbone: true`, or an experiment with its epoch or the
 * validation-selected epoch of a mode (the handler refuses both or neither).
 */
export const reloadBodySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    backbone: { type: 'boolean', enum: [true], description: "serve the run's backbone" },
    experiment: { type: 'string', minLength: 1, description: 'serve a checkpoint of this experiment' },
    epoch: { type: 'integer', minimum: 0, description: "that epoch's checkpoint" },
    mode: { type: 'string', enum: [...SELECTION_MODES], description: 'or the validation-selected epoch of a mode' },
  },
} as const;
