/**
 * Provenance of results files (docs/architecture.md, "Provenance"): evaluate and train record what
 * RUN/results/NAME.json and base_model.json were computed from; compare, the report and the
 * registry's frontier refuse a stale file naming the command that regenerates it; a file from
 * before (no inputs) is read with a note; the report lists the results it was built from.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { randomSplit } from '../../src/data/split.js';
import { createRun, loadRunData, runPaths } from '../../src/store/run.js';
import { BprModel } from '../../src/models/bpr.js';
import { saveModel } from '../../src/models/model-file.js';
import { prepareRun } from '../../src/store/prepare-files.js';
import { readBaseModelResults, writeBaseEvaluation } from '../../src/store/base-files.js';
import { evaluateBase } from '../../src/eval/base-eval.js';
import { resultsPaths } from '../../src/store/results-files.js';
import { readCurrentResults, refuseStaleResultsOf } from '../../src/store/results-provenance.js';
import { InputError } from '../../src/util/errors.js';
import { runCaptured as cli } from '../../src/cli/run-captured.js';

const tmp = mkdtempSync(join(tmpdir(), 'calitune-results-provenance-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

/** A synthetic run (120 users × 90 items), random BPR backbone (seed `seed`) with its base results, prepared. */
function makeRun(name: string): string {
  const run = join(tmp, name);
  const ds = randomSplit(generateSynthetic({ users: 120, items: 90, interactions: 2400, seed: 7 }), 3);
  const info = createRun(run, ds, { kind: 'synthetic' }, 3);
  saveBackbone(run, 5, info.fingerprint);
  prepareRun(run, ds, { dataset: 'synth', popularitySource: 'train' });
  return run;
}

/** A random BPR backbone (seed `seed`) saved into the run, with base_model.json when `withResults`. */
function saveBackbone(run: string, seed: number, fingerprint?: string, withResults = true): void {
  const { ds } = loadRunData(run);
  const model = new BprModel({ nUsers: ds.nUsers, nItems: ds.nItems, dim: 16 }, seed);
  saveModel(runPaths(run).model, model, fingerprint !== undefined ? { dataFingerprint: fingerprint } : {});
  if (withResults) writeBaseEvaluation(run, evaluateBase(model, ds), 'bpr');
}

const config = join(tmp, 'ft.yaml');
writeFileSync(
  config,
  ['random_seed: 111', 'num_epochs: 2', 'train_batch_size: 16', 'learning_rate: 0.01', 'freeze_item_emb: true']
    .concat(['k_candidates: 20', 'early_stopping_patience: 3', 'accuracy_floor: 0', 'device: cpu', ''])
    .join('\n'),
);

const readJson = (p: string) => JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;

