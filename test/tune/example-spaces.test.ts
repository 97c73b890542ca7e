/** The example search spaces (examples/tune-*.yaml) read for their model, and 24 trials sample from each. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSearchSpace } from '../../src/pipeline/tune-study.js';
import { sampleTrials } from '../../src/tune/search-space.js';
import type { ModelType } from '../../src/train/configs/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

test('example search spaces: each reads for its model and samples 24 trials the backbone accepts', () => {
  const keys: Record<string, string[]> = {};
  for (const model of ['bpr', 'dmf', 'multivae'] as ModelType[]) {
    const space = readSearchSpace(join(root, 'examples', `tune-${model}.yaml`), model);
    const trials = sampleTrials(space, 24, 920);
    assert.equal(trials.length, 24);
    keys[model] = space.dimensions.map((d) => d.key);
  }
  assert.deepEqual(keys, {
    bpr: ['dim', 'lr', 'weightDecay', 'batchSize'],
    dmf: ['embeddingSize', 'userHidden', 'lr', 'batchSize', 'negSamples'],
    multivae: ['hidden', 'latent', 'dropout', 'annealCap', 'lr', 'batchSize'],
  });
});
