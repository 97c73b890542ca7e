import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BprModel } from '../../src/models/bpr.js';
import { GroupOffsetBpr, withGroupOffsets } from '../../src/calibration/group-offsets.js';
import { GroupOffsetTable } from '../../src/calibration/group-offsets-table.js';
import { finetune } from '../../src/calibration/finetuner.js';
import { DEFAULT_FINETUNE_CONFIG, validateFinetuneConfig } from '../../src/calibration/finetune-config.js';
import { experimentName } from '../../src/experiments/experiment-naming.js';
import { CheckpointStore } from '../../src/store/checkpoint-store.js';
import { experimentJournal } from '../../src/store/finetune-journal.js';
import { readSafetensors } from '../../src/models/safetensors.js';
import { Rng } from '../../src/math/rng.js';
import { UserError } from '../../src/util/errors.js';
import { cfg, DotModel, makeValidator, makeWorld, N_ITEMS, N_USERS } from '../helpers/finetune-world.js';

const GROUPS = new Int32Array([-1, 0, 0, 1, 2, 1, 2, 0]);
const G = 3;

function folded(mode: 'offsets' | 'offsets_and_users', seed = 5): { base: BprModel; m: GroupOffsetBpr } {
  const base = new BprModel({ nUsers: 5, nItems: GROUPS.length, dim: 4 }, seed);
  const m = new GroupOffsetBpr(base, GROUPS, G, mode);
  const rng = new Rng(seed + 1);
  for (let u = 0; u < 5; u++) for (let g = 0; g < G; g++) m.userEmb.value[u * 7 + 4 + g] = rng.normal();
  return { base, m };
}

test('the folded model scores base score + b[u, g(i)]: scoreAll and candidates; zero offsets at the start', () => {
  const base = new BprModel({ nUsers: 5, nItems: GROUPS.length, dim: 4 }, 5);
  const fresh = new GroupOffsetBpr(base, GROUPS, G, 'offsets');
  assert.equal(fresh.dim, 7);
  assert.equal(fresh.type, 'bpr');
  const users = Int32Array.from([0, 1, 2, 3, 4]);
  const b0 = base.scoreAll(users);
  const f0 = fresh.scoreAll(users);
  for (let i = 0; i < b0.length; i++) assert.ok(Math.abs(f0[i]! - b0[i]!) < 1e-6, `entry ${i}`);
  const { base: b, m } = folded('offsets');
  const bs = b.scoreAll(users);
  const fs = m.scoreAll(users);
  for (let u = 0; u < 5; u++)
    for (let i = 0; i < GROUPS.length; i++) {
      const g = GROUPS[i]!;
      const want = bs[u * GROUPS.length + i]! + (g >= 0 ? m.offset(u, g) : 0);
      assert.ok(Math.abs(fs[u * GROUPS.length + i]! - want) < 1e-5, `user ${u} item ${i}`);
    }
  const cu = new Int32Array([1, 3]);
  const cands = new Int32Array([0, 2, 4, 7, 3, 6]);
  const cs = m.forwardCandidates(cu, cands, 3);
  for (let r = 0; r < 2; r++)
    for (let c = 0; c < 3; c++) {
      const u = cu[r]!,
        it = cands[r * 3 + c]!;
      assert.ok(Math.abs(cs[r * 3 + c]! - fs[u * GROUPS.length + it]!) < 1e-5);
    }
  // the backbone's tables are copied, never shared
  m.userEmb.value[7] = 99;
  assert.notEqual(b.userEmb.value[4], 99);
});

/** Central differences of L = Σ w·s + ½ s² over every entry; fixed columns must get exactly zero gradient. */
function checkMaskedGradient(mode: 'offsets' | 'offsets_and_users', itemsFrozen: boolean): void {
  const { m } = folded(mode);
  m.setItemsFrozen(itemsFrozen);
  const users = new Int32Array([1, 4, 2]);
  const k = 3;
  const cands = new Int32Array([1, 3, 4, 3, 7, 6, 5, 1, 2]);
  const w = Float32Array.from({ length: 9 }, (_, i) => Math.sin(i + 1));
  const D = 7,
    d = 4;
  const U = m.userEmb.value,
    I = m.itemEmb.value;
  const loss64 = () => {
    let l = 0;
    for (let r = 0; r < 3; r++)
      for (let c = 0; c < k; c++) {
        let s = 0;
        for (let q = 0; q < D; q++) s += U[users[r]! * D + q]! * I[cands[r * k + c]! * D + q]!;
        l += w[r * k + c]! * s + 0.5 * s * s;
      }
    return l;
  };
  m.zeroGrad();
  const s = m.forwardCandidates(users, cands, k);
  m.backwardCandidates(Float32Array.from(s, (x, i) => w[i]! + x));
  const h = 1e-2;
  const check = (name: string, value: Float32Array, grad: Float32Array, fixed: (col: number) => boolean) => {
    for (let j = 0; j < value.length; j++) {
      const keep = value[j]!;
      value[j] = keep + h;
      const up = loss64();
      value[j] = keep - h;
      const down = loss64();
      value[j] = keep;
      const numeric = (up - down) / (2 * h);
      if (fixed(j % D)) assert.equal(grad[j], 0, `${name}[${j}] is fixed`);
      else assert.ok(Math.abs(grad[j]! - numeric) <= 1e-4 + 2e-3 * Math.abs(numeric), `${name}[${j}]`);
    }
  };
  check('user', U, m.userEmb.grad, (col) => mode === 'offsets' && col < d);
  check('item', I, m.itemEmb.grad, (col) => col >= d || itemsFrozen);
}

