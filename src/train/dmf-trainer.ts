/**
 * DMF training loop, RecBole 1.2.1 pointwise behaviour:
 * - every train interaction is a positive (label 1) joined by `negSamples` uniform negatives
 *   (label 0) from items 1..nItems−1, re-drawn while they are one of the user's train items;
 * - an epoch covers every positive once in an order reshuffled each epoch; a batch holds
 *   `batchSize` rows in all — floor(batchSize / (1 + negSamples)) positives with their
 *   negatives, as RecBole's TrainDataLoader sizes pointwise batches;
 * - loss = mean BCE-with-logits; dense Adam over every tensor;
 * - validation NDCG@10 after every epoch (train masked, users without valid items skipped),
 *   RecBole early stopping, the best weights copied and restored at the end.
 * Deterministic for a given seed.
 */
import { Rng } from '../math/rng.js';
import { DmfModel, resolveDmfHyper } from '../models/dmf.js';
import { Adam } from '../nn/adam.js';
import { UserError } from '../util/errors.js';
import { parseDmfConfig, type DmfConfig, type DmfConfigInput } from './configs/dmf.js';
import { EpochLoop, type TrainOptions, type TrainResult } from './epoch-loop.js';
import { checkTrainData, positivePairs, sampleNegatives, type TrainData } from './train-data.js';

export type { EpochInfo, TrainOptions, TrainResult } from './epoch-loop.js';
export type { TrainData } from './train-data.js';

/** Trains DMF (binary cross-entropy on positives and sampled negatives) with early stopping on valid NDCG. */
export function trainDmf(
  data: TrainData,
  config: DmfConfigInput = {},
  opts: TrainOptions<DmfModel> = {},
): TrainResult<DmfModel, DmfConfig> {
  const cfg = parseDmfConfig(config);
  const { nUsers, nItems, train, valid } = data;
  const nInter = checkTrainData(data, 'DMF');
  const hyper = resolveDmfHyper({
    nUsers,
    nItems,
    userEmbeddingSize: cfg.embeddingSize,
    itemEmbeddingSize: cfg.embeddingSize,
    userHidden: cfg.userHidden,
    itemHidden: cfg.itemHidden,
  });
  const { users: tUser, items: tPos } = positivePairs(data);
  const model = opts.model ?? new DmfModel(hyper, cfg.seed);
  if (model.nUsers !== nUsers || model.nItems !== nItems) throw new UserError('model sizes do not match the dataset');
  model.setTrainMatrix(train);
  const rng = new Rng((cfg.seed ^ 0x2545f491) | 0);
  const adam = new Adam(model.parameters(), { lr: cfg.lr, weightDecay: cfg.weightDecay });
  const neg = cfg.negSamples,
    per = 1 + neg;
  const posPerBatch = Math.floor(cfg.batchSize / per);
  const order = new Int32Array(nInter);
  for (let i = 0; i < nInter; i++) order[i] = i;
  const eUser = new Int32Array(nInter * neg);
  const eNeg = new Int32Array(nInter * neg);
  const loop = new EpochLoop(model, { train, valid }, cfg, opts);
  for (let epoch = 0; epoch < cfg.epochs; epoch++) {
    const e0 = performance.now();
    rng.shuffle(order);
    for (let i = 0; i < nInter; i++) {
      const u = tUser[order[i]!]!;
      for (let r = 0; r < neg; r++) eUser[i * neg + r] = u;
    }
    sampleNegatives(train, eUser, eNeg, nItems, rng);
    let lossSum = 0,
      nBatches = 0;
    for (let s = 0; s < nInter; s += posPerBatch) {
      const e = Math.min(nInter, s + posPerBatch);
      const m = e - s,
        B = m * per;
      const bu = new Int32Array(B),
        bi = new Int32Array(B),
        bl = new Float32Array(B);
      // positives first, then their negatives (RecBole's layout; the loss is a mean anyway)
      for (let t = 0; t < m; t++) {
        const o = order[s + t]!;
        bu[t] = tUser[o]!;
        bi[t] = tPos[o]!;
        bl[t] = 1;
        for (let r = 0; r < neg; r++) {
          const q = m + t * neg + r;
          bu[q] = tUser[o]!;
          bi[q] = eNeg[(s + t) * neg + r]!;
          bl[q] = 0;
        }
      }
      model.zeroGrad();
      lossSum += model.pointwiseForwardBackward(bu, bi, bl);
      adam.step();
      nBatches++;
    }
    if (loop.endEpoch(epoch, e0, lossSum / nBatches)) break;
  }
  return loop.finish();
}
