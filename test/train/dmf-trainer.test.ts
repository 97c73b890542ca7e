import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/math/rng.js';
import { trainDmf } from '../../src/train/dmf-trainer.js';
import { attachTrainData, trainBackbone } from '../../src/train/train-any.js';
import { DmfModel } from '../../src/models/dmf.js';
import { USER_ADAPTER_TENSOR } from '../../src/models/recommender.js';
import { readSafetensors } from '../../src/models/safetensors.js';
import { readNpy } from '../../src/data/npy.js';
import { recommendationLists } from '../../src/eval/base-lists.js';
import { UserError } from '../../src/util/errors.js';
import { clusters } from '../helpers/csr.js';

test('DMF towers that end at different sizes are a UserError', () => {
  assert.throws(() => trainDmf(clusters(), { userHidden: [8], itemHidden: [4], epochs: 1 }), /do not chain/);
});

test('DMF training learns the clusters, deterministically, with finite scores for the unseen item', () => {
  const data = clusters();
  const cfg = {
    embeddingSize: 16,
    userHidden: [16, 8],
    itemHidden: [8],
    lr: 0.03,
    batchSize: 128,
    epochs: 20,
    patience: 20,
    seed: 3,
  };
  const a = trainDmf(data, cfg);
  const b = trainDmf(data, cfg);
  assert.deepEqual(a.model.parameters()[0]!.value, b.model.parameters()[0]!.value);
  assert.deepEqual(
    a.history.map((h) => h.loss),
    b.history.map((h) => h.loss),
  );
  const h = a.history;
  assert.ok(Math.abs(h[0]!.loss - Math.LN2) < 0.05, `first loss ${h[0]!.loss}`);
  assert.ok(h[h.length - 1]!.loss < h[0]!.loss - 0.02, `loss ${h[0]!.loss} → ${h[h.length - 1]!.loss}`);
  // chance NDCG@10 for 1 relevant among ~33 unseen items is ≈ 0.1; the clusters make it far higher
  assert.ok(a.bestValidNdcg > 0.3, `best valid NDCG ${a.bestValidNdcg}`);
  const s = a.model.scoreAll(new Int32Array([1, 50]));
  for (const v of s) assert.ok(Number.isFinite(v) && v >= 0 && v <= 1);
  // user 1 (cluster A) prefers cluster-A items on average
  let inA = 0,
    inB = 0;
  for (let j = 1; j <= 20; j++) inA += s[j]!;
  for (let j = 21; j <= 40; j++) inB += s[j]!;
  assert.ok(inA > inB);
  // the best weights are restored
  assert.equal(a.bestValidNdcg, Math.max(...h.map((e) => e.validNdcg)));
});

test('trainBackbone dispatches; attachTrainData makes a loaded model usable', () => {
  const data = clusters();
  const r = trainBackbone('dmf', data, {
    embeddingSize: 8,
    userHidden: [8],
    lr: 0.01,
    batchSize: 256,
    epochs: 2,
    seed: 1,
  });
  assert.equal(r.model.type, 'dmf');
  assert.equal(r.epochsRun, 2);
  const fresh = new DmfModel(r.model.hyper, 0);
  assert.throws(() => fresh.scoreAll(new Int32Array([1])), /setTrainMatrix/);
  attachTrainData(fresh, data.train);
  assert.equal(fresh.scoreAll(new Int32Array([1])).length, 42);
  const pop = trainBackbone('mostpop', data);
  assert.equal(pop.epochsRun, 0);
  let item1 = 0;
  for (let q = 0; q < data.train.indices.length; q++) if (data.train.indices[q] === 1) item1++;
  assert.equal(pop.model.scoreAll(new Int32Array([1]))[1], item1);
  assert.throws(() => trainBackbone('nope', data), UserError);
});

