import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Recommender } from '../../src/models/recommender.js';
import type { Parameter } from '../../src/nn/parameter.js';
import { csrFromCoo, type Csr } from '../../src/math/csr.js';
import { Rng } from '../../src/math/rng.js';
import { topkRows } from '../../src/math/topk.js';
import { ndcgAtK } from '../../src/eval/ndcg.js';
import {
  finetune,
  finetuneUsers,
  selectEpochs,
  tradeoffScore,
  type FinetuneData,
  type ValidationResult,
  type EpochLogRecord,
} from '../../src/calibration/finetuner.js';
import { readEpochLog } from '../../src/store/epoch-log.js';
import { LOG_FILE, RESUME_FILE, SUMMARY_FILE } from '../../src/store/experiment-files.js';
import { CheckpointStore } from '../../src/store/checkpoint-store.js';
import { experimentJournal } from '../../src/store/finetune-journal.js';
import { onParetoFront } from '../../src/selection/pareto.js';
import { candidateLabels, randomCandidates, relevanceCandidates } from '../../src/calibration/candidates.js';
import { DEFAULT_FINETUNE_CONFIG, type FinetuneConfig } from '../../src/calibration/finetune-config.js';
import { readSafetensors } from '../../src/models/safetensors.js';
import { readNpy } from '../../src/data/npy.js';
import { UserError } from '../../src/util/errors.js';

/** A tiny dot-product model: score(u, i) = U[u]·V[i]. */
class DotModel implements Recommender {
  readonly type = 'bpr' as const;
  readonly hyper = {};
  readonly U: Parameter;
  readonly V: Parameter;
  private lastUsers = new Int32Array(0);
  private lastCands = new Int32Array(0);
  private lastK = 0;
  /** Test hook: poison scores from this forward call on. */
  nanAfterCalls = Infinity;
  private calls = 0;
  constructor(
    readonly nUsers: number,
    readonly nItems: number,
    readonly dim: number,
    seed: number,
  ) {
    const rng = new Rng(seed);
    const u = new Float32Array(nUsers * dim),
      v = new Float32Array(nItems * dim);
    for (let i = 0; i < u.length; i++) u[i] = rng.normal() * 0.5;
    for (let i = 0; i < v.length; i++) v[i] = rng.normal() * 0.5;
    this.U = {
      name: 'user_embedding.weight',
      shape: [nUsers, dim],
      value: u,
      grad: new Float32Array(u.length),
      itemSide: false,
    };
    this.V = {
      name: 'item_embedding.weight',
      shape: [nItems, dim],
      value: v,
      grad: new Float32Array(v.length),
      itemSide: true,
    };
  }
  scoreAll(users: Int32Array, out?: Float32Array): Float32Array {
    const d = this.dim,
      res = out ?? new Float32Array(users.length * this.nItems);
    for (let r = 0; r < users.length; r++) {
      for (let i = 0; i < this.nItems; i++) {
        let s = 0;
        for (let k = 0; k < d; k++) s += this.U.value[users[r]! * d + k]! * this.V.value[i * d + k]!;
        res[r * this.nItems + i] = s;
      }
    }
    return res;
  }
  forwardCandidates(users: Int32Array, candidates: Int32Array, k: number): Float32Array {
    this.lastUsers = users.slice();
    this.lastCands = candidates.slice();
    this.lastK = k;
    const d = this.dim,
      out = new Float32Array(users.length * k);
    const poison = ++this.calls > this.nanAfterCalls;
    for (let b = 0; b < users.length; b++) {
      for (let c = 0; c < k; c++) {
        let s = 0;
        for (let j = 0; j < d; j++)
          s += this.U.value[users[b]! * d + j]! * this.V.value[candidates[b * k + c]! * d + j]!;
        out[b * k + c] = poison ? NaN : s;
      }
    }
    return out;
  }
  backwardCandidates(dScores: Float32Array): void {
    const d = this.dim,
      k = this.lastK;
    for (let b = 0; b < this.lastUsers.length; b++) {
      const u = this.lastUsers[b]!;
      for (let c = 0; c < k; c++) {
        const i = this.lastCands[b * k + c]!,
          g = dScores[b * k + c]!;
        for (let j = 0; j < d; j++) {
          this.U.grad[u * d + j]! += g * this.V.value[i * d + j]!;
          this.V.grad[i * d + j]! += g * this.U.value[u * d + j]!;
        }
      }
    }
  }
  parameters(): Parameter[] {
    return [this.U, this.V];
  }
  zeroGrad(): void {
    this.U.grad.fill(0);
    this.V.grad.fill(0);
  }
}

const N_USERS = 31,
  N_ITEMS = 41,
  G = 3;
const groupOf = (i: number) => (i === 0 ? -1 : i <= 8 ? 0 : i <= 24 ? 1 : 2);

interface World {
  data: FinetuneData;
  valid: Csr;
  test: Csr;
}

