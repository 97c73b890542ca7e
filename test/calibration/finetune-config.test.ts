import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEFAULT_FINETUNE_CONFIG,
  loadFinetuneConfig,
  parseFinetuneConfigYaml,
  validateFinetuneConfig,
  checkFinetuneConfigForData,
  calibrationAlpha,
  applyOverrides,
} from '../../src/calibration/finetune-config.js';
import { UserError } from '../../src/util/errors.js';

const REFERENCE_YAML = `random_seed: 111
data_path: 'data'
splits_folder: 'splits'
device: 'cuda:0'
model: 'CaliBPR'
num_epochs: 500
train_batch_size: 16
valid_batch_size: 100
learning_rate: 0.0001
schedule_lr: True
lr_scheduler_step_size: 20
lr_scheduler_gamma: 0.9
loss_param: 'kl'
freeze_item_emb: True
finetuning_mode: 'combined'
combined_mode_alpha: 0.5
candidate_selection: 'relevance'
k_candidates: 50
regenerate_candidates: True
remove_valid_items: True
top_k_ndcg: 10
early_stopping_patience: 25
target_metric: 'any'
model_save_interval: 1
`;

function userErr(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof UserError && re.test(e.message), `expected UserError matching ${re}`);
}

test('the reference ML-100K config parses to the defaults, ignoring path/device keys with notes', () => {
  const { config, notes } = parseFinetuneConfigYaml(REFERENCE_YAML, 'ref.yaml');
  assert.deepEqual(config, DEFAULT_FINETUNE_CONFIG);
  assert.equal(notes.length, 5);
  assert.ok(notes.some((n) => n.includes("'device' is ignored")));
  assert.ok(notes.some((n) => n.includes("'data_path' is ignored")));
  assert.equal(calibrationAlpha(config), 0.5);
});

test('the shipped example file equals the reference config', () => {
  const { config, notes } = loadFinetuneConfig(join(process.cwd(), 'examples', 'ml-100k-finetune.yaml'));
  assert.deepEqual(config, DEFAULT_FINETUNE_CONFIG);
  assert.deepEqual(notes, []);
});

test('the DMF example files differ from the reference config only where their comments say', () => {
  const tower = loadFinetuneConfig(join(process.cwd(), 'examples', 'ml-100k-dmf-finetune.yaml'));
  assert.deepEqual(tower.config, { ...DEFAULT_FINETUNE_CONFIG, learning_rate: 2e-5, freeze_item_emb: false });
  const adapter = loadFinetuneConfig(join(process.cwd(), 'examples', 'ml-100k-dmf-adapter.yaml'));
  assert.deepEqual(adapter.config, { ...DEFAULT_FINETUNE_CONFIG, learning_rate: 1e-3, user_adapter: true });
  assert.deepEqual([...tower.notes, ...adapter.notes], []);
});

test('defaults fill missing keys; empty file is all defaults; loss_param is case-folded', () => {
  assert.deepEqual(parseFinetuneConfigYaml('', 'e.yaml').config, DEFAULT_FINETUNE_CONFIG);
  const c = parseFinetuneConfigYaml('loss_param: KL\nk_candidates: 100\n').config;
  assert.equal(c.loss_param, 'kl');
  assert.equal(c.k_candidates, 100);
  assert.equal(c.train_batch_size, 16);
});

test('unknown key → UserError naming the key, its line and the allowed keys', () => {
  userErr(
    () => parseFinetuneConfigYaml('num_epochs: 3\nlearning_rat: 0.1\n', 'c.yaml'),
    /c\.yaml:2: unknown config key 'learning_rat'; allowed keys: random_seed, num_epochs/,
  );
});

