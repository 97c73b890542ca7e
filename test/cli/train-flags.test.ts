import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readTrainSettings, trainOptions, trainOptionsHelp, TRAIN_USAGE } from '../../src/cli/train-flags.js';
import { UserError } from '../../src/util/errors.js';

test('the train command keeps every flag it had, plus --config', () => {
  assert.deepEqual(Object.keys(trainOptions()).sort(), [
    'anneal-cap',
    'batch-size',
    'config',
    'dim',
    'dropout',
    'embedding-size',
    'epochs',
    'hidden',
    'item-hidden',
    'latent',
    'lr',
    'model',
    'neg-samples',
    'optimizer',
    'patience',
    'run',
    'seed',
    'split-seed',
    'total-anneal-steps',
    'weight-decay',
  ]);
  assert.ok(Object.values(trainOptions()).every((o) => o.type === 'string'));
  assert.equal(
    TRAIN_USAGE,
    'train --run RUN [--data PATH] [--config FILE] [--model bpr|dmf|multivae|mostpop|random] [options]',
  );
});

test('train help: one line per flag, defaults from the schemas', () => {
  const help = trainOptionsHelp().split('\n');
  for (const line of [
    '  --model NAME         backbone: bpr (default), dmf, multivae; or the untrained baselines mostpop, random',
    '  --seed N             training seed: initial weights, shuffling, sampling (default 920)',
    '  --lr X               Adam learning rate (default 1e-4; multivae 1e-3)',
    '  --epochs N           maximum epochs (default 300)',
    '  --patience N         early stopping: stop after patience+1 evaluations without improvement (default 10; dmf 25)',
    '  --dim N              embedding size (default 256)',
    '  --hidden A,B,…       user tower MLP sizes ' +
      "(default 256,256; also the item tower's unless --item-hidden is given)",
    '  --hidden A,B,…       encoder hidden sizes (default 600; the decoder mirrors them)',
    '  --neg-samples N      uniform negatives per positive (default 1)',
    "  --latent N           size of μ (default 64; RecBole's latent_dimension = 2·latent)",
    '  --optimizer auto|dense|sparse  Adam over the embeddings: dense, sparse (lazy: only the rows a batch touches ' +
      'move) or',
    '                       auto (default auto; auto is sparse from 50000 users + items on, else dense)',
  ])
    assert.ok(help.includes(line), line);
  assert.deepEqual(
    help.filter((l) => /^\S/.test(l)),
    ['Options:', 'BPR:', 'DMF (RecBole 1.2.1):', 'MultiVAE (RecBole 1.2.1):'],
  );
  assert.ok(!help.some((l) => /valid-k/.test(l)));
  assert.ok(help.every((l) => [...l].length <= 120));
});

test("flags map onto the chosen model's keys; the others are left out", () => {
  const dmf = readTrainSettings({ model: 'dmf', hidden: '32,16', dim: '8', epochs: '2', seed: '5' });
  assert.deepEqual(dmf.config, {
    embeddingSize: 256,
    userHidden: [32, 16],
    itemHidden: [32, 16],
    lr: 1e-4,
    weightDecay: 0,
    batchSize: 4096,
    epochs: 2,
    patience: 25,
    negSamples: 1,
    seed: 5,
    validK: 10,
  });
  assert.deepEqual([dmf.seed, dmf.splitSeed], [5, 5]);
  const vae = readTrainSettings({ model: 'multivae', hidden: '64', 'split-seed': '3' });
  assert.deepEqual([vae.config.hidden, vae.config.seed, vae.splitSeed], [[64], 920, 3]);
  assert.deepEqual(readTrainSettings({}).config, {
    dim: 256,
    lr: 1e-4,
    weightDecay: 0,
    batchSize: 4096,
    epochs: 300,
    patience: 10,
    seed: 920,
    validK: 10,
    optimizer: 'auto',
  });
  assert.equal(readTrainSettings({ optimizer: 'sparse' }).config.optimizer, 'sparse');
  assert.throws(
    () => readTrainSettings({ optimizer: 'lazy' }),
    /^UserError: --optimizer must be one of auto, dense, sparse \(got 'lazy'\)$/,
  );
  assert.deepEqual(readTrainSettings({ model: 'mostpop', seed: '7' }), {
    model: 'mostpop',
    config: {},
    seed: 7,
    splitSeed: 7,
  });
  assert.deepEqual(readTrainSettings({ model: 'random', seed: '7' }).config, { seed: 7 });
  assert.throws(
    () => readTrainSettings({ model: 'svd' }),
    /^UserError: unknown model 'svd' \(known: bpr, dmf, multivae, mostpop, random\)$/,
  );
  assert.throws(() => readTrainSettings({ model: 'dmf', 'batch-size': '2', 'neg-samples': '2' }), UserError);
});
