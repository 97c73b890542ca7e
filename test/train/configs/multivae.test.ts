import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_MULTIVAE_CONFIG, parseMultiVaeConfig } from '../../../src/train/configs/multivae.js';
import { UserError } from '../../../src/util/errors.js';

test("MultiVAE defaults are RecBole's sizes with our user batches, in model.json order", () => {
  assert.deepEqual(Object.entries(DEFAULT_MULTIVAE_CONFIG), [
    ['hidden', [600]],
    ['latent', 64],
    ['dropout', 0.5],
    ['annealCap', 0.2],
    ['totalAnnealSteps', 200000],
    ['lr', 1e-3],
    ['weightDecay', 0],
    ['batchSize', 64],
    ['epochs', 300],
    ['patience', 10],
    ['seed', 920],
    ['validK', 10],
  ]);
});

test('MultiVAE: out-of-range values are UserErrors naming the key and the rule', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ dropout: 1 }, /^dropout must be a number in \[0, 1\) \(got 1\)$/],
    [{ dropout: -0.1 }, /^dropout must be a number in \[0, 1\)/],
    [{ hidden: [0] }, /^hidden must be a non-empty list of positive integers \(got \[0\]\)$/],
    [{ totalAnnealSteps: -1 }, /^totalAnnealSteps must be an integer ≥ 0 \(got -1\)$/],
    [{ annealCap: -0.5 }, /^annealCap must be a number ≥ 0 \(got -0\.5\)$/],
    [{ latent: 1.5 }, /^latent must be a positive integer \(got 1\.5\)$/],
    [{ epochs: 0 }, /^epochs must be a positive integer \(got 0\)$/],
  ];
  for (const [input, message] of cases) {
    assert.throws(
      () => parseMultiVaeConfig(input as never),
      (e: unknown) => e instanceof UserError && message.test(e.message),
    );
  }
});