test('CLI: tiny DMF and MultiVAE train, evaluate, fine-tune, load for serving, no model-specific call', async () => {
  const { mkdtempSync, rmSync, writeFileSync, readFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { runCaptured } = await import('../../src/cli/run-captured.js');
  const { loadServingModel } = await import('../../src/serve/serving-model.js');
  process.env.CALITUNE_QUIET = '1';
  const tmp = mkdtempSync(join(tmpdir(), 'calitune-backbones-cli-'));
  try {
    const rng = new Rng(4);
    const lines = ['user_id:token\titem_id:token\trating:float\ttimestamp:float'];
    for (let u = 1; u <= 60; u++) {
      const seen = new Set<number>();
      while (seen.size < 8 + (u % 7)) seen.add(1 + Math.floor(Math.pow(rng.nextFloat(), 2) * 40));
      for (const i of seen) lines.push(`u${u}\ti${i}\t1\t${u}`);
    }
    const data = join(tmp, 'tiny.inter');
    writeFileSync(data, lines.join('\n') + '\n');
    const cfg = join(tmp, 'ft.yaml');
    // accuracy_floor 0: a 2-epoch backbone on a tiny log has a valid NDCG too noisy for a floor;
    // this test is about the plumbing of every model type, not about the collapse guard.
    writeFileSync(
      cfg,
      'random_seed: 1\nnum_epochs: 2\ntrain_batch_size: 16\nlearning_rate: 0.001\nfreeze_item_emb: false\n' +
        'finetuning_mode: combined\ncombined_mode_alpha: 0.5\nk_candidates: 10\nearly_stopping_patience: 5\n' +
        'accuracy_floor: 0\n',
    );
    for (const [type, extra] of [
      ['dmf', ['--embedding-size', '8', '--hidden', '8']],
      ['multivae', ['--hidden', '8', '--latent', '4']],
    ] as const) {
      const run = join(tmp, type);
      let r = await runCaptured(['train', '--run', run, '--data', data, '--model', type, '--epochs', '2', ...extra]);
      assert.equal(r.code, 0, r.err);
      r = await runCaptured(['evaluate', '--run', run]);
      assert.equal(r.code, 0, `${type} evaluate: ${r.err}`);
      r = await runCaptured(['prepare', '--run', run]);
      assert.equal(r.code, 0, r.err);
      r = await runCaptured(['finetune', '--run', run, '--config', cfg, '--name', 'ft', '--keep', 'all']);
      assert.equal(r.code, 0, `${type} finetune: ${r.err}`);
      r = await runCaptured(['evaluate', '--run', run, '--experiment', 'ft']);
      assert.equal(r.code, 0, `${type} evaluate --experiment: ${r.err}`);
      const res = JSON.parse(readFileSync(join(run, 'results', 'ft.json'), 'utf8')) as {
        base_recommendations: { ndcg: number };
        finetuned: Record<string, { ndcg: number; jsd: number }>;
      };
      assert.ok(Number.isFinite(res.base_recommendations.ndcg));
      assert.ok(Object.keys(res.finetuned).length >= 1);
      for (const v of Object.values(res.finetuned)) assert.ok(Number.isFinite(v.ndcg) && Number.isFinite(v.jsd));
      // serving: base model and a checkpoint load with their train data attached, and score
      for (const sm of [loadServingModel(run), loadServingModel(run, { experiment: 'ft', mode: 'any' })]) {
        assert.equal(sm.model.type, type);
        const s = sm.model.scoreAll(new Int32Array([1, 2]));
        assert.equal(s.length, 2 * sm.model.nItems);
        assert.ok(s.every((x) => Number.isFinite(x)));
      }
      // user_adapter: DMF trains a per-user offset (the checkpoint holds it, serving applies it);
      // MultiVAE has none and says so
      r = await runCaptured([
        'finetune',
        '--run',
        run,
        '--config',
        cfg,
        '--name',
        'ad',
        '--keep',
        'all',
        '--set',
        'user_adapter=true',
        '--set',
        'learning_rate=0.01',
        '--json',
      ]);
      if (type === 'multivae') {
        assert.equal(r.code, 2, r.err);
        assert.match(r.err, /user_adapter.*multivae model has none/);
        continue;
      }
      assert.equal(r.code, 0, `${type} finetune --set user_adapter=true: ${r.err}`);
      const summary = JSON.parse(r.out) as { trainableTensors: string[]; selected: { any: { epoch: number } } };
      assert.deepEqual(
        summary.trainableTensors.filter((n) => !n.startsWith('item')),
        [USER_ADAPTER_TENSOR],
      );
      const ep = summary.selected.any.epoch;
      const ck = readSafetensors(join(run, 'experiments', 'ad', 'checkpoints', `epoch_${ep}`, 'weights.safetensors'));
      assert.ok(ck.tensors.has(USER_ADAPTER_TENSOR) && !ck.tensors.has('user_linear.weight'));
      const sm = loadServingModel(run, { experiment: 'ad', mode: 'any' });
      const served = recommendationLists(sm.model, sm.ds, 'test', 10);
      const stored = readNpy(join(run, 'experiments', 'ad', 'checkpoints', `epoch_${ep}`, 'test_lists.npy'));
      assert.deepEqual(
        Array.from(served),
        Array.from(stored.data as Int32Array),
        'served lists = the lists stored at fine-tuning time',
      );
      const baseLists = recommendationLists(loadServingModel(run).model, sm.ds, 'test', 10);
      assert.notDeepEqual(Array.from(served), Array.from(baseLists), 'the adapter changed the lists');
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
