/**
 * A saved model is a folder with two files:
 *   model.safetensors  the tensors under their parameter names (`user_embedding.weight`, …)
 *   model.json         the sidecar: format_version, model_type, sizes (the model's hyper),
 *                      tensor shapes, id maps (token arrays, index = internal id), training
 *                      config, data fingerprint, metrics
 * Both are written atomically, tensors first, so a folder with a sidecar is complete.
 * Models are built from their type name through a registry; unknown names are a UserError
 * listing the known ones.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { UserError } from '../util/errors.js';
import { writeJsonAtomic } from '../util/atomic.js';
import { checkPositiveInt } from '../util/checks.js';
import { schemaProblem } from '../util/json-schema.js';
import { BprModel } from './bpr.js';
import type { Csr } from '../math/csr.js';
import type { Recommender } from './recommender.js';
import { readSafetensors, writeSafetensors, type SafeTensor } from './safetensors.js';

/** Version of the model folder format, written to the sidecar and checked on load. */
export const MODEL_FORMAT_VERSION = 1;
/** File of a model folder that holds the tensors. */
export const MODEL_TENSORS_FILE = 'model.safetensors';
/** File of a model folder that holds the sidecar (type, sizes, id maps, training, fingerprint, metrics). */
export const MODEL_SIDECAR_FILE = 'model.json';

/** Builds a model with fresh weights from its sizes (the sidecar's `sizes`). */
export type ModelFactory = (hyper: Readonly<Record<string, unknown>>, seed: number) => Recommender;

const registry = new Map<string, ModelFactory>();

/** Adds a model type (dmf, multivae, mostpop and random register themselves; src/models/all.ts imports them all). */
export function registerModel(type: string, factory: ModelFactory): void {
  registry.set(type, factory);
}

/** The registered model types, sorted; all of them once src/models/all.ts is imported. */
export function knownModelTypes(): string[] {
  return [...registry.keys()].sort();
}

/** The factory registered for `type` (UserError listing the known types otherwise). */
export function modelFactory(type: string): ModelFactory {
  const f = registry.get(type);
  if (!f) throw new UserError(`unknown model "${type}" (known models: ${knownModelTypes().join(', ')})`);
  return f;
}

/** A model of a registered type with fresh weights, from its sizes (`nUsers`, `nItems`, …) and a seed. */
export function createModel(type: string, hyper: Readonly<Record<string, unknown>>, seed = 0): Recommender {
  return modelFactory(type)(hyper, seed);
}

registerModel(
  'bpr',
  (h, seed) =>
    new BprModel(
      {
        nUsers: checkPositiveInt('nUsers', h.nUsers),
        nItems: checkPositiveInt('nItems', h.nItems),
        dim: checkPositiveInt('dim', h.dim),
      },
      seed,
    ),
);

/** An id map as the sidecar stores it. */
export interface IdMapJson {
  field: string;
  /** tokens[i] is the external token of internal id i; tokens[0] is '[PAD]'. */
  tokens: string[];
}

/** The sidecar (model.json) of a saved model. */
export interface ModelSidecar {
  format_version: number;
  model_type: string;
  sizes: Record<string, unknown>;
  tensors: Record<string, number[]>;
  id_maps?: { user: IdMapJson; item: IdMapJson };
  training?: Record<string, unknown>;
  data_fingerprint?: string;
  metrics?: Record<string, unknown>;
  created?: string;
}

/** What {@link saveModel} stores beside the weights: id maps, training settings, data fingerprint, metrics. */
export interface ModelInfo {
  idMaps?: { user: IdMapJson; item: IdMapJson };
  training?: Record<string, unknown>;
  dataFingerprint?: string;
  metrics?: Record<string, unknown>;
}

/** Saves a model to the folder `dir` (tensors first, then the sidecar, both atomic); returns the sidecar. */
export function saveModel(dir: string, model: Recommender, info: ModelInfo = {}): ModelSidecar {
  const tensors = new Map<string, SafeTensor>();
  const shapes: Record<string, number[]> = {};
  for (const p of model.parameters()) {
    tensors.set(p.name, { dtype: 'F32', shape: [...p.shape], data: p.value });
    shapes[p.name] = [...p.shape];
  }
  if (info.idMaps) {
    if (info.idMaps.user.tokens.length !== model.nUsers || info.idMaps.item.tokens.length !== model.nItems) {
      throw new RangeError(
        `saveModel: id maps have ${info.idMaps.user.tokens.length} users / ${info.idMaps.item.tokens.length} items, ` +
          `model ${model.nUsers} / ${model.nItems}`,
      );
    }
  }
  const sidecar: ModelSidecar = {
    format_version: MODEL_FORMAT_VERSION,
    model_type: model.type,
    sizes: { ...model.hyper },
    tensors: shapes,
    ...(info.idMaps ? { id_maps: info.idMaps } : {}),
    ...(info.training ? { training: info.training } : {}),
    ...(info.dataFingerprint !== undefined ? { data_fingerprint: info.dataFingerprint } : {}),
    ...(info.metrics ? { metrics: info.metrics } : {}),
    created: new Date().toISOString(),
  };
  writeSafetensors(join(dir, MODEL_TENSORS_FILE), tensors, { format: 'pt', model_type: model.type });
  writeJsonAtomic(join(dir, MODEL_SIDECAR_FILE), sidecar);
  return sidecar;
}

