/**
 * `calitune finetune` on a small synthetic run, and the validation callback
 * (src/calibration/validation.ts) against the evaluation module's independent implementation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCaptured } from '../../src/cli/run-captured.js';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { randomSplit } from '../../src/data/split.js';
import { createRun, loadRunData, runPaths } from '../../src/store/run.js';
import { BprModel } from '../../src/models/bpr.js';
import { loadModel, saveModel } from '../../src/models/model-file.js';
import { loadPrepared, prepareRun } from '../../src/store/prepare-files.js';
import { Validator } from '../../src/calibration/validation.js';
import { finetuneUsers } from '../../src/calibration/finetuner.js';
import { readEpochLog } from '../../src/store/epoch-log.js';
import { CandidatePicker, relevanceCandidates } from '../../src/calibration/candidates.js';
import { recommendationLists } from '../../src/eval/base-lists.js';
import { perUserMetrics } from '../../src/eval/metrics.js';
import { readNpy } from '../../src/data/npy.js';
import { readSafetensors } from '../../src/models/safetensors.js';
import type { SplitDataset } from '../../src/data/types.js';

process.env.CALITUNE_QUIET = '1';

const cli = runCaptured;

const tmp = mkdtempSync(join(tmpdir(), 'calitune-finetune-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

/** A synthetic run (120 users × 90 items), random BPR backbone (dim 16); prepared unless told not to. */
function makeRun(name: string, prepare = true): { run: string; ds: SplitDataset } {
  const run = join(tmp, name);
  const log = generateSynthetic({ users: 120, items: 90, interactions: 2400, seed: 7 });
  const ds = randomSplit(log, 3);
  const info = createRun(run, ds, { kind: 'synthetic' }, 3);
  const model = new BprModel({ nUsers: ds.nUsers, nItems: ds.nItems, dim: 16 }, 5);
  saveModel(runPaths(run).model, model, { dataFingerprint: info.fingerprint });
  if (prepare) prepareRun(run, ds, { dataset: 'synth', popularitySource: 'train' });
  return { run, ds };
}

const CONFIG = join(tmp, 'ft.yaml');
writeFileSync(
  CONFIG,
  [
    'random_seed: 111',
    'num_epochs: 4',
    'train_batch_size: 16',
    'learning_rate: 0.01',
    'freeze_item_emb: true',
    'combined_mode_alpha: 0.5',
    'k_candidates: 20',
    'early_stopping_patience: 25',
    'device: cpu',
    '',
  ].join('\n'),
);

const main = makeRun('main');

test('Validator = the evaluation module: valid NDCG (train masked) and JSD of test-time lists, users 1..n−1', () => {
  const { run, ds } = main;
  const { model } = loadModel(runPaths(run).model);
  const prep = loadPrepared(run);
  const v = new Validator({ ds, itemGroups: prep.itemGroup, nGroups: prep.nGroups, targets: prep.targets, k: 10 });
  const users = finetuneUsers(ds.train);
  // top 20 plus 5 per group outside them: the fused pass must pick what relevanceCandidates picks
  const picker = new CandidatePicker(ds.nItems, 20, 5, prep.itemGroup, prep.nGroups);
  const cand = new Int32Array(users.length * picker.width);
  for (let rep = 0; rep < 2; rep++) {
    // buffers are reused: a second call gives the same answer
    const r = v.run(model, rep === 1 ? { users, picker, out: cand } : undefined);
    const validLists = recommendationLists(model, ds, 'valid', 10);
    const testLists = recommendationLists(model, ds, 'test', 10);
    assert.deepEqual(Array.from(r.validLists!), Array.from(validLists));
    assert.deepEqual(Array.from(r.testLists!), Array.from(testLists));
    const base = { k: 10, itemGroup: prep.itemGroup, targets: prep.targets, nGroups: prep.nGroups };
    const pv = perUserMetrics({ ...base, lists: validLists, relevant: ds.valid });
    const pt = perUserMetrics({ ...base, lists: testLists, relevant: ds.test });
    const mean = (a: Float64Array) => a.slice(1).reduce((s, x) => s + x, 0) / (a.length - 1);
    assert.ok(Math.abs(r.validNdcg - mean(pv.ndcg)) < 1e-12, `${r.validNdcg} vs ${mean(pv.ndcg)}`);
    assert.ok(Math.abs(r.jsd - mean(pt.jsd)) < 1e-12, `${r.jsd} vs ${mean(pt.jsd)}`);
    assert.ok(r.validNdcg > 0 && r.jsd > 0 && r.jsd < 1);
  }
  // the fused candidates are relevanceCandidates' exactly
  assert.deepEqual(Array.from(cand), Array.from(relevanceCandidates(model, users, picker)));
  // and their first 20 of each row are the plain top 20
  const plain = relevanceCandidates(model, users, 20);
  for (let i = 0; i < users.length; i++) {
    assert.deepEqual(
      Array.from(cand.subarray(i * picker.width, i * picker.width + 20)),
      Array.from(plain.subarray(i * 20, i * 20 + 20)),
    );
  }
});

