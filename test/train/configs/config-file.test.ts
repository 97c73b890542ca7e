import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseBackboneConfigYaml, readBackboneConfigFile } from '../../../src/train/configs/config-file.js';
import { DEFAULT_BPR_CONFIG } from '../../../src/train/configs/bpr.js';
import { UserError } from '../../../src/util/errors.js';

const failsWith = (f: () => unknown, message: string) =>
  assert.throws(f, (e: unknown) => e instanceof UserError && e.message === message);

test("examples/ml-100k-bpr.yaml holds BPR's defaults (all but validK, which runs do not set)", () => {
  const { model, config } = readBackboneConfigFile('examples/ml-100k-bpr.yaml');
  const { validK, ...defaults } = DEFAULT_BPR_CONFIG;
  assert.equal(validK, 10);
  assert.equal(model, 'bpr');
  assert.deepEqual(config, defaults);
  assert.match(
    readFileSync('examples/ml-100k-bpr.yaml', 'utf8'),
    /calitune train .*--config examples\/ml-100k-bpr\.yaml/,
  );
});

test("a configuration file: only its own keys, checked against the model's schema", () => {
  assert.deepEqual(parseBackboneConfigYaml('model: dmf\nuserHidden: [32, 16]\nlr: 0.001\n', 'a.yaml'), {
    model: 'dmf',
    config: { userHidden: [32, 16], lr: 1e-3 },
  });
  assert.deepEqual(parseBackboneConfigYaml('dim: 8\n', 'a.yaml'), { model: 'bpr', config: { dim: 8 } });
  assert.deepEqual(parseBackboneConfigYaml('', 'a.yaml'), { model: 'bpr', config: {} });
  // the model given by the caller wins over the file's
  assert.deepEqual(parseBackboneConfigYaml('model: bpr\nhidden: [64]\n', 'a.yaml', 'multivae'), {
    model: 'multivae',
    config: { hidden: [64] },
  });
  assert.deepEqual(parseBackboneConfigYaml('model: mostpop\nseed: 3\n', 'a.yaml'), {
    model: 'mostpop',
    config: { seed: 3 },
  });
});

test('configuration file errors name the file, the line, the key and the rule', () => {
  failsWith(
    () => parseBackboneConfigYaml('model: bpr\nbogus: 1\n', 'c.yaml'),
    "c.yaml:2: unknown key 'bogus' for model bpr " +
      '(allowed: model, dim, lr, weightDecay, batchSize, epochs, patience, seed, optimizer)',
  );
  failsWith(
    () => parseBackboneConfigYaml('dim: 8\nlr: -1\n', 'c.yaml'),
    'c.yaml:2: lr must be a positive number (got -1)',
  );
  failsWith(
    () => parseBackboneConfigYaml('model: dmf\nuserHidden: 32\n', 'c.yaml'),
    'c.yaml:2: userHidden must be a non-empty list of positive integers (got 32)',
  );
  failsWith(
    () => parseBackboneConfigYaml('model: svd\n', 'c.yaml'),
    'c.yaml:1: model must be one of bpr, dmf, multivae, mostpop, random (got "svd")',
  );
  failsWith(
    () => parseBackboneConfigYaml('validK: 5\n', 'c.yaml'),
    "c.yaml:1: unknown key 'validK' for model bpr " +
      '(allowed: model, dim, lr, weightDecay, batchSize, epochs, patience, seed, optimizer)',
  );
  failsWith(
    () => parseBackboneConfigYaml('- dim\n', 'c.yaml'),
    'c.yaml:1: the configuration must be a mapping of keys to values',
  );
  assert.throws(() => parseBackboneConfigYaml('dim: [8\n', 'c.yaml'), /^InputError: c\.yaml:\d+: invalid YAML/);
  assert.throws(
    () => readBackboneConfigFile('no/such.yaml'),
    /^InputError: no\/such\.yaml: cannot read the configuration: no such file$/,
  );
});
