import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trainMultiVae } from '../../src/train/multivae-trainer.js';
import { trainBackbone } from '../../src/train/train-any.js';
import { clusters } from '../helpers/csr.js';

test('MultiVAE training learns the clusters, deterministically', () => {
  const data = clusters();
  const cfg = {
    hidden: [32],
    latent: 8,
    batchSize: 16,
    epochs: 20,
    patience: 20,
    seed: 3,
    lr: 0.003,
    totalAnnealSteps: 100,
  };
  const a = trainMultiVae(data, cfg);
  const b = trainMultiVae(data, cfg);
  assert.deepEqual(a.model.parameters()[0]!.value, b.model.parameters()[0]!.value);
  const h = a.history;
  assert.ok(h[h.length - 1]!.loss < h[0]!.loss - 1, `loss ${h[0]!.loss} → ${h[h.length - 1]!.loss}`);
  assert.ok(a.bestValidNdcg > 0.3, `best valid NDCG ${a.bestValidNdcg}`);
  const s = a.model.scoreAll(new Int32Array([1]));
  let inA = 0,
    inB = 0;
  for (let j = 1; j <= 20; j++) inA += s[j]!;
  for (let j = 21; j <= 40; j++) inB += s[j]!;
  assert.ok(inA > inB);
  const r = trainBackbone('multivae', data, { ...cfg, epochs: 1 });
  assert.equal(r.model.type, 'multivae');
});
