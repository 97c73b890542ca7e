import { runPaths } from '../../experiments/run-dir.js';
import { train, trainOptionsSchema, type TrainResult } from '../../pipeline/train.js';
import type { Reporter } from '../../pipeline/reporter.js';
import { UserError } from '../../util/errors.js';
import { int, float, positiveInt, requireStr, str } from '../args.js';
import { DATA_HELP, DATA_OPTIONS, readOptionsFrom } from '../data-options.js';
import type { Command, ParsedValues } from '../command.js';

export function printTrain(r: TrainResult, out: Reporter): void {
  out.info(`model saved in ${runPaths(r.run).model}`);
  out.info(`valid NDCG@10 ${r.valid.ndcg.toFixed(5)}   test NDCG@10 ${r.test.ndcg.toFixed(5)}`);
}

/** The backbone hyperparameter flags (unset ones take the trainer's defaults). */
function hyperparametersFrom(v: ParsedValues, modelName: string) {
  return {
    dim: positiveInt(v, 'dim'),
    lr: float(v, 'lr', { min: Number.MIN_VALUE }),
    weightDecay: float(v, 'weight-decay', { min: 0 }),
    batchSize: positiveInt(v, 'batch-size'),
    epochs: positiveInt(v, 'epochs'),
    patience: int(v, 'patience', { min: 0 }),
    embeddingSize: positiveInt(v, 'embedding-size'),
    ...(modelName === 'multivae' ? { hidden: sizeList(v, 'hidden') } : { userHidden: sizeList(v, 'hidden') }),
    itemHidden: sizeList(v, 'item-hidden') ?? (modelName === 'dmf' ? sizeList(v, 'hidden') : undefined),
    negSamples: positiveInt(v, 'neg-samples'),
    latent: positiveInt(v, 'latent'),
    dropout: float(v, 'dropout', { min: 0 }),
    annealCap: float(v, 'anneal-cap', { min: 0 }),
    totalAnnealSteps: int(v, 'total-anneal-steps', { min: 0 }),
  };
}

export const trainCommand: Command = {
  name: 'train',
  summary: 'Train a backbone (BPR, DMF, MultiVAE; or build MostPop / Random) with early stopping on validation NDCG@10, then evaluate it',
  usage: 'train --run RUN [--data PATH] [--model bpr|dmf|multivae|mostpop|random] [options]',
  options: {
    ...DATA_OPTIONS,
    run: { type: 'string' },
    model: { type: 'string' },
    seed: { type: 'string' },
    'split-seed': { type: 'string' },
    dim: { type: 'string' },
    lr: { type: 'string' },
    'weight-decay': { type: 'string' },
    'batch-size': { type: 'string' },
    epochs: { type: 'string' },
    patience: { type: 'string' },
    'embedding-size': { type: 'string' },
    hidden: { type: 'string' },
    'item-hidden': { type: 'string' },
    'neg-samples': { type: 'string' },
    latent: { type: 'string' },
    dropout: { type: 'string' },
    'anneal-cap': { type: 'string' },
    'total-anneal-steps': { type: 'string' },
  },
  help: `Options:
  --run DIR            run directory (created from --data, or reused when it exists)
  --model NAME         backbone: bpr (default), dmf, multivae; or the untrained baselines mostpop, random
  --seed N             training seed (default 920, the reference's)
  --split-seed N       seed of the 80/10/10 split when the run is created (default: --seed)
  --lr X               Adam learning rate (default 1e-4; multivae 1e-3)
  --weight-decay X     Adam weight decay (default 0)
  --batch-size N       batch size (bpr: triples, 4096; dmf: rows incl. negatives, 4096; multivae: users, 64)
  --epochs N           maximum epochs (default 300)
  --patience N         early stopping: stop after patience+1 evaluations without improvement
                       (default bpr 10, dmf 25, multivae 10)
BPR:
  --dim N              embedding size (default 256)
DMF (RecBole 1.2.1):
  --embedding-size N   output size of user_linear / item_linear (default 256)
  --hidden A,B,…       user tower MLP sizes (default 256,256; also the item tower's unless --item-hidden)
  --item-hidden A,B,…  item tower MLP sizes (must end at the same size as --hidden)
  --neg-samples N      uniform negatives per positive (default 1)
MultiVAE (RecBole 1.2.1):
  --hidden A,…         encoder hidden sizes (default 600; the decoder mirrors them)
  --latent N           size of μ (default 64; RecBole's latent_dimension = 2·latent)
  --dropout P          input dropout (default 0.5)
  --anneal-cap X       β cap (default 0.2)
  --total-anneal-steps N  β = min(cap, batches / N) (default 200000)
${DATA_HELP}

Writes RUN/model/{model.safetensors,model.json,training_log.jsonl}, RUN/lists/base_{valid,test}.npy
and RUN/results/base_model.json.

Example:
  calitune train --data ../shared/data/ml-100k --run runs/ml-100k --model bpr`,
  async run(v, _pos, ctx) {
    const model = str(v, 'model');
    const data = str(v, 'data');
    // Which flags mean what depends on the backbone (--hidden: DMF's user tower, MultiVAE's encoder).
    const backbone = trainOptionsSchema.shape.model.parse(model);
    const r = await train({
      run: requireStr(v, 'run'),
      model,
      seed: int(v, 'seed'),
      splitSeed: int(v, 'split-seed'),
      hyperparameters: hyperparametersFrom(v, backbone),
      data,
      read: data !== undefined ? readOptionsFrom(v) : undefined,
    }, ctx);
    printTrain(r, ctx);
    return r;
  },
};

/** A comma-separated list of positive integers ("256,256"), or undefined when absent. */
function sizeList(v: ParsedValues, name: string): number[] | undefined {
  const raw = v[name];
  if (raw === undefined) return undefined;
  const parts = String(raw).split(',').map((x) => x.trim());
  const out = parts.map(Number);
  if (parts.some((x) => x === '') || out.some((x) => !Number.isInteger(x) || x <= 0)) {
    throw new UserError(`--${name} must be a comma-separated list of positive integers (got '${String(raw)}')`);
  }
  return out;
}
