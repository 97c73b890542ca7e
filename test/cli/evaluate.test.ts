import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCaptured } from '../../src/cli/run-captured.js';
import { readNpyMatrixF32, writeNpy } from '../../src/data/npy.js';
import { matrix } from '../../src/math/matrix.js';
import { scoreTopK } from '../../src/math/scoring.js';
import { readSplitDir } from '../../src/data/split-io.js';
import { ORACLE_DIR, requireShared } from '../helpers/shared.js';

process.env.CALITUNE_QUIET = '1';

const cli = runCaptured;

const LAMBDAS = ['0.1', '0.2', '0.3', '0.4', '0.5', '0.6', '0.7', '0.8', '0.9'];
type Ref = Record<string, number>;

function maxDiff(a: Ref, b: Ref): { key: string; d: number } {
  let key = '',
    d = 0;
  for (const k of Object.keys(b)) {
    assert.ok(typeof a[k] === 'number', `missing ${k}`);
    const x = Math.abs(a[k]! - b[k]!);
    if (x > d) {
      d = x;
      key = k;
    }
  }
  return { key, d };
}

function noNaNDeep(x: unknown, path = ''): void {
  if (typeof x === 'number') assert.ok(Number.isFinite(x), `${path} is ${x}`);
  else if (Array.isArray(x)) for (const [i, v] of x.entries()) noNaNDeep(v, `${path}[${i}]`);
  else if (x && typeof x === 'object') for (const [k, v] of Object.entries(x)) noNaNDeep(v, `${path}.${k}`);
}