test('finetune: log, checkpoints (lists + weights), summary, --json; then the same name again is refused', async () => {
  const { run, ds } = main;
  const r = await cli(['finetune', '--run', run, '--config', CONFIG, '--name', 'a', '--keep', 'all', '--json']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /note: config key 'device' is ignored/);
  const s = JSON.parse(r.out);
  assert.equal(s.epochsRun, 4);
  assert.equal(s.stopReason, 'max_epochs');
  assert.deepEqual(s.trainableTensors, ['user_embedding.weight']);
  assert.equal(s.trainUsers, finetuneUsers(ds.train).length);
  const dir = join(run, 'experiments', 'a');
  const log = readEpochLog(join(dir, 'log.jsonl'));
  assert.deepEqual(
    log.map((l) => l.epoch),
    [0, 1, 2, 3, 4],
  );
  // epoch 0 is the backbone: the run's own base evaluation gives the same valid NDCG
  {
    const { model: backbone } = loadModel(runPaths(run).model);
    const validLists = recommendationLists(backbone, ds, 'valid', 10);
    const pr = loadPrepared(run);
    const pv = perUserMetrics({
      k: 10,
      itemGroup: pr.itemGroup,
      targets: pr.targets,
      nGroups: pr.nGroups,
      lists: validLists,
      relevant: ds.valid,
    });
    const mean = pv.ndcg.slice(1).reduce((a, b) => a + b, 0) / (ds.nUsers - 1);
    assert.ok(Math.abs(log[0]!.valid_ndcg - mean) < 1e-12);
  }
  for (const l of log.slice(1)) {
    assert.ok(l.acc_loss! > 0 && l.cal_loss! > 0 && l.train_s >= 0 && l.valid_s >= 0 && l.regen_s >= 0);
  }
  // selected epochs are the logged ones (validation metrics)
  const best = log.slice(1).reduce((a, b) => (b.valid_ndcg > a.valid_ndcg ? b : a));
  assert.equal(s.selected.ndcg.epoch, best.epoch);
  assert.equal(s.selected.ndcg.validNdcg, best.valid_ndcg);
  // checkpoints: only user-side weights, lists of nUsers × 10; item weights untouched (frozen)
  for (const e of s.checkpointEpochs as number[]) {
    const d = join(dir, 'checkpoints', `epoch_${e}`);
    const w = readSafetensors(join(d, 'weights.safetensors'));
    assert.deepEqual([...w.tensors.keys()], ['user_embedding.weight']);
    const tl = readNpy(join(d, 'test_lists.npy'));
    assert.deepEqual(tl.shape, [ds.nUsers, 10]);
    const m = JSON.parse(readFileSync(join(d, 'metrics.json'), 'utf8'));
    const rec = log.find((l) => l.epoch === e)!;
    assert.equal(m.validNdcg, rec.valid_ndcg);
    assert.equal(m.jsd, rec.jsd);
  }
  assert.ok(
    existsSync(join(dir, 'summary.json')) &&
      existsSync(join(dir, 'experiment.json')) &&
      existsSync(join(dir, 'config.json')),
  );
  // re-evaluating a checkpoint's weights reproduces its logged metrics
  const last = s.checkpointEpochs[s.checkpointEpochs.length - 1] as number;
  const { model } = loadModel(runPaths(run).model);
  const w = readSafetensors(join(dir, 'checkpoints', `epoch_${last}`, 'weights.safetensors'));
  model.parameters()[0]!.value.set(w.tensors.get('user_embedding.weight')!.data as Float32Array);
  const prep = loadPrepared(run);
  const v = new Validator({ ds, itemGroups: prep.itemGroup, nGroups: prep.nGroups, targets: prep.targets });
  const again = v.run(model);
  const rec = log.find((l) => l.epoch === last)!;
  assert.equal(again.validNdcg, rec.valid_ndcg);
  assert.equal(again.jsd, rec.jsd);

  const dup = await cli(['finetune', '--run', run, '--config', CONFIG, '--name', 'a']);
  assert.equal(dup.code, 2);
  assert.match(dup.err, /already exists.*--resume/);
});

