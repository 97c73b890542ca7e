import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseYamlInput, yamlToJs } from '../../src/util/yaml-input.js';
import { parseBackboneConfig } from '../../src/train/configs/index.js';
import { parseSearchSpace, sampleTrials, type SearchSpace } from '../../src/tune/search-space.js';
import { InputError } from '../../src/util/errors.js';
import type { ModelType } from '../../src/models/recommender.js';

const yaml = (text: string) => yamlToJs(parseYamlInput(text, 'space.yaml'));

const BPR_SPACE = `
lr: {loguniform: [1.0e-4, 1.0e-2]}
dim: [64, 128, 256]
weightDecay: {uniform: [0, 0.001]}
batchSize: {int: [512, 8192], log: true}
patience: {int: [3, 5]}
`;

test('a search space reads lists, uniform, loguniform and integer ranges, in the schema order', () => {
  const space = parseSearchSpace('bpr', yaml(BPR_SPACE));
  assert.deepEqual(space, {
    model: 'bpr',
    dimensions: [
      { key: 'dim', dimension: { kind: 'choice', values: [64, 128, 256] } },
      { key: 'lr', dimension: { kind: 'loguniform', lo: 1e-4, hi: 1e-2 } },
      { key: 'weightDecay', dimension: { kind: 'uniform', lo: 0, hi: 0.001 } },
      { key: 'batchSize', dimension: { kind: 'int', lo: 512, hi: 8192, log: true } },
      { key: 'patience', dimension: { kind: 'int', lo: 3, hi: 5, log: false } },
    ],
  });
  const dmf = parseSearchSpace('dmf', { userHidden: [[64], [128, 64]], negSamples: [1, 4] });
  assert.deepEqual(dmf.dimensions[0], { key: 'userHidden', dimension: { kind: 'choice', values: [[64], [128, 64]] } });
});

test('the same seed gives the same trials; another seed other trials; every trial is a valid configuration', () => {
  const space = parseSearchSpace('bpr', yaml(BPR_SPACE));
  const a = sampleTrials(space, 24, 7);
  assert.deepEqual(sampleTrials(space, 24, 7), a);
  assert.deepEqual(sampleTrials(space, 5, 7), a.slice(0, 5), 'a prefix of a longer draw');
  const b = sampleTrials(space, 24, 8);
  assert.notDeepEqual(b, a);
  assert.ok(a.every((t, i) => t.lr !== b[i]!.lr));
  for (const t of a) {
    assert.deepEqual(Object.keys(t), ['dim', 'lr', 'weightDecay', 'batchSize', 'patience']);
    assert.ok([64, 128, 256].includes(t.dim as number));
    assert.ok((t.lr as number) >= 1e-4 && (t.lr as number) < 1e-2);
    assert.ok((t.weightDecay as number) >= 0 && (t.weightDecay as number) < 0.001);
    assert.ok(Number.isInteger(t.batchSize) && (t.batchSize as number) >= 512 && (t.batchSize as number) <= 8192);
    parseBackboneConfig('bpr', t);
  }
  // the key order in the file does not change the trials
  const reordered = parseSearchSpace('bpr', yaml(BPR_SPACE.split('\n').reverse().join('\n')));
  assert.deepEqual(sampleTrials(reordered, 24, 7), a);
});

test('integer ranges are inclusive at both ends; log scale favours the small end', () => {
  const space = parseSearchSpace('bpr', { patience: { int: [3, 5] }, dim: { int: [1, 1000], log: true } });
  const trials = sampleTrials(space, 600, 1);
  const patience = new Set(trials.map((t) => t.patience));
  assert.deepEqual([...patience].sort(), [3, 4, 5]);
  const small = trials.filter((t) => (t.dim as number) <= 31).length;
  // log-uniform over [1, 1001): P(dim ≤ 31) = log 32 / log 1001 ≈ 0.50 (uniform: 0.03)
  assert.ok(small > 240 && small < 360, `${small} of 600 at most 31`);
  const one = parseSearchSpace('bpr', { dim: { int: [8, 8], log: true }, lr: [0.5] });
  assert.deepEqual(sampleTrials(one, 3, 2), [
    { dim: 8, lr: 0.5 },
    { dim: 8, lr: 0.5 },
    { dim: 8, lr: 0.5 },
  ]);
});

