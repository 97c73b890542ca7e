import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../src/math/rng.js';
import {
  finetune,
  finetuneUsers,
  selectEpochs,
  tradeoffScore,
  type EpochLogRecord,
} from '../../src/calibration/finetuner.js';
import { readEpochLog } from '../../src/store/epoch-log.js';
import { LOG_FILE, RESUME_FILE, SUMMARY_FILE } from '../../src/store/experiment-files.js';
import { CheckpointStore } from '../../src/store/checkpoint-store.js';
import { experimentJournal } from '../../src/store/finetune-journal.js';
import { onParetoFront } from '../../src/selection/pareto.js';
import { candidateLabels, randomCandidates, relevanceCandidates } from '../../src/calibration/candidates.js';
import type { FinetuneConfig } from '../../src/calibration/finetune-config.js';
import { readSafetensors } from '../../src/models/safetensors.js';
import { readNpy } from '../../src/data/npy.js';
import { cfg, DotModel, makeValidator, makeWorld, N_ITEMS, N_USERS, type World } from '../helpers/finetune-world.js';
import { UserError } from '../../src/util/errors.js';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'calitune-ft-'));
}
const stripTimes = (r: EpochLogRecord) => ({ ...r, train_s: 0, regen_s: 0, valid_s: 0 });

test('finetuneUsers leaves out the padding user and users without train items; trade-off formula', () => {
  const w = makeWorld();
  const us = Array.from(finetuneUsers(w.data.train));
  assert.equal(us.length, 29);
  assert.ok(!us.includes(0) && !us.includes(7));
  assert.ok(Math.abs(tradeoffScore(0.2, 0.1, 0.25, 0.2)! - Math.sqrt(0.8) * Math.sqrt(2)) < 1e-12);
  assert.equal(tradeoffScore(0.2, 0, 0.25, 0.2), null);
});

test('candidates: relevance = top-k, item 0 masked, train items kept; random = distinct non-pad items; labels', () => {
  const w = makeWorld();
  const m = new DotModel(N_USERS, N_ITEMS, 4, 3);
  const users = Int32Array.from([1, 2, 3]);
  const c = relevanceCandidates(m, users, 10, 2);
  const s = m.scoreAll(users);
  for (let r = 0; r < 3; r++) {
    const row = Array.from(c.subarray(r * 10, r * 10 + 10));
    assert.ok(!row.includes(0));
    const sorted = Array.from({ length: N_ITEMS - 1 }, (_, i) => i + 1).sort(
      (a, b) => s[r * N_ITEMS + b]! - s[r * N_ITEMS + a]! || a - b,
    );
    assert.deepEqual(row, sorted.slice(0, 10));
  }
  const rnd = randomCandidates(new Rng(5), 50, N_ITEMS, 40);
  for (let r = 0; r < 50; r++) {
    const row = new Set(rnd.subarray(r * 40, r * 40 + 40));
    assert.equal(row.size, 40);
    assert.ok(!row.has(0) && [...row].every((i) => i >= 1 && i < N_ITEMS));
  }
  assert.deepEqual(randomCandidates(new Rng(5), 3, N_ITEMS, 5), randomCandidates(new Rng(5), 3, N_ITEMS, 5));
  assert.throws(() => randomCandidates(new Rng(1), 1, N_ITEMS, N_ITEMS), /k = 41/);
  const lab = candidateLabels(w.data.train, users, c, 10);
  for (let r = 0; r < 3; r++)
    for (let j = 0; j < 10; j++) {
      const u = users[r]!,
        item = c[r * 10 + j]!;
      const inTrain = Array.from(
        w.data.train.indices.subarray(w.data.train.indptr[u]!, w.data.train.indptr[u + 1]!),
      ).includes(item);
      assert.equal(lab[r * 10 + j], inTrain ? 1 : 0);
    }
});

