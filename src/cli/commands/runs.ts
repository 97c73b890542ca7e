import { runUnderTrainedWarning } from '../../store/backbone-convergence.js';
/** `calitune runs list | show NAME | compare A B | frontier`: read the run registry (read-only). */
import { DEFAULT_FINETUNE_CONFIG } from '../../calibration/finetune-config.js';
import { Registry, registryFrontier, type EpochRow, type PointRow } from '../../experiments/registry.js';
import {
  AHEAD_TOLERANCE,
  DEFAULT_MARGIN_TARGETS,
  marginsAtTargets,
  SELECTION_MODES,
  type FrontierReport,
  type MarginsAtTargets,
} from '../../selection/index.js';
import { printSummaryTable } from '../../pipeline/grid-runner.js';
import { marginTextLines } from '../../report/margins.js';
import { readBaseModelResults } from '../../store/base-files.js';
import { refuseStaleResultsOf } from '../../store/results-provenance.js';
import { UserError } from '../../util/errors.js';
import { choice, floatList, requireStr } from '../args.js';
import { findTrial, listTrials, noteTrials, showTrial } from './runs-tune.js';
import type { Command, CommandContext, ParsedValues } from '../command.js';

const f5 = (x: number | null | undefined) =>
  x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(5);
const sgn = (x: number | null | undefined) =>
  x === null || x === undefined ? '—' : `${x >= 0 ? '+' : ''}${x.toFixed(5)}`;

function withRegistry<T>(run: string, fn: (r: Registry) => T): T {
  const reg = Registry.open(run, { readonly: true });
  try {
    return fn(reg);
  } finally {
    reg.close();
  }
}

function getPoint(reg: Registry, name: string): PointRow {
  const p = reg.get(name);
  if (!p) {
    const names = reg.list().map((r) => r.name);
    const shown = names.length ? ` (points: ${names.slice(0, 12).join(', ')}${names.length > 12 ? ', …' : ''})` : '';
    throw new UserError(`no point '${name}' in the registry${shown}`);
  }
  return p;
}

function configDiff(c: Record<string, unknown>): string[] {
  const d = DEFAULT_FINETUNE_CONFIG as Record<string, unknown>;
  return Object.keys(c)
    .filter((k) => JSON.stringify(c[k]) !== JSON.stringify(d[k]))
    .map((k) => `${k}=${JSON.stringify(c[k])}`);
}

const MODES = SELECTION_MODES;

/** `calitune runs list`: every point of the run registry. */
export const runsListCommand: Command = {
  name: 'runs list',
  summary: "List the points of the run registry: status, epochs, seconds, selected epoch's test metrics",
  usage: 'runs list --run RUN [--kind points|tune]',
  options: { run: { type: 'string' }, kind: { type: 'string' } },
  help: `Options:
  --run DIR     run directory with a registry (written by 'calitune grid' / 'experiments' / 'tune')
  --kind KIND   points (default): grid and experiments points; tune: tuning studies and their trials

Example:
  calitune runs list --run runs/oracle
  calitune runs list --run runs/ml-100k --kind tune`,
  async run(v, _pos, ctx) {
    const run = requireStr(v, 'run');
    const kind = choice(v, 'kind', ['points', 'tune'] as const) ?? 'points';
    return withRegistry(run, (reg) => {
      if (kind === 'tune') return listTrials(reg, run, ctx);
      const rows = reg.list();
      const counts: Record<string, number> = { queued: 0, running: 0, done: 0, failed: 0 };
      for (const r of rows) counts[r.status] = (counts[r.status] ?? 0) + 1;
      ctx.info(
        `${rows.length} point(s): ${Object.entries(counts)
          .map(([k, n]) => `${n} ${k}`)
          .join(', ')} (running = interrupted unless a grid is running now)`,
      );
      printSummaryTable(ctx, rows);
      noteTrials(reg, run, ctx);
      return {
        run,
        counts,
        points: rows.map((r) => ({
          name: r.name,
          status: r.status,
          seconds: r.seconds,
          error: r.error,
          frontier: r.frontier,
          selected: r.summary?.selected ?? null,
        })),
      };
    });
  },
};

