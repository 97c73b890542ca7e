/** Grid and experiments files: expansion, reference naming, and every bad input. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  loadExperimentsFile,
  loadGridFile,
  parseExperimentsText,
  parseGridText,
  MAX_POINTS,
} from '../../src/experiments/grid.js';
import { experimentName, pyFloat } from '../../src/experiments/experiment-naming.js';
import { isValidExperimentName } from '../../src/store/experiment-name.js';
import { DEFAULT_FINETUNE_CONFIG } from '../../src/calibration/finetune-config.js';
import { UserError } from '../../src/util/errors.js';

const tmp = mkdtempSync(join(tmpdir(), 'calitune-grid-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

function userError(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UserError, `expected a UserError, got ${String(e)}`);
    assert.match((e as Error).message, re);
    return true;
  });
}

test('pyFloat writes numbers as Python str(float) does', () => {
  assert.equal(pyFloat(0), '0.0');
  assert.equal(pyFloat(1), '1.0');
  assert.equal(pyFloat(0.5), '0.5');
  assert.equal(pyFloat(0.0001), '0.0001');
  assert.equal(pyFloat(1e-5), '1e-05');
  assert.equal(pyFloat(2.5e-7), '2.5e-07');
  assert.equal(pyFloat(1e30), '1e+30');
  assert.equal(pyFloat(0.001), '0.001');
});

test('experiment names follow the reference: c{α}__{frozen|unfrozen}_itememb__selection_{s}__k{k}__lr{lr}', () => {
  const c = { ...DEFAULT_FINETUNE_CONFIG, combined_mode_alpha: 0.5, k_candidates: 100 };
  assert.equal(experimentName(c), 'c0.5__frozen_itememb__selection_relevance__k100__lr0.0001');
  assert.equal(
    experimentName({
      ...c,
      combined_mode_alpha: 1,
      freeze_item_emb: false,
      candidate_selection: 'random',
      learning_rate: 1e-5,
    }),
    'c1.0__unfrozen_itememb__selection_random__k100__lr1e-05',
  );
  // other varied keys are appended; '+' is dropped from exponents
  assert.equal(
    experimentName({ ...c, train_batch_size: 32, learning_rate: 1e30 }, ['train_batch_size', 'k_candidates']),
    'c0.5__frozen_itememb__selection_relevance__k100__lr1e30__train_batch_size32',
  );
  assert.ok(isValidExperimentName('c0.5__frozen_itememb__selection_relevance__k100__lr1e-05'));
  assert.ok(!isValidExperimentName('base'));
  assert.ok(!isValidExperimentName('a/b'));
});

test('the example grid expands to its 12 points on top of the example config', () => {
  const plan = loadGridFile(join(process.cwd(), 'examples', 'ml-100k-grid.yaml'));
  assert.equal(plan.kind, 'grid');
  assert.equal(plan.points.length, 12);
  assert.equal(plan.keep, 'frontier');
  assert.deepEqual(
    plan.axes!.map((a) => a.key),
    ['combined_mode_alpha', 'freeze_item_emb', 'k_candidates'],
  );
  assert.equal(plan.points[0]!.name, 'c0.0__frozen_itememb__selection_relevance__k50__lr0.0001');
  assert.equal(plan.points[1]!.name, 'c0.0__frozen_itememb__selection_relevance__k100__lr0.0001');
  assert.equal(plan.points[11]!.name, 'c1.0__unfrozen_itememb__selection_relevance__k100__lr0.0001');
  assert.equal(new Set(plan.points.map((p) => p.name)).size, 12);
  const p = plan.points.find((x) => x.name === 'c0.5__unfrozen_itememb__selection_relevance__k100__lr0.0001')!;
  assert.deepEqual(p.varied, { combined_mode_alpha: 0.5, freeze_item_emb: false, k_candidates: 100 });
  assert.deepEqual(p.config, {
    ...DEFAULT_FINETUNE_CONFIG,
    combined_mode_alpha: 0.5,
    freeze_item_emb: false,
    k_candidates: 100,
  });
});

test('grid: inline base, a scalar as a one-value list (config, not name), base file relative to the grid file', () => {
  const plan = parseGridText(
    'base:\n  num_epochs: 7\n  device: cpu\n' +
      'grid:\n  learning_rate: [0.001, 0.01]\n  train_batch_size: 32\n  num_epochs: [300]\n',
  );
  assert.equal(plan.points.length, 2);
  assert.equal(plan.points[0]!.config.num_epochs, 300);
  assert.equal(plan.points[1]!.config.train_batch_size, 32);
  // one-value keys are shared settings: they do not go into the point names
  assert.equal(plan.points[1]!.name, 'c0.5__frozen_itememb__selection_relevance__k50__lr0.01');
  assert.ok(plan.notes.some((n) => n.includes("'device' is ignored")));
  writeFileSync(join(tmp, 'base.yaml'), 'num_epochs: 3\ncombined_mode_alpha: 1.0\n');
  writeFileSync(join(tmp, 'g.yaml'), 'base: base.yaml\ngrid:\n  freeze_item_emb: [true, false]\n');
  const p2 = loadGridFile(join(tmp, 'g.yaml'));
  assert.deepEqual(
    p2.points.map((p) => [p.name, p.config.num_epochs]),
    [
      ['c1.0__frozen_itememb__selection_relevance__k50__lr0.0001', 3],
      ['c1.0__unfrozen_itememb__selection_relevance__k50__lr0.0001', 3],
    ],
  );
});

test('grid bad input: unknown key, empty list, bad value, duplicates, too many points without yes', () => {
  userError(
    () => parseGridText('grid:\n  alpha: [0.5]\n', 'g.yaml'),
    /g\.yaml:2: grid key 'alpha' is not a fine-tuning config key/,
  );
  userError(
    () => parseGridText('grid:\n  data_path: [a]\n', 'g.yaml'),
    /grid key 'data_path' is not a fine-tuning config key \('data_path' is a reference key we ignore/,
  );
  userError(
    () => parseGridText('grid:\n  combined_mode_alpha: []\n', 'g.yaml'),
    /g\.yaml:2: grid key 'combined_mode_alpha' has an empty list of values/,
  );
  userError(
    () => parseGridText('grid:\n  combined_mode_alpha: [0.5, 2]\n', 'g.yaml'),
    /combined_mode_alpha': got 2, expected a number ≥ 0 ≤ 1/,
  );
  userError(() => parseGridText('grid:\n  k_candidates: [50, 50]\n', 'g.yaml'), /lists 50 twice/);
  userError(() => parseGridText('grid: {}\n', 'g.yaml'), /lists no keys/);
  userError(() => parseGridText('base: {}\n', 'g.yaml'), /needs 'grid:'/);
  userError(
    () => parseGridText('grid:\n  k_candidates: [5]\nworkers: 2\n', 'g.yaml'),
    /g\.yaml:3: unknown key 'workers'/,
  );
  userError(
    () => parseGridText('base:\n  nope: 1\ngrid:\n  k_candidates: [5]\n', 'g.yaml'),
    /g\.yaml:2: unknown config key 'nope'/,
  );
  userError(() => loadGridFile(join(tmp, 'missing.yaml')), /cannot read the grid file: no such file/);
  // 101 × 100 = 10,100 points > MAX_POINTS
  const big =
    `grid:\n  random_seed: [${Array.from({ length: 101 }, (_, i) => i).join(', ')}]\n` +
    `  k_candidates: [${Array.from({ length: 100 }, (_, i) => i + 1).join(', ')}]\n`;
  userError(
    () => parseGridText(big, 'big.yaml'),
    /the grid has 10,100 points \(101 × 100\), more than 10,000: pass allowLarge to run it anyway/,
  );
  assert.ok(10_100 > MAX_POINTS);
  const plan = parseGridText(big, 'big.yaml', { allowLarge: true });
  assert.equal(plan.points.length, 10_100);
  assert.equal(new Set(plan.points.map((p) => p.name)).size, 10_100);
});

test('experiments file: names, file and inline configs, set overrides; duplicate names are an error', () => {
  const plan = loadExperimentsFile(join(process.cwd(), 'examples', 'ml-100k-experiments.yaml'));
  assert.deepEqual(
    plan.points.map((p) => p.name),
    ['c0.5_frozen', 'c0.5_unfrozen', 'c1.0_frozen', 'c1.0_unfrozen'],
  );
  assert.deepEqual(plan.points[3]!.config, {
    ...DEFAULT_FINETUNE_CONFIG,
    combined_mode_alpha: 1,
    freeze_item_emb: false,
  });
  const p2 = parseExperimentsText(
    'base:\n  num_epochs: 9\nexperiments:\n  - name: a\n' +
      '  - name: b\n    config: {combined_mode_alpha: 0.2}\n    set: {num_epochs: 4}\n',
  );
  assert.deepEqual(
    p2.points.map((p) => [p.name, p.config.num_epochs, p.config.combined_mode_alpha]),
    [
      ['a', 9, 0.5],
      ['b', 4, 0.2],
    ],
  );
  userError(
    () => parseExperimentsText('experiments:\n  - name: a\n  - name: b\n  - name: a\n', 'e.yaml'),
    /e\.yaml:4: two experiments are named 'a' \(lines 2 and 4\)/,
  );
  userError(() => parseExperimentsText('experiments:\n  - name: base\n', 'e.yaml'), /experiment name 'base'/);
  userError(() => parseExperimentsText('experiments:\n  - name: x/y\n', 'e.yaml'), /may only use letters/);
  userError(() => parseExperimentsText('experiments:\n  - config: {}\n', 'e.yaml'), /has no 'name'/);
  userError(() => parseExperimentsText('experiments: []\n', 'e.yaml'), /non-empty list/);
  userError(
    () => parseExperimentsText('experiments:\n  - name: a\n    config: {learning_rate: -1}\n', 'e.yaml'),
    /e\.yaml:3: config key 'learning_rate'/,
  );
  userError(
    () => parseExperimentsText('experiments:\n  - name: a\n    config: nofile.yaml\n', join(tmp, 'e.yaml')),
    /cannot read the fine-tuning config/,
  );
});
