import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BACKBONE_SPECS, configKeys, parseBackboneConfig } from '../../../src/train/configs/index.js';
import { MODEL_TYPES } from '../../../src/models/recommender.js';
import { UserError } from '../../../src/util/errors.js';

test('MostPop has no keys; Random only its seed (default 920)', () => {
  assert.deepEqual(parseBackboneConfig('mostpop', {}), {});
  assert.deepEqual(parseBackboneConfig('random', {}), { seed: 920 });
  assert.deepEqual(parseBackboneConfig('random', { seed: 5 }), { seed: 5 });
  assert.throws(
    () => parseBackboneConfig('random', { seed: 0.5 }),
    /^UserError: seed must be an integer \(got 0\.5\)$/,
  );
  assert.throws(() => parseBackboneConfig('mostpop', { seed: 1 }), /^UserError: unknown key 'seed' \(allowed: none\)$/);
  assert.throws(
    () => parseBackboneConfig('random', { seed: 'x' }, { file: 'cfg.yaml', lines: new Map([['seed', 3]]) }),
    (e: unknown) => e instanceof UserError && e.message === "cfg.yaml:3: seed must be an integer (got 'x')",
  );
});

test('every model type has a schema; the trained ones share the training keys', () => {
  assert.deepEqual(Object.keys(BACKBONE_SPECS), [...MODEL_TYPES]);
  for (const t of MODEL_TYPES) {
    const keys = configKeys(t);
    const shared = ['lr', 'weightDecay', 'batchSize', 'epochs', 'patience', 'seed', 'validK'];
    assert.equal(
      shared.every((k) => keys.includes(k)),
      BACKBONE_SPECS[t].trained,
      t,
    );
  }
});