async function ok(args: string[]) {
  const r = await cli(args);
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.err}`);
  return r;
}

/** A run with a CP set, experiment 'e1' fine-tuned and evaluated, and base results. */
async function evaluatedRun(name: string): Promise<string> {
  const run = makeRun(name);
  await ok(['postprocess', '--run', run, '--lambdas', '0.1,0.5', '--m', '40', '--workers', '1']);
  await ok(['finetune', '--run', run, '--name', 'e1', '--config', config]);
  await ok(['evaluate', '--run', run, '--experiment', 'e1']);
  await ok(['evaluate', '--run', run]);
  return run;
}

test('evaluate and train record the inputs of results files', async () => {
  const run = await evaluatedRun('recorded');
  const inputs = (readJson(resultsPaths(run, 'e1').json).calitune as Record<string, unknown>).inputs;
  const rec = inputs as Record<string, unknown>;
  for (const key of ['backbone', 'prepare', 'cp_set', 'experiment']) {
    assert.match(String(rec[key]), /^[0-9a-f]{64}$/, `inputs.${key}`);
  }
  const base = (readJson(resultsPaths(run, 'base').json).calitune as Record<string, unknown>).inputs;
  assert.equal('experiment' in (base as object), false, 'base results depend on no experiment');
  const model = readJson(runPaths(run).baseResults).inputs as Record<string, unknown>;
  assert.equal(model.backbone, rec.backbone, 'base_model.json records the same weights');
  assert.equal((await cli(['compare', '--run', run, '--experiment', 'e1'])).code, 0);
});

test('a new CP set makes results stale: compare and the frontier refuse, naming evaluate', async () => {
  const run = await evaluatedRun('new-cp');
  await ok(['postprocess', '--run', run, '--lambdas', '0.5', '--m', '40', '--workers', '1']);
  const r = await cli(['compare', '--run', run, '--experiment', 'e1']);
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /e1\.json: stale results: postprocess wrote a new CP set/);
  assert.match(r.err, new RegExp(`re-run 'calitune evaluate --run ${run} --experiment e1'`));
  assert.throws(
    () => refuseStaleResultsOf(run, ['e1', 'absent']),
    (e: unknown) =>
      e instanceof InputError && /1 results file\(s\) behind this summary are stale \(e1\)/.test(e.message),
  );
  await ok(['evaluate', '--run', run, '--experiment', 'e1']);
  await ok(['compare', '--run', run, '--experiment', 'e1']);
  refuseStaleResultsOf(run, ['e1']);
});

/** Removes experiment e1 and fine-tunes it again under the same name (a new experiment.json). */
async function fineTuneAgain(run: string): Promise<void> {
  rmSync(join(run, 'experiments', 'e1'), { recursive: true });
  await ok(['finetune', '--run', run, '--name', 'e1', '--config', config, '--set', 'random_seed=5']);
}

test('fine-tuning again makes the experiment results stale; a retrained backbone makes all stale', async () => {
  const run = await evaluatedRun('more-epochs');
  await fineTuneAgain(run);
  const r = await cli(['compare', '--run', run, '--experiment', 'e1']);
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /the experiment was fine-tuned further or again/);
  saveBackbone(run, 99);
  const again = await cli(['compare', '--run', run, '--experiment', 'e1']);
  assert.match(again.err, /the backbone was trained or imported again/);
  assert.throws(() => readCurrentResults(run, 'base'), /stale results: the backbone was trained or imported again/);
});

test('base_model.json of other weights (a crash between the two writes) is refused naming train', async () => {
  const run = makeRun('base-model');
  assert.equal(readBaseModelResults(run)?.model_type, 'bpr');
  saveBackbone(run, 42, undefined, false);
  assert.throws(
    () => readBaseModelResults(run),
    (e: unknown) =>
      e instanceof InputError &&
      e.message.includes(`${runPaths(run).baseResults}: stale results: the backbone was trained or imported again`) &&
      e.message.includes(`train(run: ${run}, force: true)`),
  );
});

test('a results file from before provenance is read with a note', async () => {
  const run = await evaluatedRun('older');
  for (const name of ['e1', 'base']) {
    const p = resultsPaths(run, name).json;
    const j = readJson(p);
    delete (j.calitune as Record<string, unknown>).inputs;
    writeFileSync(p, JSON.stringify(j));
  }
  const p = runPaths(run).baseResults;
  const { inputs: _dropped, ...older } = readJson(p);
  writeFileSync(p, JSON.stringify(older));
  const r = await ok(['compare', '--run', run, '--experiment', 'e1']);
  assert.match(r.err, /e1\.json records no inputs \(written before results files did\); not checked against the run/);
  const notes: string[] = [];
  assert.equal(readBaseModelResults(run, (l) => notes.push(l))?.model_type, 'bpr');
  assert.equal(notes.length, 1);
  refuseStaleResultsOf(run, ['e1']);
});

test('the report lists the results it was built from and leaves a stale one out with a warning', async () => {
  const run = await evaluatedRun('report');
  await ok(['report', '--run', run, '--no-png']);
  const first = readJson(join(run, 'report', 'report.json'));
  const files = (first.built_from as { file: string; inputs: Record<string, unknown> }[]).map((s) => s.file);
  const expected = [runPaths(run).baseResults, resultsPaths(run, 'e1').json, resultsPaths(run, 'base').json];
  assert.deepEqual(files.sort(), expected.sort());
  for (const s of first.built_from as { inputs: Record<string, unknown> }[]) {
    assert.match(String(s.inputs.backbone), /^[0-9a-f]{64}$/);
  }
  await fineTuneAgain(run);
  const r = await ok(['report', '--run', run, '--no-png']);
  assert.match(r.err, /skipped: .*e1\.json: stale results: the experiment was fine-tuned further or again/);
  const second = readJson(join(run, 'report', 'report.json'));
  const used = (second.built_from as { file: string }[]).map((s) => s.file);
  assert.equal(used.includes(resultsPaths(run, 'e1').json), false);
});

test('a per-user table of another evaluation (a crash between the two writes) is refused naming evaluate', async () => {
  const run = await evaluatedRun('per-user');
  const p = resultsPaths(run, 'e1');
  const own = readFileSync(p.perUser);
  await ok(['evaluate', '--run', run, '--experiment', 'e1', '--split', 'valid']);
  const validJson = readFileSync(p.json);
  await ok(['evaluate', '--run', run, '--experiment', 'e1']);
  writeFileSync(p.json, validJson); // the valid evaluation's results beside the test evaluation's table
  const r = await cli(['compare', '--run', run, '--experiment', 'e1']);
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /e1_per_user\.tsv: this per-user table is not the one its results file was written with/);
  assert.match(r.err, new RegExp(`re-run 'calitune evaluate --run ${run} --experiment e1'`));
  const rep = await ok(['report', '--run', run, '--no-png', '--static']);
  assert.match(rep.err, /skipped: .*e1_per_user\.tsv: this per-user table is not the one/);
  await ok(['evaluate', '--run', run, '--experiment', 'e1']);
  assert.deepEqual(readFileSync(p.perUser), own, 'the same evaluation writes the same table');
  await ok(['compare', '--run', run, '--experiment', 'e1']);
});
