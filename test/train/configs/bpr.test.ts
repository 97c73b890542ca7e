import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_BPR_CONFIG, parseBprConfig } from '../../../src/train/configs/bpr.js';
import { UserError } from '../../../src/util/errors.js';

test('BPR defaults are the reference configuration, in model.json order', () => {
  assert.deepEqual(Object.entries(DEFAULT_BPR_CONFIG), [
    ['dim', 256],
    ['lr', 1e-4],
    ['weightDecay', 0],
    ['batchSize', 4096],
    ['epochs', 300],
    ['patience', 10],
    ['seed', 920],
    ['validK', 10],
    ['optimizer', 'auto'],
  ]);
  assert.deepEqual(parseBprConfig({ dim: 8, seed: undefined }), { ...DEFAULT_BPR_CONFIG, dim: 8 });
});

test('BPR: out-of-range values are UserErrors naming the key and the rule', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ dim: 0 }, /^dim must be a positive integer \(got 0\)$/],
    [{ batchSize: 2.5 }, /^batchSize must be a positive integer \(got 2\.5\)$/],
    [{ lr: -1 }, /^lr must be a positive number \(got -1\)$/],
    [{ lr: Infinity }, /^lr must be a positive number/],
    [{ weightDecay: -0.1 }, /^weightDecay must be a number ≥ 0 \(got -0\.1\)$/],
    [{ patience: 1.5 }, /^patience must be an integer ≥ 0 \(got 1\.5\)$/],
    [{ seed: 'x' }, /^seed must be an integer \(got 'x'\)$/],
    [{ optimizer: 'adam' }, /^optimizer must be one of 'auto', 'dense', 'sparse' \(got 'adam'\)$/],
    [
      { hidden: [8] },
      /^unknown key 'hidden' \(allowed: dim, lr, weightDecay, batchSize, epochs, patience, seed, validK, optimizer\)$/,
    ],
  ];
  for (const [input, message] of cases) {
    assert.throws(
      () => parseBprConfig(input as never),
      (e: unknown) => e instanceof UserError && message.test(e.message),
    );
  }
});
