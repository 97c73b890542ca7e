/**
 * One answer to "is CaliTune ahead of CP?": on one small real run with a two-point grid, the
 * verdicts that `evaluate` stores, `compare` prints, `runs frontier` lists and the report's
 * findings state agree epoch by epoch (they all go through src/selection); so do the margins over
 * CP at fixed calibration that `runs frontier` and the report give.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCaptured } from '../../src/cli/run-captured.js';
import { trainedRun, writeFixtureData } from '../report/fixture.js';
import { resultsCpCurve, type StoredCpVerdict } from '../../src/eval/cp-verdicts.js';
import type { ReferenceMetrics } from '../../src/eval/metrics.js';
import {
  compareWithCp,
  DEFAULT_MARGIN_TARGETS,
  marginsAtTargets,
  SELECTION_MODES,
  type MarginsAtTargets,
} from '../../src/selection/index.js';

process.env.CALITUNE_QUIET = '1';

let tmp = '';
let run = '';
const POINTS = ['p0.5', 'p1.0'];

async function ok(args: string[]): Promise<string> {
  const r = await runCaptured(args);
  if (r.code !== 0) throw new Error(`calitune ${args.join(' ')} failed (${r.code}): ${r.err}`);
  return r.out;
}

/** --json output; only inside a test body (in a hook the test runner's own stdout events would mix in). */
async function json(args: string[]): Promise<unknown> {
  return JSON.parse(await ok([...args, '--json'])) as unknown;
}

