/**
 * The resume state of the fine-tuner on its own: the file layout (tensor names and order,
 * dtypes, shapes, the metadata's keys in order) is fixed, a save → load round trip through the
 * safetensors bytes restores every part of the state, and states that do not fit are refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BprModel } from '../../src/models/bpr.js';
import { csrFromCoo } from '../../src/math/csr.js';
import { decodeSafetensors, encodeSafetensors, type SafeTensorsFile } from '../../src/models/safetensors.js';
import { DEFAULT_FINETUNE_CONFIG, type FinetuneConfig } from '../../src/calibration/finetune-config.js';
import { createFinetuneState, type FinetuneState } from '../../src/calibration/finetune-state.js';
import { restoreResumeState, writeResumeState } from '../../src/calibration/finetune-resume.js';
import type { FinetuneData, FinetuneJournal } from '../../src/calibration/finetune-types.js';
import { UserError } from '../../src/util/errors.js';

const N_USERS = 6,
  N_ITEMS = 9,
  G = 2;

function data(): FinetuneData {
  const rows = [1, 1, 2, 2, 3, 4, 5, 5];
  const cols = [1, 5, 2, 6, 3, 7, 4, 8];
  const train = csrFromCoo(rows, cols, N_USERS, N_ITEMS);
  const itemGroups = Int32Array.from({ length: N_ITEMS }, (_, i) => (i === 0 ? -1 : i <= 3 ? 0 : 1));
  const userTargets = new Float64Array(N_USERS * G).fill(0.5);
  return { train, itemGroups, nGroups: G, userTargets };
}

function config(over: Partial<FinetuneConfig> = {}): FinetuneConfig {
  return { ...DEFAULT_FINETUNE_CONFIG, k_candidates: 3, freeze_item_emb: false, ...over };
}

/** A journal that keeps the resume state as safetensors bytes. */
function memoryJournal(): FinetuneJournal & { bytes?: Uint8Array } {
  const j: FinetuneJournal & { bytes?: Uint8Array } = {
    where: 'memory',
    resumeName: 'memory/resume.safetensors',
    hasResume: () => j.bytes !== undefined,
    readResume: () => decodeSafetensors(j.bytes!),
    writeResume: (tensors, metadata) => {
      j.bytes = encodeSafetensors(tensors, metadata);
    },
    readLog: () => [],
    writeLog: () => {},
    appendLog: () => {},
    writeSummary: () => {},
  };
  return j;
}

/** A state that has moved away from its start: optimizer steps, schedule, RNG, candidates, progress. */
function advancedState(cfg: FinetuneConfig): FinetuneState {
  const s = createFinetuneState(new BprModel({ nUsers: N_USERS, nItems: N_ITEMS, dim: 4 }, 1), cfg, data());
  for (let step = 0; step < 7; step++) {
    for (const p of s.params) for (let i = 0; i < p.grad.length; i++) p.grad[i] = Math.sin(i + step) * 0.01;
    s.optimizer.step();
  }
  s.optimizer.flush();
  s.schedule.step();
  s.rng.permutation(10);
  for (let i = 0; i < s.candidates.length; i++) s.candidates[i] = 1 + (i % (N_ITEMS - 1));
  Object.assign(s.progress, {
    epoch: 3,
    best: { ndcg: 0.25, jsd: 0.125, tradeoff: 1.5 },
    initial: { validNdcg: 0.2, jsd: 0.3 },
    last: { validNdcg: 0.24, jsd: 0.13 },
    lastImprovementEpoch: 2,
    improvementCounter: 1,
    identicalCounter: 1,
  });
  return s;
}

test('resume state layout: param/opt_m/opt_v per trainable tensor, then candidates; metadata keys in order', () => {
  const j = memoryJournal();
  const s = advancedState(config());
  writeResumeState(j, s);
  const file: SafeTensorsFile = j.readResume();
  assert.deepEqual(
    [...file.tensors.keys()],
    [
      'param/user_embedding.weight',
      'opt_m/user_embedding.weight',
      'opt_v/user_embedding.weight',
      'param/item_embedding.weight',
      'opt_m/item_embedding.weight',
      'opt_v/item_embedding.weight',
      'candidates',
    ],
  );
  assert.deepEqual(file.tensors.get('opt_v/item_embedding.weight')!.shape, [N_ITEMS, 4]);
  assert.equal(file.tensors.get('param/user_embedding.weight')!.dtype, 'F32');
  const cand = file.tensors.get('candidates')!;
  assert.equal(cand.dtype, 'I32');
  assert.deepEqual(cand.shape, [s.users.length, 3]);
  assert.deepEqual(Object.keys(file.metadata), ['calitune_resume']);
  const meta = JSON.parse(file.metadata.calitune_resume!) as Record<string, unknown>;
  assert.deepEqual(Object.keys(meta), [
    'version',
    'epoch',
    'config',
    'modelType',
    'trainUsers',
    'optimizer',
    'schedule',
    'rng',
    'best',
    'initial',
    'last',
    'lastImprovementEpoch',
    'improvementCounter',
    'identicalCounter',
    'stopReason',
  ]);
  assert.deepEqual(meta.optimizer, { step: 7, lr: s.optimizer.lr });
  assert.deepEqual(meta.best, { ndcg: 0.25, jsd: 0.125, tradeoff: 1.5 });
  assert.equal(meta.version, 1);
});