test('gradients of the folded model match finite differences; fixed columns get none', () => {
  checkMaskedGradient('offsets', true);
  checkMaskedGradient('offsets', false);
  checkMaskedGradient('offsets_and_users', false);
});

test('group_offsets: config key, BPR only, off returns the backbone itself', () => {
  assert.equal(validateFinetuneConfig({}).config.group_offsets, 'off');
  assert.equal(validateFinetuneConfig({ group_offsets: 'offsets' }).config.group_offsets, 'offsets');
  assert.throws(() => validateFinetuneConfig({ group_offsets: 'on' }), /group_offsets/);
  const bpr = new BprModel({ nUsers: 5, nItems: GROUPS.length, dim: 4 }, 1);
  assert.equal(withGroupOffsets(bpr, 'off', GROUPS, G), bpr);
  const dot = new DotModel(5, GROUPS.length, 4, 1);
  assert.equal(withGroupOffsets(dot, 'off', GROUPS, G), dot);
  assert.ok(withGroupOffsets(dot, 'offsets', GROUPS, G) instanceof GroupOffsetTable);
  assert.throws(() => withGroupOffsets(dot, 'offsets_and_users', GROUPS, G), UserError);
  assert.throws(() => validateFinetuneConfig({ group_offsets: 'offsets', user_adapter: true }), /user_adapter/);
});

test('fine-tuning only the offsets calibrates; embeddings stay bit-identical; checkpoints hold the d + G model', () => {
  const w = makeWorld();
  const dir = mkdtempSync(join(tmpdir(), 'calitune-go-'));
  try {
    const base = new BprModel({ nUsers: N_USERS, nItems: N_ITEMS, dim: 4 }, 3);
    const base0 = base.snapshot();
    const sink = new CheckpointStore(join(dir, 'ck'), 'all');
    const sum = finetune({
      model: base,
      config: cfg({ finetuning_mode: 'pop', freeze_item_emb: true, num_epochs: 15, group_offsets: 'offsets' }),
      data: w.data,
      validate: makeValidator(w),
      journal: experimentJournal(dir),
      sink,
    });
    assert.ok(
      sum.selected.pop_jsd!.jsd < sum.initial.jsd - 0.02,
      `JSD ${sum.initial.jsd} → ${sum.selected.pop_jsd!.jsd}`,
    );
    assert.deepEqual(base.snapshot(), base0, 'the caller’s backbone is untouched');
    assert.deepEqual(sum.trainableTensors, ['user_embedding.weight', 'item_embedding.weight']);
    const recs = sink.records();
    const st = readSafetensors(join(dir, 'ck', recs[recs.length - 1]!.dir, 'weights.safetensors'));
    const fold0 = new GroupOffsetBpr(base, w.data.itemGroups, 3, 'offsets');
    const Ut = st.tensors.get('user_embedding.weight')!,
      It = st.tensors.get('item_embedding.weight')!;
    assert.deepEqual(Ut.shape, [N_USERS, 7]);
    assert.deepEqual(It.data, fold0.itemEmb.value, 'item table (and its one-hot columns) unchanged');
    let moved = 0;
    for (let u = 0; u < N_USERS; u++) {
      for (let q = 0; q < 4; q++) assert.equal(Ut.data[u * 7 + q], fold0.userEmb.value[u * 7 + q]);
      for (let g = 4; g < 7; g++) if (Ut.data[u * 7 + g] !== 0) moved++;
    }
    assert.ok(moved > N_USERS, `${moved} offsets moved`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('grid names carry group_offsets and calibration_candidates whenever they leave their defaults', () => {
  const c = { ...DEFAULT_FINETUNE_CONFIG, combined_mode_alpha: 0.5, k_candidates: 100 };
  assert.equal(experimentName(c), 'c0.5__frozen_itememb__selection_relevance__k100__lr0.0001');
  assert.equal(
    experimentName({ ...c, group_offsets: 'offsets', calibration_candidates: 'unseen' }),
    'c0.5__frozen_itememb__selection_relevance__k100__lr0.0001__group_offsetsoffsets__calibration_candidatesunseen',
  );
});
