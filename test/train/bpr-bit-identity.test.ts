/**
 * BPR's weights and epoch log for a fixed seed, pinned by sha256. The hashes were recorded
 * from the trainer before it moved onto the shared EpochLoop; any change to the arithmetic,
 * the sampling order or the best-epoch bookkeeping changes them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Rng } from '../../src/math/rng.js';
import { NATIVE_ADAM_MIN, nativeAdamKernel } from '../../src/nn/adam.js';
import { nativeBprKernel } from '../../src/train/bpr-native-kernel.js';
import { trainBpr } from '../../src/train/bpr-trainer.js';
import { skipOrFailOnCi } from '../helpers/ci.js';
import { csr } from '../helpers/csr.js';

/** 60 users, 30 items in two taste clusters, a valid item for most users. */
function smallData() {
  const nUsers = 61,
    nItems = 31;
  const rng = new Rng(17);
  const train: number[][] = [[]],
    valid: number[][] = [[]];
  for (let u = 1; u < nUsers; u++) {
    const base = u <= 30 ? 1 : 16;
    const items = [...rng.permutation(15).subarray(0, 7)].map((i) => base + i);
    valid.push(u % 5 === 0 ? [] : [items[0]!]);
    train.push(u % 5 === 0 ? items : items.slice(1));
  }
  return { nUsers, nItems, train: csr(nItems, train), valid: csr(nItems, valid) };
}

function digest(r: ReturnType<typeof trainBpr>): string {
  const h = createHash('sha256');
  for (const p of r.model.parameters()) h.update(Buffer.from(p.value.buffer, p.value.byteOffset, p.value.byteLength));
  h.update(Float64Array.from(r.history.flatMap((e) => [e.loss, e.lossSum, e.validNdcg])));
  h.update(JSON.stringify([r.bestEpoch, r.epochsRun, r.stoppedEarly]));
  return h.digest('hex');
}

const CONFIG = { dim: 8, lr: 0.02, batchSize: 32, epochs: 2, patience: 5, seed: 11 };

test('BPR: 2 epochs on small data give the recorded weights and log, on 1 and 2 threads', () => {
  const data = smallData();
  const one = trainBpr(data, CONFIG, { threads: 1 });
  const two = trainBpr(data, CONFIG, { threads: 2 });
  assert.equal(one.epochsRun, 2);
  assert.equal(digest(one), digest(two));
  assert.equal(digest(one), 'd74e477dec8b124c2950836457f77bcef5a17c29912f6ee461e1c593f12f9962');
});

test('BPR: early stopping restores the recorded best epoch (2 of 5)', () => {
  const r = trainBpr(smallData(), { ...CONFIG, lr: 0.3, epochs: 12, patience: 1 }, { threads: 1 });
  assert.deepEqual([r.bestEpoch, r.epochsRun, r.stoppedEarly], [2, 5, true]);
  assert.equal(digest(r), '9a8799d7b4ec7ad67ae076bf2b90257f000fb7e1e7191a6e696f415aa4b71986');
});

test('BPR: the native kernels (forward/backward, Adam) and the TypeScript loops give the same bits', (t) => {
  if (!nativeAdamKernel() || !nativeBprKernel()) {
    skipOrFailOnCi(t, 'native binding without adamStep / bprScores (npm run build:native)');
    return;
  }
  const data = smallData();
  // dim 160 and 137 (odd: the dot products' last column): each half of the user table is above
  // NATIVE_ADAM_MIN, so the Adam kernel runs too
  for (const dim of [160, 137]) {
    const cfg = { ...CONFIG, dim, epochs: 3 };
    assert.ok((data.nUsers * cfg.dim) / 2 >= NATIVE_ADAM_MIN);
    const ts = digest(trainBpr(data, cfg, { threads: 1, native: false }));
    assert.equal(digest(trainBpr(data, cfg, { threads: 1 })), ts, `dim ${dim}, 1 thread`);
    assert.equal(digest(trainBpr(data, cfg, { threads: 2 })), ts, `dim ${dim}, 2 threads`);
    assert.equal(digest(trainBpr(data, cfg, { threads: 2, native: false })), ts);
  }
});
