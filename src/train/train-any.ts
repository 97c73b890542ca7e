/**
 * One entry point for backbone training, so the CLI stays thin: trainBackbone(type, data,
 * config, opts) dispatches to the BPR, DMF or MultiVAE trainer (or builds a MostPop /
 * Random baseline, which need no training) and returns a common result shape. Importing this
 * module registers every model type with the model-file registry.
 */
import type { Csr } from '../math/csr.js';
import { MostPopModel, RandomModel } from '../models/baselines.js';
import '../models/all.js';
import { MODEL_TYPES } from '../models/recommender.js';
import type { Recommender } from '../models/recommender.js';
import { UserError } from '../util/errors.js';
import { trainBpr } from './bpr-trainer.js';
import { configKeys, isModelType, parseBackboneConfig, type BackboneConfig } from './configs/index.js';
import type { RandomConfig } from './configs/baselines.js';
import { trainDmf } from './dmf-trainer.js';
import type { EpochInfo } from './epoch-loop.js';
import { trainMultiVae } from './multivae-trainer.js';
import type { TrainData } from './train-data.js';

/** The model types trainBackbone builds: all of them. */
export const BACKBONE_TYPES = MODEL_TYPES;

export type { BackboneConfig };

/** Options of {@link trainBackbone}: an epoch callback and whether to restore the best weights. */
export interface BackboneOptions {
  /** Called after every epoch with its record and the epoch cap. */
  onEpoch?: (e: EpochInfo, total: number) => void;
  /** Load the best epoch's weights at the end (default true). */
  restoreBest?: boolean;
}

/** A trained backbone with its epoch history, best epoch, configuration and time. */
export interface BackboneResult {
  model: Recommender;
  history: EpochInfo[];
  bestEpoch: number;
  bestValidNdcg: number;
  stoppedEarly: boolean;
  epochsRun: number;
  /** The resolved configuration (defaults filled in). */
  config: Record<string, unknown>;
  seconds: number;
}

/** The keys of `config` that the model type reads (the others belong to other backbones). */
function pick(config: BackboneConfig, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    const v = (config as Record<string, unknown>)[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** Trains (or builds) a backbone of the given type on the train split with validation early stopping. */
export function trainBackbone(
  type: string,
  data: TrainData,
  config: BackboneConfig = {},
  opts: BackboneOptions = {},
): BackboneResult {
  if (!isModelType(type)) throw new UserError(`unknown model '${type}' (known: ${MODEL_TYPES.join(', ')})`);
  const own = pick(config, configKeys(type));
  switch (type) {
    case 'bpr': {
      const r = trainBpr(data, own, opts);
      return { ...r, config: { ...r.config } };
    }
    case 'dmf': {
      const r = trainDmf(data, own, opts);
      return { ...r, config: { ...r.config } };
    }
    case 'multivae': {
      const r = trainMultiVae(data, own, opts);
      return { ...r, config: { ...r.config } };
    }
    case 'mostpop':
    case 'random':
      return buildBaseline(type, data, own);
  }
}

/** MostPop and Random need no training: built from the train split (Random from its seed). */
function buildBaseline(type: 'mostpop' | 'random', data: TrainData, own: Record<string, unknown>): BackboneResult {
  const t0 = performance.now();
  const config = parseBackboneConfig(type, own);
  const model =
    type === 'mostpop'
      ? MostPopModel.fromTrain(data.train)
      : new RandomModel({ nUsers: data.nUsers, nItems: data.nItems, seed: (config as RandomConfig).seed });
  return {
    model,
    history: [],
    bestEpoch: -1,
    bestValidNdcg: NaN,
    stoppedEarly: false,
    epochsRun: 0,
    config,
    seconds: (performance.now() - t0) / 1000,
  };
}

/**
 * Gives a loaded model the train matrix it needs to score (DMF and MultiVAE read their
 * inputs from it; other models ignore it) through the optional Recommender.attachTrainData.
 * loadModel(dir, type, { train }) does this itself.
 */
export function attachTrainData(model: Recommender, train: Csr): void {
  model.attachTrainData?.(train);
}