test('fine-tuning: losses decrease (α = 0.5, unfrozen), log lines, summary, checkpoints', () => {
  const w = makeWorld();
  const dir = tmp();
  try {
    const m = new DotModel(N_USERS, N_ITEMS, 4, 3);
    const sink = new CheckpointStore(join(dir, 'ck'), 'all');
    const sum = finetune({
      model: m,
      config: cfg({ freeze_item_emb: false, num_epochs: 12 }),
      data: w.data,
      validate: makeValidator(w),
      journal: experimentJournal(dir),
      sink,
    });
    const log = readEpochLog(join(dir, LOG_FILE));
    assert.equal(log.length, sum.epochsRun + 1);
    assert.equal(log[0]!.epoch, 0);
    const first = log[1]!,
      last = log[log.length - 1]!;
    assert.ok(last.acc_loss! < first.acc_loss!, `accuracy loss ${first.acc_loss} → ${last.acc_loss}`);
    assert.ok(last.cal_loss! < first.cal_loss!, `calibration loss ${first.cal_loss} → ${last.cal_loss}`);
    assert.equal(sum.trainUsers, 29);
    assert.deepEqual(sum.trainableTensors, ['user_embedding.weight', 'item_embedding.weight']);
    assert.ok(existsSync(join(dir, SUMMARY_FILE)));
    // Every improvement has a checkpoint with both tensors and the lists.
    const improvedEpochs = log.filter((r) => r.improved.length > 0).map((r) => r.epoch);
    assert.deepEqual(sink.epochs(), improvedEpochs);
    const e = improvedEpochs[improvedEpochs.length - 1]!;
    const st = readSafetensors(join(dir, 'ck', `epoch_${e}`, 'weights.safetensors'));
    assert.deepEqual([...st.tensors.keys()], ['user_embedding.weight', 'item_embedding.weight']);
    const lists = readNpy(join(dir, 'ck', `epoch_${e}`, 'test_lists.npy'));
    assert.deepEqual(lists.shape, [N_USERS, 5]);
    // Summary selection agrees with the log.
    const bestNdcg = Math.max(...log.slice(1).map((r) => r.valid_ndcg));
    assert.equal(sum.selected.ndcg!.validNdcg, bestNdcg);
    assert.equal(sum.selected.any!.epoch, e);
    assert.ok(sum.selected.pop_jsd!.checkpoint);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('α = 1 (pop mode) lowers the calibration loss and JSD; frozen item tensors stay bit-identical', () => {
  const w = makeWorld();
  const dir = tmp();
  try {
    const m = new DotModel(N_USERS, N_ITEMS, 4, 3);
    const items0 = m.V.value.slice(),
      users0 = m.U.value.slice();
    const sink = new CheckpointStore(join(dir, 'ck'), 'frontier');
    const sum = finetune({
      model: m,
      config: cfg({ finetuning_mode: 'pop', freeze_item_emb: true, num_epochs: 15 }),
      data: w.data,
      validate: makeValidator(w),
      journal: experimentJournal(dir),
      sink,
    });
    const log = readEpochLog(join(dir, LOG_FILE));
    assert.equal(log[1]!.acc_loss, null, 'accuracy term skipped at α = 1');
    assert.ok(
      log[log.length - 1]!.cal_loss! < 0.8 * log[1]!.cal_loss!,
      `cal loss ${log[1]!.cal_loss} → ${log[log.length - 1]!.cal_loss}`,
    );
    assert.ok(sum.selected.pop_jsd!.jsd < sum.initial.jsd, `JSD ${sum.initial.jsd} → ${sum.selected.pop_jsd!.jsd}`);
    assert.deepEqual(m.V.value, items0);
    assert.notDeepEqual(m.U.value, users0);
    assert.deepEqual(sum.trainableTensors, ['user_embedding.weight']);
    const recs = sink.records();
    const st = readSafetensors(join(dir, 'ck', recs[recs.length - 1]!.dir, 'weights.safetensors'));
    assert.deepEqual([...st.tensors.keys()], ['user_embedding.weight']);
    // keep=frontier: weights remain exactly on the Pareto front plus the newest; lists everywhere.
    const front = onParetoFront(recs.map((r) => ({ ndcg: r.validNdcg, jsd: r.jsd })));
    recs.forEach((r, i) => {
      assert.equal(r.weights, front[i] || i === recs.length - 1, `epoch ${r.epoch}`);
      assert.equal(existsSync(join(dir, 'ck', r.dir, 'weights.safetensors')), r.weights);
      assert.ok(existsSync(join(dir, 'ck', r.dir, 'valid_lists.npy')));
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function runToEnd(
  w: World,
  c: FinetuneConfig,
  dir: string,
  plan: 'plain' | 'stop3' | 'crash5',
): { U: Float32Array; V: Float32Array; log: EpochLogRecord[]; summary: unknown } {
  const fresh = () => new DotModel(N_USERS, N_ITEMS, 4, 3);
  const sink = () => new CheckpointStore(join(dir, 'ck'), 'frontier');
  let m = fresh();
  if (plan === 'stop3') {
    const s = finetune({
      model: m,
      config: c,
      data: w.data,
      validate: makeValidator(w),
      journal: experimentJournal(dir),
      sink: sink(),
      stopAfterEpoch: 3,
    });
    assert.equal(s.stopReason, 'interrupted');
    m = fresh();
  } else if (plan === 'crash5') {
    const v = makeValidator(w);
    let calls = 0;
    assert.throws(
      () =>
        finetune({
          model: m,
          config: c,
          data: w.data,
          journal: experimentJournal(dir),
          sink: sink(),
          validate: (mm) => {
            if (++calls === 6) throw new Error('simulated crash');
            return v(mm);
          },
        }),
      /simulated crash/,
    );
    assert.equal(readEpochLog(join(dir, LOG_FILE)).length, 5, 'epochs 0..4 logged');
    m = fresh();
  }
  const summary = finetune({
    model: m,
    config: c,
    data: w.data,
    validate: makeValidator(w),
    journal: experimentJournal(dir),
    sink: sink(),
    resume: plan !== 'plain',
  });
  return { U: m.U.value, V: m.V.value, log: readEpochLog(join(dir, LOG_FILE)), summary };
}

test('resume: an interrupted run (clean stop or crash mid-epoch) ends exactly like an uninterrupted one', () => {
  const w = makeWorld();
  for (const c of [
    cfg({ freeze_item_emb: false, num_epochs: 7 }),
    cfg({ candidates_per_group: 2, num_epochs: 7 }),
    // the optional terms: the anchor must look at the backbone's scores, not the resumed model's
    cfg({
      freeze_item_emb: false,
      num_epochs: 7,
      calibration_surrogate: 'soft_topk',
      anchor_weight: 2,
      calibration_user_weighting: 'miscalibration',
    }),
    cfg({
      candidate_selection: 'random',
      combined_mode_alpha: 0.3,
      num_epochs: 7,
      lr_scheduler_step_size: 2,
      learning_rate: 0.2,
      freeze_item_emb: false,
    }),
  ]) {
    const dirs = [tmp(), tmp(), tmp()];
    try {
      const a = runToEnd(w, c, dirs[0]!, 'plain');
      assert.equal(a.log.length, 8, `uninterrupted run: ${JSON.stringify(a.summary)}`);
      for (const [i, plan] of [
        [1, 'stop3'],
        [2, 'crash5'],
      ] as const) {
        const b = runToEnd(w, c, dirs[i]!, plan);
        assert.deepEqual(b.U, a.U, `${plan}: user tensor`);
        assert.deepEqual(b.V, a.V, `${plan}: item tensor`);
        assert.deepEqual(b.log.map(stripTimes), a.log.map(stripTimes), `${plan}: log lines (none lost or duplicated)`);
        assert.deepEqual(b.summary, a.summary, `${plan}: summary`);
        assert.deepEqual(
          new CheckpointStore(join(dirs[i]!, 'ck')).records(),
          new CheckpointStore(join(dirs[0]!, 'ck')).records(),
        );
      }
    } finally {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  }
});

test('resume guards: existing run without --resume, changed config; finished run resumes to the same summary', () => {
  const w = makeWorld();
  const dir = tmp();
  try {
    const c = cfg({ num_epochs: 3 });
    const s1 = finetune({
      model: new DotModel(N_USERS, N_ITEMS, 4, 3),
      config: c,
      data: w.data,
      validate: makeValidator(w),
      journal: experimentJournal(dir),
    });
    assert.throws(
      () =>
        finetune({
          model: new DotModel(N_USERS, N_ITEMS, 4, 3),
          config: c,
          data: w.data,
          validate: makeValidator(w),
          journal: experimentJournal(dir),
        }),
      (e: unknown) => e instanceof UserError && /already holds a fine-tuning run/.test(e.message),
    );
    assert.throws(
      () =>
        finetune({
          model: new DotModel(N_USERS, N_ITEMS, 4, 3),
          config: { ...c, combined_mode_alpha: 0.9 },
          data: w.data,
          validate: makeValidator(w),
          journal: experimentJournal(dir),
          resume: true,
        }),
      (e: unknown) =>
        e instanceof UserError && /different configuration: combined_mode_alpha \(0\.5 → 0\.9\)/.test(e.message),
    );
    const s2 = finetune({
      model: new DotModel(N_USERS, N_ITEMS, 4, 3),
      config: c,
      data: w.data,
      validate: makeValidator(w),
      journal: experimentJournal(dir),
      resume: true,
    });
    assert.deepEqual(s2, s1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('NaN loss stops with an error naming the epoch; the last good state and checkpoint stay', () => {
  const w = makeWorld();
  const dir = tmp();
  try {
    const m = new DotModel(N_USERS, N_ITEMS, 4, 3);
    m.nanAfterCalls = 8 * 2 + 3; // 8 batches per epoch (29 users / 4): poisoned in epoch 3
    const sink = new CheckpointStore(join(dir, 'ck'), 'all');
    assert.throws(
      () =>
        finetune({
          model: m,
          config: cfg({}),
          data: w.data,
          validate: makeValidator(w),
          journal: experimentJournal(dir),
          sink,
        }),
      (e: unknown) =>
        e instanceof UserError &&
        /diverged in epoch 3: the loss is NaN/.test(e.message) &&
        new RegExp(`last good checkpoint is epoch ${sink.epochs().at(-1)} and the resume state is at epoch 2`).test(
          e.message,
        ),
    );
    assert.ok(sink.epochs().length >= 1);
    assert.ok(m.U.value.every(Number.isFinite), 'no NaN update applied');
    const meta = JSON.parse(readSafetensors(join(dir, RESUME_FILE)).metadata.calitune_resume!) as { epoch: number };
    assert.equal(meta.epoch, 2);
    assert.equal(readEpochLog(join(dir, LOG_FILE)).length, 3);
    assert.ok(existsSync(join(dir, 'ck', `epoch_${sink.epochs().at(-1)}`, 'weights.safetensors')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('stops: identical metrics 3 epochs in a row; early stopping after `patience` epochs without improvement', () => {
  const w = makeWorld();
  const dir = tmp(),
    dir2 = tmp();
  try {
    const s = finetune({
      model: new DotModel(N_USERS, N_ITEMS, 4, 3),
      config: cfg({ learning_rate: 1e-12, num_epochs: 20 }),
      data: w.data,
      validate: makeValidator(w),
      journal: experimentJournal(dir),
    });
    assert.equal(s.stopReason, 'identical_metrics');
    assert.equal(s.epochsRun, 4);
    // A validator whose metrics only get worse after epoch 1: patience 3 → stop at epoch 4.
    let n = 0;
    const s2 = finetune({
      model: new DotModel(N_USERS, N_ITEMS, 4, 3),
      config: cfg({ early_stopping_patience: 3, num_epochs: 20, target_metric: 'ndcg' }),
      data: w.data,
      journal: experimentJournal(dir2),
      validate: () => {
        n++;
        return { validNdcg: 0.5 - 0.01 * n, jsd: 0.3 + 0.01 * n };
      },
    });
    assert.equal(s2.stopReason, 'early_stopping');
    assert.equal(s2.epochsRun, 4);
    assert.equal(s2.selected.ndcg!.epoch, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(dir2, { recursive: true, force: true });
  }
});

test('selectEpochs and paretoFront on hand-made records', () => {
  const r = (epoch: number, nd: number, js: number): EpochLogRecord => ({
    epoch,
    lr: 0,
    acc_loss: 0,
    cal_loss: 0,
    valid_ndcg: nd,
    jsd: js,
    tradeoff: tradeoffScore(nd, js, 0.3, 0.3),
    improved: [],
    checkpoint: false,
    train_s: 0,
    regen_s: 0,
    valid_s: 0,
  });
  const recs = [r(0, 0.3, 0.3), r(1, 0.31, 0.29), r(2, 0.28, 0.2), r(3, 0.27, 0.25), r(4, 0.2, 0.19)];
  // Accuracy floor 0: the reference's selection, which takes epoch 4 (valid NDCG at 67% of epoch 0's).
  const s = selectEpochs(recs, [1, 2, 4], 0);
  assert.equal(s.ndcg!.epoch, 1);
  assert.equal(s.pop_jsd!.epoch, 4);
  assert.equal(s.tradeoff!.epoch, 2); // sqrt(0.28/0.3 · 0.3/0.2) = 1.183 > epoch 4's 1.026
  assert.equal(s.any!.epoch, 4);
  assert.equal(s.ndcg!.checkpoint, true);
  assert.deepEqual(onParetoFront(recs.slice(1).map((x) => ({ ndcg: x.valid_ndcg, jsd: x.jsd }))), [
    true,
    true,
    false,
    true,
  ]);
  // a mode reports its epoch's validation record, flagged by whether a checkpoint holds that epoch
  assert.deepEqual(s.pop_jsd, { epoch: 4, validNdcg: 0.2, jsd: 0.19, tradeoff: recs[4]!.tradeoff, checkpoint: true });
  // The default floor (0.8 × 0.3 = 0.24) leaves epoch 4 out of every mode.
  const floored = selectEpochs(recs, [1, 2, 4]);
  assert.deepEqual(
    [floored.ndcg!.epoch, floored.pop_jsd!.epoch, floored.tradeoff!.epoch, floored.any!.epoch],
    [1, 2, 2, 2],
  );
  // A rolled-back epoch is never selected, whatever its metrics.
  const rolled = selectEpochs([...recs.slice(0, 2), { ...recs[2]!, rolled_back: true }, recs[3]!], [1, 2]);
  assert.deepEqual([rolled.pop_jsd!.epoch, rolled.tradeoff!.epoch, rolled.any!.epoch], [3, 3, 3]);
  const onlyEpoch1 = Object.values(selectEpochs(recs, [1], 0)).map((x) => [x!.epoch, x!.checkpoint]);
  assert.deepEqual(onlyEpoch1, [
    [4, false],
    [1, true],
    [4, false],
    [2, false],
  ]); // any, ndcg, pop_jsd, tradeoff
  // "any" is the last epoch that improved any metric: a late NDCG-only gain moves it (and ndcg), not pop_jsd
  const later = selectEpochs([...recs, r(5, 0.32, 0.3)], [1, 2, 4], 0);
  assert.deepEqual([later.any!.epoch, later.ndcg!.epoch, later.pop_jsd!.epoch, later.tradeoff!.epoch], [5, 5, 4, 2]);
  assert.equal(later.any!.checkpoint, false);
  // epoch 0 is the backbone, never a selection, however good its metrics
  assert.deepEqual(selectEpochs([r(0, 0.9, 0.01)], [0]), { any: null, ndcg: null, pop_jsd: null, tradeoff: null });
});
