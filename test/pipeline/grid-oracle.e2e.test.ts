/**
 * The example grid (examples/ml-100k-grid.yaml) on the oracle's ML-100K backbone: α ∈ {0, 0.5, 1} × frozen ∈
 * {true, false} × k ∈ {50, 100} = 12 points with 2 worker processes, num_epochs capped at 30
 * to fit CI (the full-length grid — 500 epochs max, early stopping — is measured by hand, not
 * in CI). Checks: every point done under the reference's name, CP computed once
 * before the points, the registry agrees with the results files, the per-epoch validation
 * metrics of the k = 50 points follow the reference's own runs (oracle calitune_per_epoch.tsv,
 * batch order differs so within a few thousandths), and `runs frontier` prints the front next
 * to the CP curve.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../cli/run-cli.js';
import { ORACLE_DIR, requireShared } from '../helpers/shared.js';
import { Registry, type PointRow } from '../../src/experiments/registry.js';
import { readEpochLog } from '../../src/store/epoch-log.js';

const EPOCHS = 30;

function oracleEpochs(): Map<string, Map<number, { valid: number; jsd: number }>> {
  const lines = readFileSync(join(ORACLE_DIR, 'calitune_per_epoch.tsv'), 'utf8').trim().split('\n');
  const head = lines[0]!.split('\t');
  const out = new Map<string, Map<number, { valid: number; jsd: number }>>();
  for (const l of lines.slice(1)) {
    const f = l.split('\t');
    const run = f[head.indexOf('run')]!;
    if (!out.has(run)) out.set(run, new Map());
    out.get(run)!.set(Number(f[head.indexOf('epoch')]), {
      valid: Number(f[head.indexOf('valid_ndcg')]),
      jsd: Number(f[head.indexOf('jsd')]),
    });
  }
  return out;
}

test('12-point oracle grid, 2 workers: all done, CP once, trajectories as the reference, frontier table', async (t) => {
  if (!requireShared(t, ORACLE_DIR)) return;
  const tmp = mkdtempSync(join(tmpdir(), 'calitune-gridoracle-'));
  try {
    const run = join(tmp, 'oracle');
    assert.equal(runCli(['import', '--from', ORACLE_DIR, '--run', run]).status, 0);
    assert.equal(runCli(['prepare', '--run', run, '--popularity-source', 'all']).status, 0);
    const grid = join(tmp, 'grid.yaml');
    writeFileSync(
      grid,
      readFileSync(join(process.cwd(), 'examples', 'ml-100k-grid.yaml'), 'utf8').replace(
        'base: ml-100k-finetune.yaml',
        // accuracy_floor 0: the reference's fine-tuning, without our collapse guard.
        `base:\n  num_epochs: ${EPOCHS}\n  accuracy_floor: 0`,
      ),
    );
    const t0 = Date.now();
    const r = runCli(['grid', '--run', run, '--grid', grid, '--workers', '2', '--json']);
    const wall = (Date.now() - t0) / 1000;
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout) as {
      done: number;
      failed: number;
      workers: number;
      threadsPerWorker: number;
      seconds: number;
    };
    assert.equal(s.done, 12);
    assert.equal(s.failed, 0);
    assert.equal(s.workers, 2);
    t.diagnostic(
      `12 points × ${EPOCHS} epochs, 2 workers: ${wall.toFixed(1)} s wall (grid's own ${s.seconds.toFixed(1)} s)`,
    );

    const reg = Registry.open(run, { readonly: true });
    let rows: PointRow[];
    try {
      rows = reg.list();
    } finally {
      reg.close();
    }
    const names = rows.map((p) => p.name).sort();
    const expected: string[] = [];
    for (const a of ['0.0', '0.5', '1.0'])
      for (const f of ['frozen', 'unfrozen'])
        for (const k of [50, 100]) expected.push(`c${a}__${f}_itememb__selection_relevance__k${k}__lr0.0001`);
    assert.deepEqual(names, expected.sort());
    // CP once, before the first point started
    const cpTime = statSync(join(run, 'postprocess', 'summary.json')).mtimeMs;
    const firstStart = Math.min(...rows.map((p) => Date.parse(p.started_at!)));
    assert.ok(cpTime <= firstStart + 1, 'CP was computed before the points');
    for (const p of rows) {
      assert.equal(p.status, 'done');
      assert.ok(existsSync(join(run, 'results', `${p.name}.json`)));
      assert.equal(p.summary!.epochs_run, EPOCHS);
      // calibration moves JSD down from the base model's 0.23925
      const sel = p.summary!.selected.pop_jsd!;
      assert.ok(sel.test.jsd < 0.2392, `${p.name}: JSD ${sel.test.jsd}`);
    }

    // k = 50 points vs the reference's runs c{α}_{frozen|unfrozen}, epochs 1 and 30 (validation metrics)
    const oracle = oracleEpochs();
    for (const p of rows.filter((x) => x.name.includes('__k50__'))) {
      const m = /^c([0-9.]+)__(frozen|unfrozen)_/.exec(p.name)!;
      const ref = oracle.get(`c${m[1]}_${m[2]}`)!;
      const log = readEpochLog(join(run, 'experiments', p.name, 'log.jsonl'));
      for (const e of [1, EPOCHS]) {
        const ours = log.find((x) => x.epoch === e)!,
          theirs = ref.get(e)!;
        const tol = e === 1 ? 0.002 : 0.01;
        assert.ok(
          Math.abs(ours.valid_ndcg - theirs.valid) < tol,
          `${p.name} epoch ${e}: valid NDCG ${ours.valid_ndcg} vs reference ${theirs.valid}`,
        );
        assert.ok(
          Math.abs(ours.jsd - theirs.jsd) < tol,
          `${p.name} epoch ${e}: JSD ${ours.jsd} vs reference ${theirs.jsd}`,
        );
      }
    }

    const fr = runCli(['runs', 'frontier', '--run', run]);
    assert.equal(fr.status, 0, fr.stderr);
    assert.match(fr.stdout, /CP curve \(test; λ 0 = the base model\)/);
    assert.match(fr.stdout, /0\.5\s+0\.25465\s+0\.07728/); // CP λ 0.5 as the oracle: 0.2546 / 0.0773
    assert.match(fr.stdout, /Pareto front/);
    t.diagnostic(
      fr.stdout
        .split('\n')
        .filter((l) => /^(CaliTune is| {2}JSD@10 0| {2}the curves)/.test(l))
        .join('\n'),
    );
    const frj = JSON.parse(runCli(['runs', 'frontier', '--run', run, '--json']).stdout) as {
      rows: { delta: number | null }[];
      aheadFromJsd: number | null;
      meanGainAhead: number | null;
    };
    assert.ok(frj.rows.length > 0);
    // already after 30 epochs the validation-selected front is ahead of CP from JSD ≈ 0.104 up (0.1044 measured)
    assert.ok(frj.aheadFromJsd !== null && frj.aheadFromJsd < 0.11, `ahead from JSD ${frj.aheadFromJsd}`);
    assert.ok(frj.meanGainAhead! > 0.003, `mean gain ${frj.meanGainAhead}`);
    const list = runCli(['runs', 'list', '--run', run]);
    assert.equal(list.status, 0);
    assert.match(list.stdout, /12 point\(s\): 0 queued, 0 running, 12 done, 0 failed/);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
