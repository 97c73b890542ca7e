import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  backboneConvergence,
  convergenceSentence,
  stillImprovingAtCap,
  underTrainedWarning,
} from '../../src/train/convergence.js';
import { runBackboneConvergence, runUnderTrainedWarning } from '../../src/store/backbone-convergence.js';
import { runCaptured } from '../../src/cli/run-captured.js';
import { Rng } from '../../src/math/rng.js';

test('still improving at the cap: the best epoch in the last tenth of the epochs run (at least the last)', () => {
  assert.equal(stillImprovingAtCap(300, 299), true);
  assert.equal(stillImprovingAtCap(300, 270), true);
  assert.equal(stillImprovingAtCap(300, 269), false);
  assert.equal(stillImprovingAtCap(5, 4), true);
  assert.equal(stillImprovingAtCap(5, 3), false);
  assert.equal(stillImprovingAtCap(1, 0), true);
});

test('convergence of a training record, its sentence and the under-trained warning', () => {
  const rec = (epochs_run: unknown, best_epoch: unknown, stopped_early: unknown) => ({
    epochs_run,
    best_epoch,
    stopped_early,
  });
  assert.equal(backboneConvergence(undefined), null);
  assert.equal(backboneConvergence(rec(0, -1, false)), null, 'a baseline (no epochs)');
  assert.equal(backboneConvergence(rec('300', 1, false)), null);
  const early = backboneConvergence(rec(80, 69, true))!;
  assert.equal(early.status, 'early_stopped');
  assert.match(
    convergenceSentence(early),
    /^converged: early stopping ended training \(best epoch 69 of epochs 0–79\)/,
  );
  assert.equal(underTrainedWarning(early, 'runs/a', 'bpr'), null);
  const flat = backboneConvergence(rec(300, 200, false))!;
  assert.equal(flat.status, 'cap');
  assert.equal(underTrainedWarning(flat, 'runs/a', 'bpr'), null);
  const rising = backboneConvergence(rec(300, 297, false))!;
  assert.equal(rising.status, 'cap_still_improving');
  assert.match(convergenceSentence(rising), /still improving \(best epoch 297 of epochs 0–299\): .*under-trained/);
  const w = underTrainedWarning(rising, 'runs/a', 'bpr')!;
  assert.match(w, /^warning: the bpr backbone of runs\/a hit its epoch cap \(300\) while still improving/);
  assert.match(w, /Train it longer: calitune train --run runs\/a --model bpr --epochs 600 --force;/);
  assert.match(w, /or tune it: calitune tune --run runs\/a --model bpr --space examples\/tune-bpr\.yaml --trials 24 /);
  assert.match(w, /--train-best --force$/);
});

test('the run store reads the convergence from model.json; no backbone, no warning', () => {
  const run = mkdtempSync(join(tmpdir(), 'calitune-convergence-'));
  try {
    assert.equal(runUnderTrainedWarning(run), null);
    mkdirSync(join(run, 'model'));
    const sidecar = (training: object) => ({ format_version: 1, model_type: 'bpr', sizes: {}, tensors: {}, training });
    writeFileSync(
      join(run, 'model', 'model.json'),
      JSON.stringify(sidecar({ epochs_run: 10, best_epoch: 9, stopped_early: false })),
    );
    assert.deepEqual(runBackboneConvergence(run), {
      model: 'bpr',
      convergence: { status: 'cap_still_improving', epochsRun: 10, bestEpoch: 9 },
    });
    assert.match(runUnderTrainedWarning(run)!, /--model bpr --epochs 20 --force;/);
    writeFileSync(
      join(run, 'model', 'model.json'),
      JSON.stringify(sidecar({ epochs_run: 10, best_epoch: 2, stopped_early: true })),
    );
    assert.equal(runUnderTrainedWarning(run), null);
  } finally {
    rmSync(run, { recursive: true, force: true });
  }
});

test('train says how training ended', async () => {
  process.env.CALITUNE_QUIET = '1';
  const tmp = mkdtempSync(join(tmpdir(), 'calitune-convergence-cli-'));
  try {
    const rng = new Rng(4);
    const lines = ['user_id:token\titem_id:token\trating:float\ttimestamp:float'];
    for (let u = 1; u <= 40; u++) {
      const seen = new Set<number>();
      while (seen.size < 8 + (u % 5)) seen.add(1 + Math.floor(rng.nextFloat() ** 2 * 30));
      for (const i of seen) lines.push(`u${u}\ti${i}\t1\t${u}`);
    }
    const data = join(tmp, 'tiny.inter');
    writeFileSync(data, `${lines.join('\n')}\n`);
    const run = join(tmp, 'run');
    const r = await runCaptured(['train', '--run', run, '--data', data, '--model', 'bpr', '--epochs', '3', '--json']);
    assert.equal(r.code, 0, r.err);
    const out = JSON.parse(r.out) as { convergence: { status: string; epochsRun: number } | null };
    assert.equal(out.convergence?.epochsRun, 3);
    assert.ok(['cap_still_improving', 'cap'].includes(out.convergence!.status));
    const text = await runCaptured(['train', '--run', run, '--model', 'bpr', '--epochs', '3']);
    assert.match(text.out, /hit the epoch cap/);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
