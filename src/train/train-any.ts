/**
 * One entry point for backbone training, so the CLI stays thin: trainBackbone(type, data,
 * config, opts) dispatches to the BPR, DMF or MultiVAE trainer (or builds a MostPop /
 * Random baseline, which need no training) and returns a common result shape. Importing this
 * module registers every model type with the model-file registry.
 */
import type { Csr } from '../data/types.js';
import { MostPopModel, RandomModel } from '../models/baselines.js';
import '../models/all.js';
import type { Recommender } from '../models/recommender.js';
import { UserError } from '../util/errors.js';
import { trainBpr, type BprTrainConfig } from './bpr-trainer.js';
import { trainDmf, type DmfTrainConfig, type EpochInfo, type TrainData } from './dmf-trainer.js';
import { trainMultiVae, type MultiVaeTrainConfig } from './multivae-trainer.js';
import { DEFAULT_SEED } from '../util/seed.js';

export const BACKBONE_TYPES = ['bpr', 'dmf', 'multivae', 'mostpop', 'random'] as const;
export type BackboneType = (typeof BACKBONE_TYPES)[number];

export type BackboneConfig = Partial<BprTrainConfig> & Partial<DmfTrainConfig> & Partial<MultiVaeTrainConfig>;

export interface BackboneOptions {
  onEpoch?: (e: EpochInfo, total: number) => void;
  restoreBest?: boolean;
}

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

function pick<T extends object>(cfg: BackboneConfig, keys: readonly (keyof T)[]): Partial<T> {
  const out: Partial<T> = {};
  for (const k of keys) {
    const v = (cfg as Record<string, unknown>)[k as string];
    if (v !== undefined) (out as Record<string, unknown>)[k as string] = v;
  }
  return out;
}

const COMMON = ['lr', 'weightDecay', 'batchSize', 'epochs', 'patience', 'seed', 'validK'] as const;

/** Trains (or builds) a backbone of the given type on the train split with validation early stopping. */
export function trainBackbone(type: string, data: TrainData, config: BackboneConfig = {}, opts: BackboneOptions = {}): BackboneResult {
  const t0 = performance.now();
  switch (type) {
    case 'bpr': {
      const r = trainBpr(data, pick<BprTrainConfig>(config, [...COMMON, 'dim']), {
        ...(opts.restoreBest !== undefined ? { restoreBest: opts.restoreBest } : {}),
        ...(opts.onEpoch ? { onEpoch: (e, total) => opts.onEpoch!({ epoch: e.epoch, loss: e.loss, validNdcg: e.validNdcg, seconds: e.seconds, trainSeconds: e.trainSeconds, evalSeconds: e.evalSeconds, improved: e.improved }, total) } : {}),
      });
      return { ...r, config: { ...r.config } };
    }
    case 'dmf': {
      const r = trainDmf(data, pick<DmfTrainConfig>(config, [...COMMON, 'embeddingSize', 'userHidden', 'itemHidden', 'negSamples']), opts);
      return { ...r, config: { ...r.config } };
    }
    case 'multivae': {
      const r = trainMultiVae(data, pick<MultiVaeTrainConfig>(config, [...COMMON, 'hidden', 'latent', 'dropout', 'annealCap', 'totalAnnealSteps']), opts);
      return { ...r, config: { ...r.config } };
    }
    case 'mostpop':
    case 'random': {
      const model = type === 'mostpop' ? MostPopModel.fromTrain(data.train) : new RandomModel({ nUsers: data.nUsers, nItems: data.nItems, seed: config.seed ?? DEFAULT_SEED });
      return {
        model, history: [], bestEpoch: -1, bestValidNdcg: NaN, stoppedEarly: false, epochsRun: 0,
        config: type === 'random' ? { seed: config.seed ?? DEFAULT_SEED } : {}, seconds: (performance.now() - t0) / 1000,
      };
    }
    default:
      throw new UserError(`unknown model '${type}' (known: ${BACKBONE_TYPES.join(', ')})`);
  }
}

/**
 * Gives a loaded model the train matrix it needs to score (DMF and MultiVAE read their
 * inputs from it; other models ignore it) through the optional Recommender.attachTrainData.
 * loadModel(dir, type, { train }) does this itself.
 */
export function attachTrainData(model: Recommender, train: Csr): void {
  model.attachTrainData?.(train);
}