test('resume state round trip restores weights, moments, step, schedule, RNG, candidates, labels and progress', () => {
  const j = memoryJournal();
  const saved = advancedState(config());
  writeResumeState(j, saved);
  // A fresh state (other initial weights), as after a restart.
  const s = createFinetuneState(new BprModel({ nUsers: N_USERS, nItems: N_ITEMS, dim: 4 }, 99), config(), data());
  restoreResumeState(j, s);
  s.params.forEach((p, k) => {
    assert.deepEqual(p.value, saved.params[k]!.value);
  });
  assert.deepEqual(s.optimizer.state(), saved.optimizer.state());
  assert.deepEqual(s.schedule.state(), saved.schedule.state());
  assert.deepEqual(s.rng.state(), saved.rng.state());
  assert.deepEqual(s.candidates, saved.candidates);
  assert.deepEqual(Array.from(s.labels.subarray(0, 3)), [1, 0, 0]); // user 1: items 1, 2, 3; trains on 1 and 5
  assert.deepEqual(s.progress, saved.progress);
  // Saving the restored state gives the same bytes.
  const again = memoryJournal();
  writeResumeState(again, s);
  assert.deepEqual(again.bytes, j.bytes);
});

test('resume state: a saved interruption continues; other configuration, model or missing tensors are refused', () => {
  const j = memoryJournal();
  const saved = advancedState(config());
  saved.progress.stopReason = 'interrupted';
  writeResumeState(j, saved);
  const fresh = (cfg = config()) =>
    createFinetuneState(new BprModel({ nUsers: N_USERS, nItems: N_ITEMS, dim: 4 }, 5), cfg, data());
  const s = fresh();
  restoreResumeState(j, s);
  assert.equal(s.progress.stopReason, null);
  // num_epochs and early_stopping_patience may change; other keys may not.
  restoreResumeState(j, fresh(config({ num_epochs: 900, early_stopping_patience: 2 })));
  const changed = /different configuration: learning_rate \(0\.0001 → 0\.5\)/;
  assert.throws(
    () => restoreResumeState(j, fresh(config({ learning_rate: 0.5 }))),
    (e: unknown) => e instanceof UserError && changed.test(e.message),
  );
  const other = createFinetuneState(new BprModel({ nUsers: N_USERS, nItems: N_ITEMS, dim: 5 }, 5), config(), data());
  assert.throws(() => restoreResumeState(j, other), /lacks tensor param\/user_embedding\.weight of 30 values/);
  const file = j.readResume();
  file.tensors.delete('candidates');
  const broken = memoryJournal();
  broken.writeResume(file.tensors, file.metadata);
  assert.throws(() => restoreResumeState(broken, fresh()), /lacks the candidates/);
  broken.writeResume(file.tensors, {});
  assert.throws(() => restoreResumeState(broken, fresh()), /not a CaliTune resume state/);
});

test('resume state: metadata of the wrong shape names the file and the field, never a TypeError', () => {
  const j = memoryJournal();
  writeResumeState(j, advancedState(config()));
  const file = j.readResume();
  const meta = JSON.parse(file.metadata.calitune_resume!) as Record<string, unknown>;
  const fresh = () =>
    createFinetuneState(new BprModel({ nUsers: N_USERS, nItems: N_ITEMS, dim: 4 }, 5), config(), data());
  const cases: [Record<string, unknown> | null, RegExp][] = [
    [null, /^memory\/resume\.safetensors: resume state version undefined is not supported$/],
    [{ ...meta, config: null }, /resume metadata \(calitune_resume\) field config: expected an object, got null$/],
    [{ ...meta, optimizer: { step: '3', lr: 1 } }, /field optimizer\.step: expected a finite number, got "3"$/],
    [{ ...meta, rng: 'seed' }, /field rng: expected a list, got "seed"$/],
  ];
  for (const [m, re] of cases) {
    const broken = memoryJournal();
    broken.writeResume(file.tensors, { calitune_resume: JSON.stringify(m) });
    assert.throws(
      () => restoreResumeState(broken, fresh()),
      (e: unknown) => e instanceof UserError && re.test(e.message),
      String(re),
    );
  }
});