test('finetune --resume of a finished run changes nothing; unfrozen run trains item embeddings', async () => {
  const { run } = main;
  const r = await cli([
    'finetune',
    '--run',
    run,
    '--config',
    CONFIG,
    '--name',
    'u',
    '--set',
    'freeze_item_emb=false',
    '--set',
    'num_epochs=2',
    '--keep',
    'last',
    '--json',
  ]);
  assert.equal(r.code, 0, r.err);
  const s = JSON.parse(r.out);
  assert.deepEqual(s.trainableTensors, ['user_embedding.weight', 'item_embedding.weight']);
  const logBefore = readFileSync(join(run, 'experiments', 'u', 'log.jsonl'), 'utf8');
  const again = await cli(['finetune', '--run', run, '--name', 'u', '--resume', '--json']);
  assert.equal(again.code, 0, again.err);
  const s2 = JSON.parse(again.out);
  assert.equal(s2.epochsRun, 2);
  assert.deepEqual(s2.selected, s.selected);
  assert.equal(readFileSync(join(run, 'experiments', 'u', 'log.jsonl'), 'utf8'), logBefore);
  // --keep last: only the newest checkpoint keeps weights
  const idx = JSON.parse(readFileSync(join(run, 'experiments', 'u', 'checkpoints', 'checkpoints.json'), 'utf8'));
  assert.deepEqual(idx.checkpoints.filter((c: { weights: boolean }) => c.weights).length, 1);
});

