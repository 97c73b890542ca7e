import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GROUP_OFFSETS_TENSOR,
  GroupOffsetTable,
  groupsFromOneHot,
  ITEM_GROUPS_TENSOR,
} from '../../src/calibration/group-offsets-table.js';
import { modelForCheckpoint } from '../../src/calibration/group-offsets.js';
import { finetune } from '../../src/calibration/finetuner.js';
import { CheckpointStore } from '../../src/store/checkpoint-store.js';
import { experimentJournal } from '../../src/store/finetune-journal.js';
import { readSafetensors } from '../../src/models/safetensors.js';
import { Rng } from '../../src/math/rng.js';
import { sigmoid } from '../../src/nn/activations.js';
import { formatGradCheck, gradCheck } from '../../src/nn/gradcheck.js';
import { readNpyMatrixI32 } from '../../src/data/npy.js';
import { UserError } from '../../src/util/errors.js';
import { cfg, DotModel, makeValidator, makeWorld, N_ITEMS, N_USERS } from '../helpers/finetune-world.js';

const GROUPS = new Int32Array([-1, 0, 0, 1, 2, 1, 2, 0]);
const G = 3;

function table(seed = 5): { base: DotModel; m: GroupOffsetTable } {
  const base = new DotModel(5, GROUPS.length, 4, seed);
  const m = new GroupOffsetTable(base, GROUPS, G);
  const rng = new Rng(seed + 1);
  for (let i = 0; i < m.offsets.value.length; i++) m.offsets.value[i] = rng.normal();
  return { base, m };
}

test('the offsets table scores backbone score + b[u, g(i)], in scoreAll and on candidates', () => {
  const { base, m } = table();
  const users = Int32Array.from([0, 1, 2, 3, 4]);
  const bs = base.scoreAll(users);
  const fs = m.scoreAll(users);
  const n = GROUPS.length;
  for (let u = 0; u < 5; u++)
    for (let i = 0; i < n; i++) {
      const g = GROUPS[i]!;
      const want = Math.fround(bs[u * n + i]! + (g >= 0 ? m.offset(u, g) : 0));
      assert.equal(fs[u * n + i], want, `user ${u} item ${i}`);
    }
  const cu = new Int32Array([1, 3]);
  const cands = new Int32Array([0, 2, 4, 7, 3, 6]);
  const cs = m.forwardCandidates(cu, cands, 3);
  for (let r = 0; r < 2; r++)
    for (let c = 0; c < 3; c++) assert.equal(cs[r * 3 + c], fs[cu[r]! * n + cands[r * 3 + c]!]);
  assert.deepEqual(groupsFromOneHot(m.itemGroups.value, n, G), GROUPS);
  assert.throws(() => groupsFromOneHot(Float32Array.from([1, 1, 0]), 1, G), UserError);
});

test('offsets table: finite-difference gradient of the offsets; the backbone and the one-hot get none', () => {
  const { base, m } = table(9);
  const users = new Int32Array([1, 4, 2]);
  const k = 3;
  const cands = new Int32Array([1, 3, 4, 3, 7, 6, 5, 1, 0]);
  const w = Float32Array.from({ length: 9 }, (_, i) => Math.sin(i + 1));
  const loss = () => {
    const s = m.forwardCandidates(users, cands, k);
    let l = 0;
    for (let i = 0; i < s.length; i++) l += w[i]! * s[i]! + 0.5 * s[i]! * s[i]!;
    return l;
  };
  m.zeroGrad();
  base.zeroGrad();
  const grad = m.offsets.grad;
  const backward = () => {
    const s = m.forwardCandidates(users, cands, k);
    m.backwardCandidates(Float32Array.from(s, (x, i) => w[i]! + x));
  };
  const r = gradCheck([{ name: 'offsets', value: m.offsets.value, grad }], loss, backward, {
    h: 1e-2,
    atol: 1e-3,
    rtol: 2e-3,
  });
  assert.ok(r.ok, formatGradCheck(r));
  assert.ok(grad.some((x) => x !== 0));
  assert.ok(base.parameters().every((p) => p.grad.every((x) => x === 0)));
  assert.ok(m.itemGroups.grad.every((x) => x === 0));
});