test('wrong types and out-of-range values → UserError naming the key and the allowed values', () => {
  userErr(
    () => parseFinetuneConfigYaml('target_metric: best\n', 'c.yaml'),
    /c\.yaml:1: config key 'target_metric': got 'best', expected one of 'any', 'ndcg', 'pop_jsd', 'tradeoff'/,
  );
  userErr(() => parseFinetuneConfigYaml('a: 1\nfreeze_item_emb: yes please\n', 'c.yaml'), /unknown config key 'a'/);
  userErr(
    () => parseFinetuneConfigYaml('freeze_item_emb: "yes"\n', 'c.yaml'),
    /'freeze_item_emb': got 'yes', expected true or false/,
  );
  userErr(
    () => parseFinetuneConfigYaml('combined_mode_alpha: 1.5\n', 'c.yaml'),
    /'combined_mode_alpha': got 1\.5, expected a number ≥ 0 ≤ 1/,
  );
  userErr(() => parseFinetuneConfigYaml('combined_mode_alpha: -0.1\n'), /combined_mode_alpha/);
  userErr(() => parseFinetuneConfigYaml('train_batch_size: 0\n'), /'train_batch_size': got 0, expected an integer ≥ 1/);
  userErr(() => parseFinetuneConfigYaml('k_candidates: 2.5\n'), /'k_candidates': got 2\.5, expected an integer/);
  userErr(() => parseFinetuneConfigYaml('finetuning_mode: both\n'), /one of 'combined', 'pop', 'rec'/);
  userErr(() => parseFinetuneConfigYaml('candidate_selection: popular\n'), /one of 'relevance', 'random'/);
  userErr(() => parseFinetuneConfigYaml('loss_param: mse\n'), /'loss_param': got 'mse', expected one of 'kl'/);
  userErr(() => parseFinetuneConfigYaml('learning_rate: 0\n'), /'learning_rate'.*> 0/);
  userErr(() => parseFinetuneConfigYaml('- 1\n- 2\n', 'l.yaml'), /l\.yaml:1: the fine-tuning config must be a mapping/);
  userErr(() => validateFinetuneConfig({ num_epochs: '10' }), /'num_epochs': got '10', expected an integer ≥ 1/);
});

test('missing file and unparsable YAML → UserError naming the file (and line)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ftcfg-'));
  try {
    userErr(
      () => loadFinetuneConfig(join(dir, 'nope.yaml')),
      /nope\.yaml: cannot read the fine-tuning config: no such file/,
    );
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'num_epochs: 3\nk_candidates: [1, 2\nseed: 4\n');
    userErr(() => loadFinetuneConfig(bad), /bad\.yaml:\d+: invalid YAML/);
    const bad2 = join(dir, 'bad2.yaml');
    writeFileSync(bad2, 'num_epochs: 3\ntop_k_ndcg: 10\nnum_epochs: 4\n');
    userErr(() => loadFinetuneConfig(bad2), /bad2\.yaml:3: invalid YAML: Map keys must be unique/);
    writeFileSync(bad2, 'num_epochs: 3\ntop_k_ndcg: 10\nfoo: bar: baz\n');
    userErr(() => loadFinetuneConfig(bad2), /bad2\.yaml:3: invalid YAML/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--set overrides: YAML scalars, unknown key rejected, validated like the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ftcfg-'));
  try {
    const f = join(dir, 'c.yaml');
    writeFileSync(f, 'combined_mode_alpha: 0.5\nfreeze_item_emb: true\n');
    const { config } = loadFinetuneConfig(f, [
      'combined_mode_alpha=1.0',
      'freeze_item_emb=false',
      'candidate_selection=random',
      'num_epochs=7',
    ]);
    assert.equal(config.combined_mode_alpha, 1);
    assert.equal(config.freeze_item_emb, false);
    assert.equal(config.candidate_selection, 'random');
    assert.equal(config.num_epochs, 7);
    userErr(() => loadFinetuneConfig(f, ['alpha=1']), /unknown config key 'alpha'/);
    userErr(() => loadFinetuneConfig(f, ['combined_mode_alpha']), /key=value/);
    userErr(() => loadFinetuneConfig(f, ['combined_mode_alpha=2']), /c\.yaml: config key 'combined_mode_alpha': got 2/);
    assert.deepEqual(applyOverrides({}, ['device=cpu']), { device: 'cpu' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('k_candidates ≤ number of items (given the dataset); modes map to α', () => {
  const c = { ...DEFAULT_FINETUNE_CONFIG };
  checkFinetuneConfigForData(c, 1683);
  userErr(
    () => checkFinetuneConfigForData({ ...c, k_candidates: 1683 }, 1683),
    /'k_candidates': 1683 is more than the 1682 items/,
  );
  checkFinetuneConfigForData({ ...c, k_candidates: 1682 }, 1683);
  assert.equal(calibrationAlpha({ finetuning_mode: 'rec', combined_mode_alpha: 0.5 }), 0);
  assert.equal(calibrationAlpha({ finetuning_mode: 'pop', combined_mode_alpha: 0.5 }), 1);
});