test('finetune bad input → exit 2 with a clear message', async () => {
  const { run } = main;
  const bad = async (args: string[], re: RegExp) => {
    const r = await cli(['finetune', ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}\n${r.err}`);
    assert.match(r.err, re);
    return r;
  };
  const base = ['--run', run, '--name', 'bad'];
  await bad(
    [...base, '--config', join(tmp, 'missing.yaml')],
    /missing\.yaml: cannot read the fine-tuning config: no such file/,
  );
  await bad(['--run', run, '--name', 'bad'], /--config is required/);
  const broken = join(tmp, 'broken.yaml');
  writeFileSync(broken, 'num_epochs: 3\nlearning_rate: [0.1\n');
  await bad([...base, '--config', broken], /broken\.yaml:\d+: invalid YAML/);
  const unknown = join(tmp, 'unknown.yaml');
  writeFileSync(unknown, 'num_epochs: 3\nlearnin_rate: 0.1\n');
  await bad(
    [...base, '--config', unknown],
    /unknown\.yaml:2: unknown config key 'learnin_rate'; allowed keys: .*learning_rate/,
  );
  await bad([...base, '--config', CONFIG, '--set', 'combined_mode_alpha=1.5'], /combined_mode_alpha.*1\.5.*≤ 1/);
  await bad([...base, '--config', CONFIG, '--set', 'combined_mode_alpha=-0.1'], /combined_mode_alpha.*≥ 0/);
  await bad([...base, '--config', CONFIG, '--set', 'k_candidates=500'], /k_candidates.*500 is more than the \d+ items/);
  await bad([...base, '--config', CONFIG, '--set', 'train_batch_size=0'], /train_batch_size.*got 0.*≥ 1/);
  await bad([...base, '--config', CONFIG, '--set', 'freeze_item_emb=maybe'], /freeze_item_emb.*true or false/);
  await bad([...base, '--config', CONFIG, '--set', 'nope'], /--set expects key=value/);
  await bad([...base, '--config', CONFIG, '--set', 'user_adapter=true'], /user_adapter.*the bpr model has none/);
  await bad(
    [...base, '--config', CONFIG, '--set', 'candidate_selection=random', '--set', 'candidates_per_group=3'],
    /candidates_per_group.*relevance candidates only/,
  );
  await bad([...base, '--config', CONFIG, '--keep', 'some'], /--keep must be one of all, frontier, last/);
  await bad(
    [...base, '--config', CONFIG, '--popularity-source', 'all'],
    /prepared with --popularity-source train, not all/,
  );
  await bad(['--run', run, '--name', '../x', '--config', CONFIG], /--name '\.\.\/x' may only use/);
  await bad(['--run', join(tmp, 'nowhere'), '--name', 'x', '--config', CONFIG], /not a run directory/);
  const unprepared = makeRun('unprepared', false);
  await bad(
    ['--run', unprepared.run, '--name', 'x', '--config', CONFIG],
    /no popularity groups \/ user targets yet: run 'calitune prepare/,
  );
  // nothing was written for the refused runs
  assert.ok(!existsSync(join(run, 'experiments', 'bad')));
  assert.ok(!existsSync(join(unprepared.run, 'experiments')));
  void loadRunData;
});

test('users without train items are left out of fine-tuning with a warning', async () => {
  const { run, ds } = makeRun('empty-user');
  // drop every train item of user 1 by rewriting the split through the run API
  const train = ds.train;
  const rows: number[] = [],
    cols: number[] = [];
  for (let u = 0; u < train.nRows; u++) {
    if (u === 1) continue;
    for (let p = train.indptr[u]!; p < train.indptr[u + 1]!; p++) {
      rows.push(u);
      cols.push(train.indices[p]!);
    }
  }
  const { csrFromCoo } = await import('../../src/math/csr.js');
  const ds2: SplitDataset = { ...ds, train: csrFromCoo(rows, cols, train.nRows, train.nCols) };
  const run2 = join(tmp, 'empty-user2');
  const info = createRun(run2, ds2, { kind: 'synthetic' }, 3);
  saveModel(runPaths(run2).model, new BprModel({ nUsers: ds.nUsers, nItems: ds.nItems, dim: 16 }, 5), {
    dataFingerprint: info.fingerprint,
  });
  prepareRun(run2, ds2, { dataset: 'synth' });
  const r = await cli([
    'finetune',
    '--run',
    run2,
    '--config',
    CONFIG,
    '--name',
    'e',
    '--set',
    'num_epochs=1',
    '--json',
  ]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /warning: 1 user\(s\) have no train items: they are left out of fine-tuning/);
  assert.equal(JSON.parse(r.out).trainUsers, finetuneUsers(ds.train).length - 1);
  void run;
  void readdirSync;
});

test('finetune BPR candidates: batched scores/gradients = naive loops; frozen items: no gradient; row hints', () => {
  const m = new BprModel({ nUsers: 7, nItems: 12, dim: 5 }, 9);
  const users = new Int32Array([3, 1, 6]);
  const k = 4;
  const cands = new Int32Array([2, 5, 5, 11, 0, 2, 7, 9, 11, 3, 2, 8]); // duplicates within and across users
  const dS = new Float32Array(users.length * k).map((_, i) => Math.sin(i + 1));
  const U = m.userEmb.value,
    I = m.itemEmb.value,
    d = 5;
  const eU = new Float64Array(U.length),
    eI = new Float64Array(I.length);
  const s = m.forwardCandidates(users, cands, k);
  for (let r = 0; r < users.length; r++) {
    for (let c = 0; c < k; c++) {
      let dot = 0;
      for (let j = 0; j < d; j++) dot += U[users[r]! * d + j]! * I[cands[r * k + c]! * d + j]!;
      assert.ok(Math.abs(s[r * k + c]! - dot) < 1e-5);
      for (let j = 0; j < d; j++) {
        eU[users[r]! * d + j]! += dS[r * k + c]! * I[cands[r * k + c]! * d + j]!;
        eI[cands[r * k + c]! * d + j]! += dS[r * k + c]! * U[users[r]! * d + j]!;
      }
    }
  }
  m.zeroGrad();
  m.backwardCandidates(dS);
  for (let i = 0; i < U.length; i++) assert.ok(Math.abs(m.userEmb.grad[i]! - eU[i]!) < 1e-5);
  for (let i = 0; i < I.length; i++) assert.ok(Math.abs(m.itemEmb.grad[i]! - eI[i]!) < 1e-5);
  assert.deepEqual(
    Array.from(m.candidateGradRows(m.itemEmb.name)!).sort((a, b) => a - b),
    [0, 2, 3, 5, 7, 8, 9, 11],
  );
  assert.deepEqual(Array.from(m.candidateGradRows(m.userEmb.name)!), [3, 1, 6]);
  // frozen: same user gradient, no item gradient, no item rows to update
  m.setItemsFrozen(true);
  m.zeroGrad();
  m.forwardCandidates(users, cands, k);
  m.backwardCandidates(dS);
  for (let i = 0; i < U.length; i++) assert.ok(Math.abs(m.userEmb.grad[i]! - eU[i]!) < 1e-5);
  assert.ok(m.itemEmb.grad.every((x) => x === 0));
  assert.equal(m.candidateGradRows(m.itemEmb.name)!.length, 0);
  m.setItemsFrozen(false);
});
