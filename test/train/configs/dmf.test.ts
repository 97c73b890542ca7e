import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_DMF_CONFIG, parseDmfConfig } from '../../../src/train/configs/dmf.js';
import { UserError } from '../../../src/util/errors.js';

test('DMF defaults are the reference configuration, in model.json order', () => {
  assert.deepEqual(Object.entries(DEFAULT_DMF_CONFIG), [
    ['embeddingSize', 256],
    ['userHidden', [256, 256]],
    ['itemHidden', [256, 256]],
    ['lr', 1e-4],
    ['weightDecay', 0],
    ['batchSize', 4096],
    ['epochs', 300],
    ['patience', 25],
    ['negSamples', 1],
    ['seed', 920],
    ['validK', 10],
  ]);
});

test('DMF: the item tower mirrors the user tower unless given', () => {
  assert.deepEqual(parseDmfConfig({ userHidden: [32, 16] }).itemHidden, [32, 16]);
  assert.deepEqual(parseDmfConfig({ userHidden: [32, 16], itemHidden: [8, 16] }).itemHidden, [8, 16]);
  assert.deepEqual(parseDmfConfig({ itemHidden: [64, 256] }).userHidden, [256, 256]);
  assert.deepEqual(Object.keys(parseDmfConfig({ userHidden: [4] })), Object.keys(DEFAULT_DMF_CONFIG));
});

test('DMF: out-of-range values are UserErrors naming the key and the rule', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ negSamples: 0 }, /^negSamples must be a positive integer \(got 0\)$/],
    [{ userHidden: [8, -1] }, /^userHidden must be a non-empty list of positive integers \(got \[8,-1\]\)$/],
    [{ itemHidden: [] }, /^itemHidden must be a non-empty list of positive integers \(got \[\]\)$/],
    [{ embeddingSize: 0 }, /^embeddingSize must be a positive integer/],
    [{ patience: -1 }, /^patience must be an integer ≥ 0 \(got -1\)$/],
    [{ batchSize: 2, negSamples: 2 }, /^batchSize 2 cannot hold one positive and its 2 negatives$/],
    [
      { dim: 8 },
      /^unknown key 'dim' \(allowed: embeddingSize, userHidden, itemHidden, lr, .*, negSamples, seed, validK\)$/,
    ],
  ];
  for (const [input, message] of cases) {
    assert.throws(
      () => parseDmfConfig(input as never),
      (e: unknown) => e instanceof UserError && message.test(e.message),
    );
  }
});