test('evaluate on the oracle run: base, CP and a fine-tuned epoch match the reference results to 1e-5', async (t) => {
  if (!requireShared(t, ORACLE_DIR)) return;
  const tmp = mkdtempSync(join(tmpdir(), 'calitune-eval-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const R = join(tmp, 'run');
  assert.equal((await cli(['import', '--from', ORACLE_DIR, '--run', R])).code, 0);

  // Without prepare: base NDCG only (the old behaviour); an experiment needs prepare.
  const r0 = await cli(['evaluate', '--run', R]);
  assert.equal(r0.code, 0, r0.err);
  assert.match(r0.out, /test NDCG@10 0\.27832/);
  const j0 = JSON.parse(readFileSync(join(R, 'results', 'base.json'), 'utf8'));
  assert.ok(Math.abs(j0.base_recommendations.ndcg - 0.27832144498825073) < 1e-6);
  assert.equal(j0.base_recommendations.jsd, undefined);
  mkdirSync(join(R, 'experiments', 'ft'), { recursive: true });
  const r1 = await cli(['evaluate', '--run', R, '--experiment', 'ft']);
  assert.equal(r1.code, 2);
  assert.match(r1.err, /run 'calitune prepare --run .*' first/);

  assert.equal(
    (await cli(['prepare', '--run', R, '--popularity-source', 'all', '--user-group-ties', 'higher'])).code,
    0,
  );
  // The oracle's CP lists, copied into the run's postprocess folder, with the summary that makes them the CP set.
  mkdirSync(join(R, 'postprocess'), { recursive: true });
  const files: Record<string, { test: string; valid: string }> = {};
  for (const l of LAMBDAS) {
    const test = join(R, 'postprocess', `cp_${l}_test.npy`);
    files[l] = { test, valid: '' };
    copyFileSync(join(ORACLE_DIR, 'lists', `cp_result_${l}_test.npy`), test);
  }
  // The reference's CP: m = 100 candidates re-ranked into n = 10 for each of ML-100K's 943 users.
  const lambdas = LAMBDAS.map(Number);
  const summary = { format_version: 1, method: 'cp', lambdas, lambda_keys: LAMBDAS, m: 100, n: 10, modes: ['test'] };
  writeFileSync(join(R, 'postprocess', 'summary.json'), JSON.stringify({ ...summary, users: 943, files }));
  // A fine-tuned epoch: lists from the oracle's checkpoint embeddings (epoch 184 of c0.5 unfrozen).
  const ds = readSplitDir(join(R, 'data'));
  const U = readNpyMatrixF32(join(ORACLE_DIR, 'finetuned', 'c0.5_unfrozen_epoch184_user_emb.npy'));
  const I = readNpyMatrixF32(join(ORACLE_DIR, 'finetuned', 'c0.5_unfrozen_epoch184_item_emb.npy'));
  const users = Int32Array.from({ length: ds.nUsers - 1 }, (_, i) => i + 1);
  const lists = (masks: (typeof ds.train)[]) => {
    const top = scoreTopK(matrix(U.rows, U.cols, U.data), matrix(I.rows, I.cols, I.data), users, 10, masks);
    const out = new Int32Array(ds.nUsers * 10).fill(-1);
    out.set(top, 10);
    return out;
  };
  // stored epochs as the fine-tuner stores them, without an index or epoch log (so the
  // validation metrics are recomputed from the lists): epoch 184 and epoch 1 = the base lists
  const ck = join(R, 'experiments', 'ft', 'checkpoints');
  writeNpy(join(ck, 'epoch_184', 'test_lists.npy'), '<i4', [ds.nUsers, 10], lists([ds.train, ds.valid]));
  writeNpy(join(ck, 'epoch_184', 'valid_lists.npy'), '<i4', [ds.nUsers, 10], lists([ds.train]));
  mkdirSync(join(ck, 'epoch_1'), { recursive: true });
  copyFileSync(join(R, 'lists', 'base_test.npy'), join(ck, 'epoch_1', 'test_lists.npy'));
  copyFileSync(join(R, 'lists', 'base_valid.npy'), join(ck, 'epoch_1', 'valid_lists.npy'));

  // The reference's selection: no accuracy floor (ours is 0.8 × the backbone's valid NDCG by default).
  writeFileSync(join(R, 'experiments', 'ft', 'config.json'), JSON.stringify({ accuracy_floor: 0 }));
  const r2 = await cli(['evaluate', '--run', R, '--experiment', 'ft']);
  assert.equal(r2.code, 0, r2.err);
  const res = JSON.parse(readFileSync(join(R, 'results', 'ft.json'), 'utf8'));
  const ref = JSON.parse(readFileSync(join(ORACLE_DIR, 'results', 'c0.5_unfrozen_result_test.json'), 'utf8'));
  const dBase = maxDiff(res.base_recommendations, ref.base_recommendations);
  assert.ok(dBase.d <= 1e-5, `base ${dBase.key} differs by ${dBase.d}`);
  for (const l of LAMBDAS) {
    const d = maxDiff(res.postprocessed[l], ref.postprocessed[l]);
    assert.ok(d.d <= 1e-5, `CP ${l}: ${d.key} differs by ${d.d}`);
  }
  const dFt = maxDiff(res.finetuned.epoch_184, ref.finetuned.epoch_184);
  assert.ok(dFt.d <= 1e-5, `epoch 184: ${dFt.key} differs by ${dFt.d}`);
  // epoch 1 = base lists
  assert.ok(maxDiff(res.finetuned.epoch_1, ref.base_recommendations).d <= 1e-5);

  const c = res.calitune;
  assert.equal(c.format_version, 1);
  assert.equal(c.split, 'test');
  assert.deepEqual(c.user_group_names, ['mainstream', 'diverse', 'niche']);
  assert.deepEqual(c.user_group_sizes, [189, 565, 189]);
  // selection on validation metrics recomputed from the lists (no epoch log here):
  // epoch 184 has the lower JSD, epoch 1 (= base) the higher valid NDCG.
  assert.equal(c.selected.pop_jsd.epoch, 184);
  assert.equal(c.selected.ndcg.epoch, 1);
  assert.equal(c.selected.pop_jsd.source, 'lists');
  assert.ok(Math.abs(c.selected.pop_jsd.test.jsd - ref.finetuned.epoch_184.jsd) < 1e-5);
  assert.ok(Math.abs(c.selected.ndcg.valid.valid_ndcg - 0.2351) < 1e-4);
  // RBO: epoch 1 = base → 1; CP < 1
  assert.ok(Math.abs(c.rbo.finetuned_epoch_1.mean - 1) < 1e-12);
  assert.ok(c.rbo['postprocessed_0.5'].mean < 1 && c.rbo['postprocessed_0.5'].mean > 0);
  assert.deepEqual(Object.keys(c.rbo['postprocessed_0.5'].by_group), ['mainstream', 'diverse', 'niche']);
  noNaNDeep(res);

  // per-user TSV
  const tsv = readFileSync(join(R, 'results', 'ft_per_user.tsv'), 'utf8').split('\n');
  assert.equal(
    tsv[0],
    'model\tuser_id\tuserbaseline_group_1\tuserbaseline_group_2\tuserbaseline_group_3\t' +
      'ndcg\tjsd\tuser_group\thead_items\trbo_vs_base',
  );
  assert.equal(tsv.filter((l) => l !== '').length, 1 + 943 * (1 + 9 + 2));
  assert.ok(!tsv.some((l) => /NaN|undefined/.test(l)));
  const row1 = tsv[1]!.split('\t');
  assert.equal(row1[0], 'base_recommendations');
  assert.equal(row1[1], '1');
  assert.equal(row1[2], '0.18181818181818182'); // .userbaseline of user 1
  assert.equal(row1[9], '1'); // RBO of base vs itself

  // compare prints the tables; its JSON is consistent
  const cmp = await cli(['compare', '--run', R, '--experiment', 'ft', '--mode', 'pop_jsd', '--json']);
  assert.equal(cmp.code, 0, cmp.err);
  const cj = JSON.parse(cmp.out);
  assert.equal(cj.epoch, 184);
  // closest CP to epoch 184's JSD (0.05809) is λ 0.6 (0.05804)
  assert.equal(cj.cp_lambda, '0.6');
  // known shares: every CaliTune list differs from the base one in head items for most users
  const all = cj.tables.seedHead.rows[3];
  assert.equal(all.group, 'all');
  assert.equal(all.users, 943);
  for (const x of all.values) assert.ok(x >= 0 && x <= 100);
  assert.equal(cj.tables.seedMetrics.rows.length, 4);
  const txt = await cli(['compare', '--run', R, '--experiment', 'ft', '--mode', 'pop_jsd']);
  assert.equal(txt.code, 0);
  assert.match(txt.out, /Percentage of users for which metrics were improved/);
  assert.match(txt.out, /CP vs CaliTune/);

  // With the default accuracy floor, epoch 184 (valid NDCG@10 below 0.8 × the backbone's) is
  // never selected: every mode falls back to epoch 1.
  rmSync(join(R, 'experiments', 'ft', 'config.json'));
  const r3 = await cli(['evaluate', '--run', R, '--experiment', 'ft']);
  assert.equal(r3.code, 0, r3.err);
  const floored = JSON.parse(readFileSync(join(R, 'results', 'ft.json'), 'utf8')).calitune;
  assert.ok(c.selected.pop_jsd.valid.valid_ndcg < 0.8 * floored.selected.ndcg.valid.valid_ndcg);
  for (const mode of ['any', 'ndcg', 'pop_jsd', 'tradeoff']) assert.equal(floored.selected[mode].epoch, 1, mode);
});

test('older or foreign results formats are refused with a clear message', async (t) => {
  if (!requireShared(t, ORACLE_DIR)) return;
  const tmp = mkdtempSync(join(tmpdir(), 'calitune-eval-old-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const R = join(tmp, 'run');
  mkdirSync(join(R, 'results'), { recursive: true });
  writeFileSync(join(R, 'run.json'), '{}');
  // the reference's own file: no calitune block
  copyFileSync(join(ORACLE_DIR, 'results', 'c0.5_unfrozen_result_test.json'), join(R, 'results', 'x.json'));
  let r = await cli(['compare', '--run', R, '--experiment', 'x']);
  assert.equal(r.code, 2);
  assert.match(r.err, /older results format.*re-run 'calitune evaluate'/);
  // a lower format_version
  writeFileSync(
    join(R, 'results', 'y.json'),
    JSON.stringify({ base_recommendations: { ndcg: 0.1 }, calitune: { format_version: 0 } }),
  );
  r = await cli(['compare', '--run', R, '--experiment', 'y']);
  assert.equal(r.code, 2);
  assert.match(r.err, /older results format \(format_version 0/);
  // base.json as train/import wrote it before evaluate
  writeFileSync(join(R, 'results', 'z.json'), JSON.stringify({ model_type: 'bpr', k: 10, valid: {}, test: {} }));
  r = await cli(['compare', '--run', R, '--experiment', 'z']);
  assert.equal(r.code, 2);
  assert.match(r.err, /older results format/);
  assert.ok(!existsSync(join(R, 'results', 'x_per_user.tsv')));
});
