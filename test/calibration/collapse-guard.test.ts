import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finetune, type FinetuneSummary } from '../../src/calibration/finetuner.js';
import type { FinetuneConfig } from '../../src/calibration/finetune-config.js';
import { readEpochLog } from '../../src/store/epoch-log.js';
import { LOG_FILE } from '../../src/store/experiment-files.js';
import { experimentJournal } from '../../src/store/finetune-journal.js';
import type { EpochLogRecord } from '../../src/calibration/finetune-types.js';
import { cfg, DotModel, makeValidator, makeWorld, N_ITEMS, N_USERS } from '../helpers/finetune-world.js';

const world = makeWorld();

/** The dot model trained for accuracy first (α 0, 60 epochs), so that it has accuracy to lose. */
const backbone = (() => {
  const model = new DotModel(N_USERS, N_ITEMS, 4, 3);
  const dir = mkdtempSync(join(tmpdir(), 'calitune-backbone-'));
  try {
    const over = { freeze_item_emb: false, learning_rate: 0.05, early_stopping_patience: 1000 };
    const config = cfg({ ...over, finetuning_mode: 'rec', num_epochs: 60, collapse_guard: false, accuracy_floor: 0 });
    finetune({ model, config, data: world.data, validate: makeValidator(world), journal: experimentJournal(dir) });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { U: model.U.value.slice(), V: model.V.value.slice() };
})();

/** α 1 with trainable items and a large learning rate: the setting that collapses without the guard. */
function aggressive(over: Partial<FinetuneConfig>, dir: string, extra: { resume?: boolean; stopAfterEpoch?: number }) {
  const model = new DotModel(N_USERS, N_ITEMS, 4, 3);
  model.U.value.set(backbone.U);
  model.V.value.set(backbone.V);
  const config = cfg({ finetuning_mode: 'pop', freeze_item_emb: false, learning_rate: 0.5, num_epochs: 20, ...over });
  const summary = finetune({
    model,
    config,
    data: world.data,
    validate: makeValidator(world),
    journal: experimentJournal(dir),
    ...extra,
  });
  return { summary, log: readEpochLog(join(dir, LOG_FILE)), model };
}

function inTmp<T>(f: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'calitune-collapse-'));
  try {
    return f(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const selectedEpochs = (s: FinetuneSummary) => Object.values(s.selected).map((x) => x?.epoch ?? null);

test('without the guard, α 1 with trainable items collapses: valid NDCG@k below half of epoch 0 within 20 epochs', () => {
  const { log } = inTmp((d) => aggressive({ collapse_guard: false, accuracy_floor: 0 }, d, {}));
  const ndcg0 = log[0]!.valid_ndcg;
  assert.ok(ndcg0 > 0.2, `backbone valid NDCG ${ndcg0}`);
  const first = log.find((r) => r.valid_ndcg < 0.5 * ndcg0);
  assert.ok(first && first.epoch <= 20, `lowest ${Math.min(...log.map((r) => r.valid_ndcg))} vs ${ndcg0}`);
  assert.ok(log.every((r) => r.rolled_back === undefined));
});

test('with the guard: only rolled-back epochs fall below the floor, each halves the rate, JSD still falls', () => {
  const { log, summary } = inTmp((d) => aggressive({ collapse_max_rollbacks: 100 }, d, {}));
  const floor = 0.8 * log[0]!.valid_ndcg;
  const rolled = log.filter((r) => r.rolled_back);
  assert.ok(rolled.length >= 1, 'the guard rolled back at least once');
  assert.equal(summary.rollbacks, rolled.length);
  for (const r of log) assert.equal(r.valid_ndcg < floor, r.rolled_back === true, `epoch ${r.epoch}`);
  // The epoch after a rollback trains from the state before it at half the rate (no schedule
  // step falls inside 20 epochs of step size 20).
  for (const r of rolled) {
    const next = log.find((x) => x.epoch === r.epoch + 1);
    if (next) assert.equal(next.lr, r.lr / 2, `lr after epoch ${r.epoch}`);
  }
  const kept = log.filter((r) => r.epoch > 0 && !r.rolled_back);
  assert.ok(Math.min(...kept.map((r) => r.jsd)) < log[0]!.jsd - 0.01, 'JSD@k still falls');
  const rolledSet = new Set(rolled.map((r) => r.epoch));
  for (const e of selectedEpochs(summary)) {
    assert.ok(e !== null && !rolledSet.has(e), `selected epoch ${e}`);
    assert.ok(log.find((r) => r.epoch === e)!.valid_ndcg >= floor);
  }
});

test('with the guard: past collapse_max_rollbacks the run stops with the reason collapse', () => {
  const { log, summary } = inTmp((d) => aggressive({ collapse_max_rollbacks: 0, learning_rate: 2 }, d, {}));
  assert.equal(summary.stopReason, 'collapse');
  assert.equal(summary.rollbacks, 1);
  const last = log[log.length - 1]!;
  assert.equal(last.rolled_back, true);
  assert.equal(summary.epochsRun, last.epoch);
});

test('with the guard: a run interrupted after a rollback and resumed ends exactly like an uninterrupted one', () => {
  const strip = (r: EpochLogRecord) => ({ ...r, train_s: 0, regen_s: 0, valid_s: 0 });
  const over = { collapse_max_rollbacks: 100 };
  const full = inTmp((d) => aggressive(over, d, {}));
  const firstRollback = full.log.find((r) => r.rolled_back)!.epoch;
  const resumed = inTmp((d) => {
    aggressive(over, d, { stopAfterEpoch: firstRollback });
    return aggressive(over, d, { resume: true });
  });
  assert.deepEqual(resumed.log.map(strip), full.log.map(strip));
  assert.deepEqual(resumed.model.U.value, full.model.U.value);
  assert.deepEqual(resumed.model.V.value, full.model.V.value);
  assert.deepEqual(resumed.summary.selected, full.summary.selected);
});