const idMapSchema = z.object({ field: z.string(), tokens: z.array(z.string()) }).passthrough();

/** model.json as readers use it (other keys are kept); the format version is checked first. */
const sidecarSchema = z
  .object({
    model_type: z.string(),
    sizes: z.record(z.unknown()),
    tensors: z.record(z.array(z.number().int().nonnegative())),
    id_maps: z.object({ user: idMapSchema, item: idMapSchema }).optional(),
    data_fingerprint: z.string().optional(),
  })
  .passthrough();

/** Reads and checks the sidecar of the model saved in `dir` (UserError naming the file and field otherwise). */
export function readSidecar(dir: string): ModelSidecar {
  const path = join(dir, MODEL_SIDECAR_FILE);
  if (!existsSync(path)) throw new UserError('no saved model here (model.json missing)', path);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UserError(`model sidecar is not valid JSON (${(e as Error).message})`, path);
  }
  const s = raw as Partial<ModelSidecar>;
  if (typeof s !== 'object' || s === null) throw new UserError('model sidecar is not a JSON object', path);
  if (s.format_version !== MODEL_FORMAT_VERSION) {
    throw new UserError(
      `unsupported model format_version ${String(s.format_version)} (this version reads ${MODEL_FORMAT_VERSION})`,
      path,
    );
  }
  const problem = schemaProblem(sidecarSchema, raw);
  if (problem !== undefined) throw new UserError(problem, path);
  return s as ModelSidecar;
}

/** A model loaded from its folder, with its sidecar. */
export interface LoadedModel {
  model: Recommender;
  sidecar: ModelSidecar;
}

/**
 * Loads the model saved in `dir`. With `expectedType`, a sidecar of another type is a
 * UserError; shapes are checked against the sidecar and the model built from its sizes.
 * With `opts.train` (the run's train split), models that read interaction rows get it through
 * their `attachTrainData` (DMF, MultiVAE), so the loaded model can score straight away.
 * Every model type is known once src/models/all.ts has been imported (the CLI does).
 */
export function loadModel(dir: string, expectedType?: string, opts: { train?: Csr } = {}): LoadedModel {
  if (expectedType !== undefined) modelFactory(expectedType); // unknown requested type → clear error first
  const sidecar = readSidecar(dir);
  const sidePath = join(dir, MODEL_SIDECAR_FILE);
  if (expectedType !== undefined && sidecar.model_type !== expectedType) {
    throw new UserError(`the saved model is a ${sidecar.model_type} model, not ${expectedType}`, sidePath);
  }
  const model = createModel(sidecar.model_type, sidecar.sizes);
  const tPath = join(dir, MODEL_TENSORS_FILE);
  const file = readSafetensors(tPath);
  for (const p of model.parameters()) {
    const want = sidecar.tensors[p.name];
    if (!want) throw new UserError(`sidecar lists no tensor ${p.name}`, sidePath);
    if (!sameShape(want, p.shape)) {
      throw new UserError(
        `sidecar shape of ${p.name} is [${want.join(', ')}], ` +
          `the ${sidecar.model_type} sizes give [${p.shape.join(', ')}]`,
        sidePath,
      );
    }
    const t = file.tensors.get(p.name);
    if (!t) throw new UserError(`tensor ${p.name} is missing`, tPath);
    if (t.dtype !== 'F32') throw new UserError(`tensor ${p.name} is ${t.dtype}, expected F32`, tPath);
    if (!sameShape(t.shape, p.shape)) {
      throw new UserError(
        `tensor ${p.name} has shape [${t.shape.join(', ')}], the sidecar says [${p.shape.join(', ')}]`,
        tPath,
      );
    }
    p.value.set(t.data as Float32Array);
  }
  if (sidecar.id_maps) {
    const { user, item } = sidecar.id_maps;
    if (
      !Array.isArray(user?.tokens) ||
      !Array.isArray(item?.tokens) ||
      user.tokens.length !== model.nUsers ||
      item.tokens.length !== model.nItems
    ) {
      throw new UserError(
        `id maps do not match the model sizes (${model.nUsers} users, ${model.nItems} items incl. padding)`,
        sidePath,
      );
    }
  }
  if (opts.train) model.attachTrainData?.(opts.train);
  return { model, sidecar };
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return Array.isArray(a) && a.length === b.length && a.every((d, i) => d === b[i]);
}