/** `calitune runs show`: one point of the run registry. */
export const runsShowCommand: Command = {
  name: 'runs show',
  summary:
    'One point or tuning trial of the registry: configuration, status, timings, error, ' +
    'selected epochs with test metrics (a trial: its rungs and valid NDCG@10 curve)',
  usage: 'runs show --run RUN NAME|TRIAL',
  options: { run: { type: 'string' } },
  positionals: true,
  help: `Options:
  --run DIR   run directory with a registry

Example:
  calitune runs show --run runs/oracle c0.5__frozen_itememb__selection_relevance__k50__lr0.0001
  calitune runs show --run runs/ml-100k bpr-asha-t007`,
  async run(v, pos, ctx) {
    const run = requireStr(v, 'run');
    if (pos.length !== 1) throw new UserError('runs show needs exactly one point name or trial id');
    return withRegistry(run, (reg) => {
      const trial = reg.get(pos[0]!) === undefined ? findTrial(reg, pos[0]!) : undefined;
      if (trial) return showTrial(trial, run, ctx);
      const p = getPoint(reg, pos[0]!);
      refuseStaleResultsOf(run, [p.name]); // its test metrics were read from its results file
      const ep = reg.epochs(p.name);
      ctx.info(`${p.name}: ${p.status}${p.attempts > 1 ? ` (${p.attempts} attempts)` : ''}`);
      ctx.info(`  from        ${p.source}`);
      ctx.info(`  config      ${configDiff(p.config).join(', ') || '(the defaults)'}`);
      ctx.info(
        `  started     ${p.started_at ?? '—'}   finished ${p.finished_at ?? '—'}   ` +
          `seconds ${p.seconds?.toFixed(1) ?? '—'}`,
      );
      if (p.error) ctx.info(`  error       ${p.error}`);
      const s = p.summary;
      if (s) {
        ctx.info(
          `  epochs      ${s.epochs_run ?? '—'} (${s.stop_reason ?? '—'}), ${ep.length} stored; ` +
            `frontier ${p.frontier ? 'yes' : 'no'}`,
        );
        ctx.info(`  base        test NDCG@10 ${f5(s.base?.ndcg)}  JSD@10 ${f5(s.base?.jsd)}`);
        ctx.info('  selected on validation → test:');
        for (const m of MODES) {
          const x = s.selected[m];
          const row = x
            ? `epoch ${String(x.epoch).padStart(4)}  valid NDCG ${f5(x.valid.valid_ndcg)} ` +
              `test-list JSD ${f5(x.valid.jsd)}  →  ` +
              `test NDCG ${f5(x.test.ndcg)} JSD ${f5(x.test.jsd)}`
            : '—';
          ctx.info(`    ${m.padEnd(9)} ${row}`);
        }
        ctx.info(`  results     ${s.results}`);
      }
      return { run, ...p, epochs: ep };
    });
  },
};

/** `calitune runs compare`: two points of the run registry side by side. */
export const runsCompareCommand: Command = {
  name: 'runs compare',
  summary: "Two points side by side: configuration differences and selected epochs' test metrics",
  usage: 'runs compare --run RUN A B',
  options: { run: { type: 'string' } },
  positionals: true,
  help:
    `Options:
  --run DIR   run directory with a registry

Example:
  calitune runs compare --run runs/oracle c0.5__frozen_itememb__selection_relevance__k50__lr0.0001 ` +
    'c0.5__unfrozen_itememb__selection_relevance__k50__lr0.0001',
  async run(v, pos, ctx) {
    const run = requireStr(v, 'run');
    if (pos.length !== 2) throw new UserError('runs compare needs two point names');
    return withRegistry(run, (reg) => {
      const a = getPoint(reg, pos[0]!),
        b = getPoint(reg, pos[1]!);
      refuseStaleResultsOf(run, [a.name, b.name]);
      const keys = [...new Set([...Object.keys(a.config), ...Object.keys(b.config)])].filter(
        (k) => JSON.stringify(a.config[k]) !== JSON.stringify(b.config[k]),
      );
      ctx.info(`A = ${a.name} (${a.status})`);
      ctx.info(`B = ${b.name} (${b.status})`);
      const diffs = keys.map((k) => `${k} ${JSON.stringify(a.config[k])} → ${JSON.stringify(b.config[k])}`);
      ctx.info(`config differences: ${keys.length ? diffs.join(', ') : 'none'}`);
      ctx.info(
        `seconds: ${a.seconds?.toFixed(1) ?? '—'} vs ${b.seconds?.toFixed(1) ?? '—'}; ` +
          `epochs ${a.summary?.epochs_run ?? '—'} vs ${b.summary?.epochs_run ?? '—'}`,
      );
      ctx.info(
        'selected on validation (test metrics):   epoch A / B     ' +
          'NDCG A    NDCG B    ΔNDCG      JSD A     JSD B     ΔJSD',
      );
      const modes: Record<string, unknown> = {};
      for (const m of MODES) {
        const x = a.summary?.selected[m],
          y = b.summary?.selected[m];
        const dn = x && y ? y.test.ndcg - x.test.ndcg : null,
          dj = x && y ? y.test.jsd - x.test.jsd : null;
        ctx.info(
          `  ${m.padEnd(38)} ${String(x?.epoch ?? '—').padStart(5)} / ${String(y?.epoch ?? '—').padEnd(5)}  ` +
            `${f5(x?.test.ndcg)}  ${f5(y?.test.ndcg)}  ${sgn(dn)}  ${f5(x?.test.jsd)}  ${f5(y?.test.jsd)}  ${sgn(dj)}`,
        );
        modes[m] = { a: x ?? null, b: y ?? null, delta_ndcg: dn, delta_jsd: dj };
      }
      return { run, a: a.name, b: b.name, config_differences: keys, modes };
    });
  },
};