function rejected(model: ModelType, input: unknown): InputError {
  try {
    parseSearchSpace(model, input);
  } catch (e) {
    assert.ok(e instanceof InputError, String(e));
    return e;
  }
  assert.fail(`accepted ${JSON.stringify(input)}`);
}

test('bad spaces are refused with an InputError naming the key and what is allowed', () => {
  const unknown = rejected('bpr', { hidden: [[64]] });
  assert.equal(unknown.field, 'hidden');
  assert.equal(
    unknown.message,
    "unknown key 'hidden' for model bpr (allowed: dim, lr, weightDecay, batchSize, epochs, patience, seed, optimizer)",
  );
  assert.equal(rejected('bpr', { validK: [5, 10] }).field, 'validK', 'a key runs leave at its default');
  const form = rejected('bpr', { lr: { normal: [0, 1] } });
  assert.equal(form.field, 'lr');
  assert.match(form.message, /^lr must be a non-empty list of values, \{uniform: \[lo, hi\]\}, .* \(got /);
  assert.equal(rejected('bpr', { lr: [] }).field, 'lr');
  assert.equal(rejected('bpr', { lr: 0.1 }).field, 'lr');
  assert.equal(rejected('bpr', { lr: { uniform: [0.1] } }).field, 'lr');
  assert.match(rejected('bpr', { lr: { loguniform: [0, 0.1] } }).message, /^lr: a log-scale range needs lo > 0/);
  assert.match(rejected('bpr', { dim: { int: [0, 8], log: true } }).message, /needs lo > 0 \(got 0\)/);
  assert.match(rejected('bpr', { lr: { uniform: [0.1, 0.1] } }).message, /^lr: the range needs lo < hi/);
  assert.match(rejected('bpr', { dim: { int: [9, 8] } }).message, /^dim: the range needs lo ≤ hi/);
  assert.match(rejected('bpr', { dim: { int: [8, 9.5] } }).message, /^dim: \{int: \[lo, hi\]\} needs integers/);
  assert.match(rejected('bpr', { dim: { uniform: [8, 64] } }).message, /^dim takes integers: use \{int: \[lo, hi\]\}/);
  // values and ends outside the schema's rule for the key
  const negative = rejected('bpr', { lr: [0.1, -1] });
  assert.equal(negative.field, 'lr');
  assert.equal(negative.message, 'lr must be a positive number (got -1), a value in the search space');
  assert.equal(rejected('bpr', { weightDecay: { uniform: [-1, 1] } }).field, 'weightDecay');
  assert.equal(rejected('bpr', { dim: [64, 0.5] }).field, 'dim');
  assert.equal(rejected('multivae', { dropout: { uniform: [0, 1] } }).field, 'dropout', 'dropout < 1');
  // layer sizes: a list of lists only
  assert.equal(rejected('dmf', { userHidden: [64, 128] }).field, 'userHidden');
  assert.match(rejected('dmf', { userHidden: { int: [64, 128] } }).message, /list of layer sizes/);
  // the space as a whole
  assert.equal(rejected('bpr', {}).field, undefined);
  assert.match(rejected('bpr', {}).message, /names no key/);
  assert.match(rejected('bpr', [1, 2]).message, /must be a mapping/);
  assert.equal(rejected('mostpop', { seed: [1] }).field, 'model');
});

test('sampling refuses a bad count or seed and trials the backbone rejects as a whole', () => {
  const space: SearchSpace = parseSearchSpace('bpr', { dim: [8] });
  const bad = [
    [0, 1, 'trials'],
    [2.5, 1, 'trials'],
    [2, 0.5, 'seed'],
  ] as const;
  for (const [n, seed, field] of bad)
    assert.equal(
      catchField(() => sampleTrials(space, n, seed)),
      field,
    );
  // DMF: each value fits alone, but 2 rows per batch cannot hold a positive and 4 negatives
  const dmf = parseSearchSpace('dmf', { batchSize: [2], negSamples: [4] });
  assert.throws(() => sampleTrials(dmf, 1, 1), /^InputError: trial 1 of the search space: batchSize 2 cannot hold/);
});

function catchField(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof InputError);
    return e.field;
  }
  assert.fail('no error');
}
