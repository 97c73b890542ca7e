/**
 * The grid runner on a small synthetic run: points in worker
 * processes, CP once per run, a diverging point recorded as failed while the others finish,
 * registry contents equal to the results files, skip / resume on re-run, the run lock, and the
 * CLI's bad-input exits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runCaptured } from '../../src/cli/run-captured.js';
import { parseGridText } from '../../src/experiments/grid.js';
import { runPlan } from '../../src/pipeline/grid-runner.js';
import { acquireRunLock, runLocksDir, runLockPath } from '../../src/store/run-locks.js';
import { Registry, REGISTRY_SCHEMA_VERSION, registryPath } from '../../src/experiments/registry.js';
import { readResults, resultsPaths } from '../../src/store/results-files.js';
import type { Reporter } from '../../src/pipeline/reporter.js';
import { UserError } from '../../src/util/errors.js';
import { preparedSyntheticRun } from '../helpers/prepared-run.js';

process.env.CALITUNE_QUIET = '1';

const tmp = mkdtempSync(join(tmpdir(), 'calitune-runner-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

function makeRun(name: string): string {
  return preparedSyntheticRun(join(tmp, name));
}

function quietCtx(): Reporter & { out: string[] } {
  const out: string[] = [];
  return {
    info: (l = '') => {
      out.push(l);
    },
    warn: (l) => {
      out.push(l);
    },
    progress: () => ({ update: () => {}, done: () => {} }),
    out,
  };
}

const GRID = `base:
  num_epochs: 4
  learning_rate: 0.01
  k_candidates: 20
  freeze_item_emb: false
grid:
  combined_mode_alpha: [0.0, 0.5]
  learning_rate: [0.01, 1.0e+18]
`;
const OK = [
  'c0.5__unfrozen_itememb__selection_relevance__k20__lr0.01',
  'c0.0__unfrozen_itememb__selection_relevance__k20__lr0.01',
];
const BAD = [
  'c0.5__unfrozen_itememb__selection_relevance__k20__lr1e18',
  'c0.0__unfrozen_itememb__selection_relevance__k20__lr1e18',
];

test('grid: 2 workers, CP once, diverging points fail w/ error, registry = results, re-run skips/resumes', async () => {
  const run = makeRun('grid');
  const plan = parseGridText(GRID, join(tmp, 'grid.yaml'));
  assert.deepEqual(plan.points.map((p) => p.name).sort(), [...OK, ...BAD].sort());
  const ctx = quietCtx();
  const r = await runPlan({ run, plan, workers: 2, reporter: ctx });
  assert.equal(r.workers, 2);
  assert.equal(r.threadsPerWorker, 1);
  assert.equal(r.done, 2, ctx.out.join('\n'));
  assert.equal(r.failed, 2);
  // CP computed once for the run, before the points
  assert.ok(existsSync(join(run, 'postprocess', 'summary.json')));
  const reg = Registry.open(run, { readonly: true });
  try {
    for (const name of BAD) {
      const p = reg.get(name)!;
      assert.equal(p.status, 'failed');
      assert.match(p.error!, /^finetune: fine-tuning diverged in epoch \d+: the loss is NaN/);
      assert.ok(p.seconds! > 0);
    }
    for (const name of OK) {
      const p = reg.get(name)!;
      assert.equal(p.status, 'done');
      assert.equal(p.attempts, 1);
      assert.ok(p.started_at! <= p.finished_at!);
      const res = readResults(resultsPaths(run, name).json);
      assert.ok(
        res.postprocessed && Object.keys(res.postprocessed).length === 9,
        "every point is evaluated against the run's CP lists",
      );
      assert.equal(p.summary!.base!.ndcg, res.base_recommendations.ndcg);
      for (const mode of ['any', 'ndcg', 'pop_jsd', 'tradeoff']) {
        const sel = res.calitune.selected![mode]!;
        assert.equal(p.summary!.selected[mode]!.epoch, sel.epoch);
        assert.deepEqual(p.summary!.selected[mode]!.test, sel.test);
      }
      const ep = reg.epochs(name);
      assert.deepEqual(
        ep.map((e) => `epoch_${e.epoch}`),
        Object.keys(res.finetuned!),
      );
      for (const e of ep) assert.equal(e.test_ndcg, res.finetuned![`epoch_${e.epoch}`]!.ndcg);
      assert.equal(p.summary!.epochs_run, 4);
    }
    assert.equal(reg.cp().length, 10); // base (λ 0) + 9 λ
    assert.ok(reg.list().some((p) => p.frontier));
  } finally {
    reg.close();
  }
  assert.ok(!existsSync(runLocksDir(run)), 'the lock is released');

  // Re-run: done points skipped, failed ones tried again (and fail again).
  const r2 = await runPlan({ run, plan, workers: 2, reporter: quietCtx() });
  assert.equal(r2.skipped, 2);
  assert.equal(r2.ran, 2);
  assert.equal(r2.failed, 2);

  // An interrupted point (status running, results lost) is run again: fine-tuning finished, so only evaluated.
  const before = readResults(resultsPaths(run, OK[0]!).json);
  const db = new Database(registryPath(run));
  db.prepare(`UPDATE points SET status = 'running' WHERE name = ?`).run(OK[0]);
  db.close();
  rmSync(resultsPaths(run, OK[0]!).json);
  const onlyOk = { ...plan, points: plan.points.filter((p) => OK.includes(p.name)) };
  const r3 = await runPlan({ run, plan: onlyOk, workers: 2, reporter: quietCtx() });
  assert.equal(r3.skipped, 1);
  assert.equal(r3.done, 1);
  assert.equal(r3.outcomes.find((o) => o.name === OK[0])!.resumed, true);
  const after = readResults(resultsPaths(run, OK[0]!).json);
  assert.deepEqual(after.finetuned, before.finetuned);
  assert.deepEqual(after.calitune.selected, before.calitune.selected);
  const reg2 = Registry.open(run, { readonly: true });
  assert.equal(reg2.get(OK[0]!)!.attempts, 2);
  assert.equal(reg2.get(OK[0]!)!.status, 'done');
  reg2.close();

  // The same name with another configuration is refused.
  await assert.rejects(
    runPlan({
      run,
      plan: parseGridText(GRID.replace('num_epochs: 4', 'num_epochs: 5'), 'g2.yaml'),
      reporter: quietCtx(),
    }),
    (e: unknown) =>
      e instanceof UserError &&
      /already in the registry with another configuration \(num_epochs: 4 → 5\)/.test(e.message),
  );

  // `runs` commands read it.
  const list = await runCaptured(['runs', 'list', '--run', run]);
  assert.equal(list.code, 0, list.err);
  assert.match(list.out, /4 point\(s\): 0 queued, 0 running, 2 done, 2 failed/);
  const show = await runCaptured(['runs', 'show', '--run', run, OK[1]!]);
  assert.equal(show.code, 0, show.err);
  assert.match(show.out, /done/);
  assert.match(show.out, /combined_mode_alpha=0, k_candidates=20/);
  const cmp = await runCaptured(['runs', 'compare', '--run', run, OK[0]!, OK[1]!, '--json']);
  assert.equal(cmp.code, 0, cmp.err);
  assert.deepEqual((JSON.parse(cmp.out) as { config_differences: string[] }).config_differences, [
    'combined_mode_alpha',
  ]);
  const fr = await runCaptured(['runs', 'frontier', '--run', run]);
  assert.equal(fr.code, 0, fr.err);
  assert.match(fr.out, /CP curve/);
  assert.match(fr.out, /Pareto front/);
  const missing = await runCaptured(['runs', 'show', '--run', run, 'nope']);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /no point 'nope' in the registry/);

  // A new CP set makes the points' results stale: the commands reading them refuse, naming evaluate.
  const pp = await runCaptured(['postprocess', '--run', run, '--lambdas', '0.5', '--m', '40', '--workers', '1']);
  assert.equal(pp.code, 0, pp.err);
  for (const args of [['show', OK[1]!], ['compare', OK[0]!, OK[1]!], ['frontier']]) {
    const r = await runCaptured(['runs', args[0]!, '--run', run, ...args.slice(1)]);
    assert.equal(r.code, 2, `runs ${args[0]}: ${r.err}`);
    assert.match(r.err, /stale/);
    assert.match(r.err, /calitune evaluate --run/);
  }
});

test('grid lock: a second runner is refused while the first is alive; a stale lock is taken over', async () => {
  const run = makeRun('lock');
  const lock = acquireRunLock({ run, target: 'grid', command: 'grid' });
  try {
    assert.throws(
      () => acquireRunLock({ run, target: 'grid', command: 'experiments' }),
      (e: unknown) =>
        e instanceof UserError && e.message.includes(`the grid runner of ${run} is locked by grid (pid ${process.pid}`),
    );
  } finally {
    lock.release();
  }
  const path = runLockPath(run, 'grid');
  const dead = { pid: 999999999, command: 'grid', argv: [], started: '2026-01-01T00:00:00Z', token: 'x' };
  mkdirSync(runLocksDir(run), { recursive: true });
  writeFileSync(path, JSON.stringify(dead)); // no such process
  const notes: string[] = [];
  const lock2 = acquireRunLock({ run, target: 'grid', command: 'grid', note: (l) => notes.push(l) });
  assert.equal((JSON.parse(readFileSync(path, 'utf8')) as { pid: number }).pid, process.pid);
  assert.match(notes.join('\n'), /pid 999999999.*taken over/);
  lock2.release();
  assert.ok(!existsSync(runLocksDir(run)));
});

test('CLI bad input: > 10,000 points w/o --yes, bad grid key, newer registry, duplicate names → exit 2', async () => {
  const run = makeRun('cli');
  const big = join(tmp, 'big.yaml');
  writeFileSync(
    big,
    `grid:\n  random_seed: [${Array.from({ length: 101 }, (_, i) => i).join(', ')}]\n` +
      `  k_candidates: [${Array.from({ length: 100 }, (_, i) => i + 1).join(', ')}]\n`,
  );
  const r1 = await runCaptured(['grid', '--run', run, '--grid', big]);
  assert.equal(r1.code, 2);
  assert.match(r1.err, /10,100 points .* pass --yes/);
  const bad = join(tmp, 'bad.yaml');
  writeFileSync(bad, 'grid:\n  alpha: [0.5]\n');
  const r2 = await runCaptured(['grid', '--run', run, '--grid', bad]);
  assert.equal(r2.code, 2);
  assert.match(r2.err, /bad\.yaml:2: grid key 'alpha' is not a fine-tuning config key/);
  const dup = join(tmp, 'dup.yaml');
  writeFileSync(dup, 'experiments:\n  - name: a\n  - name: a\n');
  const r3 = await runCaptured(['experiments', '--run', run, '--file', dup]);
  assert.equal(r3.code, 2);
  assert.match(r3.err, /two experiments are named 'a'/);
  Registry.open(run, { create: true }).close();
  const db = new Database(registryPath(run));
  db.prepare('INSERT INTO schema_version (version, written_by, created) VALUES (?, ?, ?)').run(
    REGISTRY_SCHEMA_VERSION + 1,
    'calitune 2.0.0',
    'now',
  );
  db.close();
  const ok = join(tmp, 'ok.yaml');
  writeFileSync(ok, 'base:\n  num_epochs: 1\n  k_candidates: 20\ngrid:\n  combined_mode_alpha: [0.5]\n');
  const r4 = await runCaptured(['grid', '--run', run, '--grid', ok]);
  assert.equal(r4.code, 2);
  assert.match(
    r4.err,
    new RegExp(`written by a newer calitune \\(schema version ${REGISTRY_SCHEMA_VERSION + 1}, calitune 2\\.0\\.0\\)`),
  );
  const r5 = await runCaptured(['runs', 'list', '--run', run]);
  assert.equal(r5.code, 2);
  assert.match(r5.err, /newer calitune/);
  const r6 = await runCaptured(['grid', '--run', join(tmp, 'nope'), '--grid', ok]);
  assert.equal(r6.code, 2);
  assert.match(r6.err, /not a run directory/);
});
