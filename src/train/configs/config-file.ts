/**
 * A backbone configuration file (YAML): `model` and the keys of that model's schema, e.g.
 *
 *   model: bpr
 *   dim: 256
 *   lr: 1.0e-4
 *
 * Every key and value is checked here against the schema; errors name the file, the key's
 * line and the rule. Keys left out take the schema's defaults later.
 */
import { isMap, isScalar } from 'yaml';
import { z } from 'zod';
import { UserError } from '../../util/errors.js';
import { quoteExcerpt } from '../../util/excerpt.js';
import { readRegularTextFile } from '../../util/input-files.js';
import { parseYamlInput, yamlToJs } from '../../util/yaml-input.js';
import { objectOf, parseConfig } from './fields.js';
import { BACKBONE_SPECS, DEFAULT_MODEL, isModelType, MODEL_TYPES, runKeys, type ModelType } from './index.js';
import { trainingSchema } from './shared.js';

/** A configuration file's model and keys. */
export interface BackboneConfigFile {
  model: ModelType;
  /** The file's keys only (no defaults), checked against the model's schema. */
  config: Record<string, unknown>;
}

/**
 * Reads a configuration file for `model` (when given, it wins over the file's `model` key;
 * otherwise the file's model, else the default model).
 */
export function readBackboneConfigFile(path: string, model?: ModelType): BackboneConfigFile {
  return parseBackboneConfigYaml(readRegularTextFile(path, 'the configuration'), path, model);
}

/** Parses the YAML text of a configuration file (`file` names it in errors). */
export function parseBackboneConfigYaml(text: string, file: string, model?: ModelType): BackboneConfigFile {
  const { raw, lines } = readYamlMapping(text, file);
  const { model: named, ...keys } = raw;
  if (named !== undefined && (typeof named !== 'string' || !isModelType(named))) {
    throw new UserError(
      `model must be one of ${MODEL_TYPES.join(', ')} (got ${JSON.stringify(named)})`,
      file,
      lines.get('model'),
    );
  }
  const type = model ?? (named as ModelType | undefined) ?? DEFAULT_MODEL;
  const allowed = runKeys(type);
  for (const key of Object.keys(keys)) {
    if (!allowed.includes(key)) {
      throw new UserError(
        `unknown key ${quoteExcerpt(key)} for model ${type} (allowed: model, ${allowed.join(', ')})`,
        file,
        lines.get(key),
      );
    }
  }
  // each key on its own: no defaults filled in, so that flags can still override them
  const shape: Record<string, z.ZodTypeAny> = {
    seed: trainingSchema.shape.seed,
    ...objectOf(BACKBONE_SPECS[type].schema).shape,
  };
  const fields = Object.fromEntries(allowed.map((k) => [k, shape[k]!.optional()]));
  return {
    model: type,
    config: parseConfig(z.object(fields).strict(), keys, { file, lines }) as Record<string, unknown>,
  };
}

/**
 * The top-level mapping of a YAML text with the line of each key; bad YAML (syntax, alias bomb,
 * integer beyond 2^53) → InputError with the file and line. Also reads tuning search spaces.
 */
export function readYamlMapping(
  text: string,
  file: string,
): { raw: Record<string, unknown>; lines: Map<string, number> } {
  const y = parseYamlInput(text, file);
  const lines = new Map<string, number>();
  if (isMap(y.doc.contents)) {
    for (const pair of y.doc.contents.items) {
      if (isScalar(pair.key) && pair.key.range)
        lines.set(String(pair.key.value), y.lines.linePos(pair.key.range[0]).line);
    }
  }
  const raw = yamlToJs(y) ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw new UserError('the configuration must be a mapping of keys to values', file, 1);
  return { raw: raw as Record<string, unknown>, lines };
}