test('fine-tuning the offsets table calibrates, leaves the backbone alone; the checkpoint rebuilds the scores', () => {
  const w = makeWorld();
  const dir = mkdtempSync(join(tmpdir(), 'calitune-got-'));
  try {
    const base = new DotModel(N_USERS, N_ITEMS, 4, 3);
    const base0 = base.parameters().map((p) => p.value.slice());
    const sink = new CheckpointStore(join(dir, 'ck'), 'all');
    const sum = finetune({
      model: base,
      config: cfg({ finetuning_mode: 'pop', num_epochs: 15, group_offsets: 'offsets' }),
      data: w.data,
      validate: makeValidator(w),
      journal: experimentJournal(dir),
      sink,
    });
    assert.ok(
      sum.selected.pop_jsd!.jsd < sum.initial.jsd - 0.02,
      `JSD ${sum.initial.jsd} → ${sum.selected.pop_jsd!.jsd}`,
    );
    assert.deepEqual(
      base.parameters().map((p) => p.value),
      base0,
    );
    assert.deepEqual(sum.trainableTensors, [GROUP_OFFSETS_TENSOR, ITEM_GROUPS_TENSOR]);
    const recs = sink.records();
    const file = readSafetensors(join(dir, 'ck', recs[recs.length - 1]!.dir, 'weights.safetensors'));
    const served = modelForCheckpoint(base, file.tensors);
    assert.ok(served instanceof GroupOffsetTable);
    for (const p of served.parameters()) p.value.set(file.tensors.get(p.name)!.data as Float32Array);
    assert.deepEqual(groupsFromOneHot(served.itemGroups.value, N_ITEMS, 3), w.data.itemGroups);
    assert.ok(served.offsets.value.some((x) => x !== 0));
    // the rebuilt model's test-time lists are the ones the fine-tuning stored for that epoch
    const lists = makeValidator(w)(served).testLists!;
    const stored = readNpyMatrixI32(join(dir, 'ck', recs[recs.length - 1]!.dir, 'test_lists.npy'));
    assert.deepEqual(lists, stored.data);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A backbone whose full-sort scores are σ of its candidate logits, as DMF's are. */
class SigmoidDotModel extends DotModel {
  scoreAllLogits(users: Int32Array, out?: Float32Array): Float32Array {
    return super.scoreAll(users, out);
  }

  override scoreAll(users: Int32Array, out?: Float32Array): Float32Array {
    const s = this.scoreAllLogits(users, out);
    for (let i = 0; i < users.length * this.nItems; i++) s[i] = sigmoid(s[i]!);
    return s;
  }
}

test('offsets act on the logits of a σ-scored backbone: scoreAll = σ(logit + b), ranked as trained', () => {
  const base = new SigmoidDotModel(5, GROUPS.length, 4, 2);
  const m = new GroupOffsetTable(base, GROUPS, G);
  const rng = new Rng(8);
  for (let i = 0; i < m.offsets.value.length; i++) m.offsets.value[i] = rng.normal() * 3;
  const users = Int32Array.from([0, 1, 2, 3, 4]);
  const logits = base.scoreAllLogits(users);
  const fs = m.scoreAll(users);
  const n = GROUPS.length;
  for (let u = 0; u < 5; u++)
    for (let i = 0; i < n; i++) {
      const g = GROUPS[i]!;
      const want = sigmoid(Math.fround(logits[u * n + i]! + (g >= 0 ? m.offset(u, g) : 0)));
      assert.equal(fs[u * n + i], Math.fround(want), `user ${u} item ${i}`);
    }
  // the candidate path (logits + b) ranks each user's items as the full-sort scores do
  const all = Int32Array.from({ length: n }, (_, i) => i);
  for (const u of users) {
    const cs = m.forwardCandidates(Int32Array.of(u), all, n);
    const byCand = [...all].sort((a, b) => cs[b]! - cs[a]! || a - b);
    const byFull = [...all].sort((a, b) => fs[u * n + b]! - fs[u * n + a]! || a - b);
    assert.deepEqual(byCand, byFull, `user ${u}`);
  }
});