interface Results {
  base_recommendations: ReferenceMetrics;
  postprocessed: Record<string, ReferenceMetrics>;
  finetuned: Record<string, ReferenceMetrics>;
  calitune: { selected: Record<string, { epoch: number } | null>; vs_cp: Record<string, StoredCpVerdict | null> };
}
const results = (name: string) => JSON.parse(readFileSync(join(run, 'results', `${name}.json`), 'utf8')) as Results;

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'calitune-consistency-'));
  run = await trainedRun(writeFixtureData(tmp), join(tmp, 'run'));
  await ok(['postprocess', '--run', run, '--lambdas', '0.2,0.5,0.8', '--workers', '1']);
  const grid = join(tmp, 'grid.yaml');
  writeFileSync(
    grid,
    [
      'base:',
      '  random_seed: 111',
      '  num_epochs: 6',
      '  train_batch_size: 16',
      '  learning_rate: 0.01',
      '  freeze_item_emb: true',
      '  k_candidates: 20',
      '  early_stopping_patience: 25',
      'experiments:',
      ...POINTS.map((p) => `  - { name: ${p}, config: { combined_mode_alpha: ${p.slice(1)} } }`),
      '',
    ].join('\n'),
  );
  await ok(['experiments', '--run', run, '--file', grid, '--workers', '1']);
});
after(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test('evaluate stores, per selected epoch, the verdict compare prints for that epoch', async () => {
  let compared = 0;
  for (const name of POINTS) {
    const r = results(name);
    for (const mode of SELECTION_MODES) {
      const stored = r.calitune.vs_cp[mode];
      const selected = r.calitune.selected[mode];
      assert.equal(stored?.epoch ?? null, selected?.epoch ?? null, `${name} ${mode}`);
      if (!stored) continue;
      const c = (await json(['compare', '--run', run, '--experiment', name, '--mode', mode])) as {
        epoch: number;
        vs_cp_curve: { delta: number | null; verdict: string | null };
      };
      assert.equal(c.epoch, stored.epoch);
      assert.deepEqual([c.vs_cp_curve.verdict, c.vs_cp_curve.delta], [stored.verdict, stored.delta], `${name} ${mode}`);
      compared++;
    }
  }
  assert.ok(compared >= POINTS.length, `only ${compared} verdicts compared`);
});

test('runs frontier and compare --epoch give every front point the same verdict', async () => {
  const f = (await json(['runs', 'frontier', '--run', run])) as {
    rows: { name: string; epoch: number; delta: number | null; verdict: string | null }[];
  };
  assert.ok(f.rows.length > 0, 'an empty front');
  for (const row of f.rows) {
    const r = results(row.name);
    const m = r.finetuned[`epoch_${row.epoch}`]!;
    const direct = compareWithCp(
      { ndcg: m.ndcg!, jsd: m.jsd! },
      resultsCpCurve(r.base_recommendations, r.postprocessed),
    );
    assert.deepEqual([row.verdict, row.delta], [direct.verdict, direct.delta], `${row.name} epoch ${row.epoch}`);
    const c = (await json(['compare', '--run', run, '--experiment', row.name, '--epoch', String(row.epoch)])) as {
      vs_cp_curve: { delta: number | null; verdict: string | null };
    };
    assert.deepEqual(
      [c.vs_cp_curve.verdict, c.vs_cp_curve.delta],
      [row.verdict, row.delta],
      `${row.name} epoch ${row.epoch}`,
    );
  }
});

test("the report's findings state the verdict evaluate stored for each experiment's compared epoch", async () => {
  const out = join(tmp, 'report');
  await ok(['report', '--run', run, '--out', out]);
  const rj = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as {
    findings: {
      rows: {
        experiment: string;
        epoch: number;
        mode: string;
        panel: string;
        delta: number | null;
        verdict: string | null;
      }[];
      sentences: string[];
    };
  };
  const overall = rj.findings.rows.filter((x) => x.panel === 'all');
  assert.deepEqual(overall.map((x) => x.experiment).sort(), POINTS);
  for (const row of overall) {
    const stored = results(row.experiment).calitune.vs_cp[row.mode]!;
    assert.equal(row.epoch, stored.epoch);
    assert.deepEqual([row.verdict, row.delta], [stored.verdict, stored.delta], row.experiment);
    const sentence = rj.findings.sentences.find((s) => s.startsWith(`${row.experiment},`))!;
    if (stored.verdict !== null)
      assert.match(sentence, new RegExp(`CaliTune ${stored.verdict === 'level' ? 'level with CP' : stored.verdict}`));
  }
});

interface FrontierJson {
  run: string;
  backbone: string;
  rows: { name: string; epoch: number; test_ndcg: number; test_jsd: number }[];
  margins: MarginsAtTargets;
}

test('runs frontier --json: margins from the front and the results files; the report agrees', async () => {
  const f = (await json(['runs', 'frontier', '--run', run])) as FrontierJson;
  assert.equal(f.backbone, 'bpr');
  const r = results(POINTS[0]!);
  const curve = resultsCpCurve(r.base_recommendations, r.postprocessed);
  const front = f.rows.map((x) => ({ ndcg: x.test_ndcg, jsd: x.test_jsd }));
  assert.deepEqual(f.margins, marginsAtTargets(front, curve, DEFAULT_MARGIN_TARGETS));
  assert.equal(f.margins.values.length, DEFAULT_MARGIN_TARGETS.length);
  // targets at front points inside CP's range: each margin is a number, the envelope's NDCG − CP's
  const inside = f.rows.filter((x) => x.test_jsd >= curve[0]!.jsd).map((x) => x.test_jsd);
  assert.ok(inside.length > 0, 'no front point inside CP range');
  const targets = [curve[0]!.jsd / 2, ...inside];
  const g = (await json(['runs', 'frontier', '--run', run, '--targets', targets.join(',')])) as FrontierJson;
  assert.deepEqual(g.margins.targets, targets);
  assert.equal(g.margins.values[0], null, 'below CP and the front: n/a');
  g.margins.values.slice(1).forEach((v, i) => {
    assert.equal(typeof v, 'number', `target ${inside[i]}`);
  });
  // several runs: one object each, same margins
  const both = (await json(['runs', 'frontier', '--run', run, '--run', run])) as { runs: FrontierJson[] };
  assert.deepEqual(
    both.runs.map((x) => x.margins),
    [f.margins, f.margins],
  );
  const text = await ok(['runs', 'frontier', '--run', run]);
  assert.match(text, /Margin over CP at fixed calibration/);
  assert.match(text, /\n {2}bpr( +(n\/a|[+-]\d\.\d{4})){7}\n/);
  const out = join(tmp, 'report-margins');
  await ok(['report', '--run', run, '--out', out, '--no-png']);
  const rj = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { margins: MarginsAtTargets };
  assert.deepEqual(rj.margins, f.margins);
  assert.match(readFileSync(join(out, 'index.html'), 'utf8'), /Margin over CP at fixed calibration/);
});