/** Synthetic popularity-skewed interactions; user 7 has no train items (left out). */
function makeWorld(): World {
  const rng = new Rng(42);
  const tr: [number, number][] = [],
    va: [number, number][] = [],
    te: [number, number][] = [];
  for (let u = 1; u < N_USERS; u++) {
    if (u === 7) continue;
    const seen = new Set<number>();
    const n = 6 + rng.nextInt(6);
    while (seen.size < n) {
      const popular = rng.nextFloat() < 0.6;
      seen.add(popular ? 1 + rng.nextInt(8) : 9 + rng.nextInt(N_ITEMS - 9));
    }
    const items = [...seen];
    for (const [k, i] of items.entries()) (k === 0 ? va : k === 1 ? te : tr).push([u, i]);
  }
  const csr = (p: [number, number][]) =>
    csrFromCoo(
      p.map((x) => x[0]),
      p.map((x) => x[1]),
      N_USERS,
      N_ITEMS,
    );
  const train = csr(tr);
  const itemGroups = new Int32Array(N_ITEMS);
  for (let i = 0; i < N_ITEMS; i++) itemGroups[i] = groupOf(i);
  const userTargets = new Float64Array(N_USERS * G);
  for (let u = 1; u < N_USERS; u++) {
    const lo = train.indptr[u]!,
      hi = train.indptr[u + 1]!;
    for (let p = lo; p < hi; p++) userTargets[u * G + groupOf(train.indices[p]!)]! += 1 / (hi - lo);
  }
  return { data: { train, itemGroups, nGroups: G, userTargets }, valid: csr(va), test: csr(te) };
}

function jsd2(p: number[], q: number[]): number {
  const e = 1e-10;
  let s = 0;
  for (let g = 0; g < p.length; g++) {
    const a = p[g]! + e,
      b = q[g]! + e,
      m = (a + b) / 2;
    s += 0.5 * a * Math.log2(a / m) + 0.5 * b * Math.log2(b / m);
  }
  return s;
}

/** Validation as numeric contract §10: valid NDCG@k (train masked), JSD@k of test-time lists (train+valid masked). */
function makeValidator(w: World, k = 5) {
  return (model: Recommender): ValidationResult => {
    const all = Int32Array.from({ length: N_USERS }, (_, i) => i);
    const s = model.scoreAll(all);
    const sv = s.slice(),
      st = s.slice();
    for (let u = 0; u < N_USERS; u++) {
      sv[u * N_ITEMS] = -Infinity;
      st[u * N_ITEMS] = -Infinity;
      for (let p = w.data.train.indptr[u]!; p < w.data.train.indptr[u + 1]!; p++) {
        sv[u * N_ITEMS + w.data.train.indices[p]!] = -Infinity;
        st[u * N_ITEMS + w.data.train.indices[p]!] = -Infinity;
      }
      for (let p = w.valid.indptr[u]!; p < w.valid.indptr[u + 1]!; p++)
        st[u * N_ITEMS + w.valid.indices[p]!] = -Infinity;
    }
    const validLists = topkRows(sv, N_USERS, N_ITEMS, k),
      testLists = topkRows(st, N_USERS, N_ITEMS, k);
    let nd = 0,
      js = 0,
      n = 0;
    for (let u = 1; u < N_USERS; u++) {
      if (u === 7) continue;
      nd += ndcgAtK(validLists, u * k, k, w.valid.indices, w.valid.indptr[u]!, w.valid.indptr[u + 1]!);
      const q = [0, 0, 0];
      for (let j = 0; j < k; j++) q[groupOf(testLists[u * k + j]!)]! += 1 / k;
      js += jsd2(Array.from(w.data.userTargets.subarray(u * G, u * G + G)), q);
      n++;
    }
    return { validNdcg: nd / n, jsd: js / n, validLists, testLists };
  };
}

function cfg(over: Partial<FinetuneConfig>): FinetuneConfig {
  return {
    ...DEFAULT_FINETUNE_CONFIG,
    k_candidates: 12,
    train_batch_size: 4,
    learning_rate: 0.02,
    top_k_ndcg: 5,
    num_epochs: 10,
    ...over,
  };
}

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
  const s = selectEpochs(recs, [1, 2, 4]);
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
  const onlyEpoch1 = Object.values(selectEpochs(recs, [1])).map((x) => [x!.epoch, x!.checkpoint]);
  assert.deepEqual(onlyEpoch1, [
    [4, false],
    [1, true],
    [4, false],
    [2, false],
  ]); // any, ndcg, pop_jsd, tradeoff
  // "any" is the last epoch that improved any metric: a late NDCG-only gain moves it (and ndcg), not pop_jsd
  const later = selectEpochs([...recs, r(5, 0.32, 0.3)], [1, 2, 4]);
  assert.deepEqual([later.any!.epoch, later.ndcg!.epoch, later.pop_jsd!.epoch, later.tradeoff!.epoch], [5, 5, 4, 2]);
  assert.equal(later.any!.checkpoint, false);
  // epoch 0 is the backbone, never a selection, however good its metrics
  assert.deepEqual(selectEpochs([r(0, 0.9, 0.01)], [0]), { any: null, ndcg: null, pop_jsd: null, tradeoff: null });
});