const VERDICT_CELL = { ahead: '  ahead', level: '  level', behind: '  behind', none: '  —' } as const;
const SEGMENT_WORDS = {
  ahead: 'CaliTune ahead of CP',
  level: `CaliTune level with CP (within ±${AHEAD_TOLERANCE})`,
  behind: 'CP ahead of CaliTune',
} as const;

/** Prints CP's curve and the validation-selected front with each point's verdict against CP. */
export function printFrontier(ctx: CommandContext, f: FrontierReport<EpochRow>): void {
  ctx.info('CP curve (test; λ 0 = the base model):');
  ctx.info('     λ   NDCG@10   JSD@10');
  for (const c of [...f.cp].sort((a, b) => a.lambda - b.lambda))
    ctx.info(`  ${String(c.lambda).padStart(4)}  ${f5(c.ndcg)}  ${f5(c.jsd)}`);
  ctx.info('');
  ctx.info(
    'CaliTune Pareto front chosen without test labels ' +
      '(valid NDCG@10 vs test-list JSD@10, over all points; test metrics shown):',
  );
  const w = Math.max(5, ...f.rows.map((r) => r.name.length));
  ctx.info(`  ${'point'.padEnd(w)}  epoch  valid NDCG  test NDCG@10  test JSD@10  CP NDCG@same JSD     Δ NDCG  vs CP`);
  for (const r of [...f.rows].sort((a, b) => b.test_jsd - a.test_jsd)) {
    ctx.info(
      `  ${r.name.padEnd(w)}  ${String(r.epoch).padStart(5)}  ${f5(r.valid_ndcg).padStart(10)}  ` +
        `${f5(r.test_ndcg).padStart(12)}  ${f5(r.test_jsd).padStart(11)}  ${f5(r.cp_ndcg).padStart(16)}  ` +
        `${sgn(r.delta).padStart(9)}  ${VERDICT_CELL[r.verdict ?? 'none']}`,
    );
  }
  ctx.info('');
  if (f.rows.length === 0) ctx.info('no evaluated epochs in the registry yet');
  for (const g of f.segments) {
    ctx.info(
      `  JSD@10 ${g.fromJsd.toFixed(4)}–${g.toJsd.toFixed(4)}: ` +
        `${SEGMENT_WORDS[g.verdict]} at ${g.points} front point(s), ` +
        `Δ NDCG@10 mean ${sgn(g.meanDelta)}, largest ${sgn(g.maxDelta)}`,
    );
  }
  if (f.crossings.length) {
    ctx.info(`  the curves cross at JSD@10 ≈ ${f.crossings.map((c) => c.toFixed(4)).join(', ')}`);
  }
  if (f.rows.length > 0) {
    if (f.aheadFromJsd === null)
      ctx.info("CaliTune's front is not ahead of CP at its highest JSD values (nor anywhere below them).");
    else
      ctx.info(
        `CaliTune is ahead of CP for JSD@10 ≥ ${f.aheadFromJsd.toFixed(4)}: ` +
          `${f.aheadPoints} of ${f.rangePoints} front points there are ahead ` +
          `(the rest within ${AHEAD_TOLERANCE}), by ${sgn(f.meanGainAhead)} NDCG@10 on average, ` +
          `up to ${sgn(f.maxGainAhead)}.`,
      );
  }
  if (f.beyondCp > 0)
    ctx.info(`${f.beyondCp} front point(s) have a lower JSD than CP's lowest (λ 0.9): no comparison.`);
}

/** The runs named by the repeatable `--run` flag, in the order given. */
function runList(v: ParsedValues): string[] {
  const given = v.run;
  const runs = (Array.isArray(given) ? given : given === undefined ? [] : [given]).filter(
    (r): r is string => typeof r === 'string' && r !== '',
  );
  if (runs.length === 0) throw new UserError('--run is required');
  return runs;
}

/** The backbone's model type as base_model.json names it, else '?'. */
function runBackbone(run: string): string {
  try {
    const t = readBaseModelResults(run)?.model_type;
    return typeof t === 'string' ? t : '?';
  } catch {
    return '?';
  }
}

/** One run's frontier against CP, with its backbone and the margin over CP at the targets. */
function runFrontier(run: string, targets: readonly number[], ctx: CommandContext) {
  return withRegistry(run, (reg) => {
    // The registry's rows were read from results files: a retrained backbone or new CP set makes them stale.
    refuseStaleResultsOf(run, [...new Set(reg.epochs().map((e) => e.name))]);
    const f = registryFrontier(reg);
    if (reg.cp().length <= 1)
      ctx.warn(`note: no CP results in the registry (run 'calitune postprocess --run ${run}' before the grid)`);
    const front = f.rows.map((r) => ({ ndcg: r.test_ndcg, jsd: r.test_jsd }));
    const margins: MarginsAtTargets = marginsAtTargets(front, f.cp, targets);
    return { frontier: f, json: { run, ...f, cp: reg.cp(), backbone: runBackbone(run), margins } };
  });
}

/** `calitune runs frontier`: the validation-selected Pareto front over all points, next to CP's curve. */
export const runsFrontierCommand: Command = {
  name: 'runs frontier',
  summary: 'The Pareto front of all points (valid NDCG@10, test-list JSD@10) next to the CP curve, with test metrics',
  usage: 'runs frontier --run RUN [--run RUN2 …] [--targets T1,T2,…]',
  options: { run: { type: 'string', multiple: true }, targets: { type: 'string' } },
  help: `Options:
  --run DIR        run directory with a registry; repeat it to list several runs (one backbone each)
  --targets LIST   comma-separated JSD@10 levels for the margin line
                   (default ${DEFAULT_MARGIN_TARGETS.join(',')})

Candidates are every stored (checkpointed) epoch of every done point. An epoch is on the front
when no other has a higher valid NDCG@10 at a test-list JSD@10 as low (test-list JSD@10 = the
JSD of the test-time lists against the user targets, the fine-tuner's selection metric; no test
labels): the front is chosen without test labels and shown with TEST metrics. CP's test NDCG at
the same JSD is interpolated linearly along its λ curve (the base model is λ = 0; above the
base model's JSD the base NDCG is used). The verdict: ahead when Δ NDCG > ${AHEAD_TOLERANCE},
behind when Δ NDCG < −${AHEAD_TOLERANCE}, level in between (docs/numeric-contract.md §13).

The margin line, one per run: at each target JSD@10 t, the upper envelope of the front's test
NDCG@10 (the front points no other beats on test, joined by straight lines) minus CP's test
NDCG@10 at t; n/a where the front or CP's curve does not reach t (t below its most calibrated
point). --json gives it as 'margins' (targets, values with null for n/a, front, cp); with
several runs, --json gives { runs: [one object per run] }.

Example:
  calitune runs frontier --run runs/oracle
  calitune runs frontier --run runs/bpr --run runs/multivae --targets 0.05,0.1,0.15`,
  async run(v, _pos, ctx) {
    const runs = runList(v);
    const targets = floatList(v, 'targets', { min: 0 }) ?? DEFAULT_MARGIN_TARGETS;
    const out = runs.map((run) => {
      if (runs.length > 1) ctx.info(`\n== ${run}`);
      const r = runFrontier(run, targets, ctx);
      printFrontier(ctx, r.frontier);
      return r.json;
    });
    ctx.info('');
    const rows = out.map((r) => ({
      label: runs.length > 1 ? `${r.backbone} ${r.run}` : r.backbone,
      margins: r.margins,
    }));
    for (const line of marginTextLines(rows)) ctx.info(line);
    for (const run of runs) {
      const underTrained = runUnderTrainedWarning(run);
      if (underTrained) ctx.warn(underTrained);
    }
    return runs.length === 1 ? out[0] : { runs: out };
  },
};
