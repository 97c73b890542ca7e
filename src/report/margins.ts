/**
 * The margin over CP at fixed calibration levels (docs/numeric-contract.md §13), computed by
 * src/selection (marginsAtTargets) and laid out here: a table on the report page and plain-text
 * lines for `runs frontier` and the demo's summary, so every place shows the same numbers.
 */
import { cpCurve } from '../selection/cp-curve.js';
import { DEFAULT_MARGIN_TARGETS, marginsAtTargets, type MarginsAtTargets } from '../selection/margins.js';
import type { TradeoffPoint } from '../selection/pareto.js';
import { validationParetoFront } from './data-experiments.js';
import type { ReportData } from './data-types.js';
import { genericTable, type PageTable } from './html.js';

/** One line of a margin table: what it is about (a backbone, a run) and its margins. */
export interface MarginRow {
  label: string;
  margins: MarginsAtTargets;
}

/**
 * The report's margins: the validation Pareto front over all experiments, read with the metrics
 * of the report's split (normally test), against CP's curve on that split with the backbone as
 * λ = 0; undefined when there is no front or no CP curve.
 */
export function reportMargins(
  d: ReportData,
  targets: readonly number[] = DEFAULT_MARGIN_TARGETS,
): MarginsAtTargets | undefined {
  const front: TradeoffPoint[] = [];
  for (const f of validationParetoFront(d.experiments)) {
    const m = d.experiments.find((e) => e.name === f.experiment)?.epochs.find((x) => x.epoch === f.epoch)?.m;
    if (m && m.ndcg !== null && m.jsd !== null) front.push({ ndcg: m.ndcg, jsd: m.jsd });
  }
  const base = d.base ? { ndcg: d.base.ndcg, jsd: d.base.jsd } : null;
  const curve = cpCurve(
    base,
    d.cp.map((c) => ({ lambda: Number(c.lambda), ndcg: c.m.ndcg, jsd: c.m.jsd })),
  );
  if (front.length === 0 || curve.length === 0) return undefined;
  return marginsAtTargets(front, curve, targets);
}

const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(4)}`;
const cell = (x: number | null) => (x === null ? 'n/a' : signed(x));

/** The header and one line per row: the margin at each target, n/a where not reached. */
export function marginTextLines(rows: readonly MarginRow[], k = 10): string[] {
  const targets = rows[0]?.margins.targets ?? [...DEFAULT_MARGIN_TARGETS];
  const w = Math.max(8, ...rows.map((r) => r.label.length));
  const out = [
    `Margin over CP at fixed calibration: the front's test NDCG@${k} (upper envelope) − CP's, ` +
      `at test JSD@${k} = t (n/a: not reached by the front or by CP):`,
    `  ${'t'.padEnd(w)}  ${targets.map((t) => String(t).padStart(8)).join(' ')}`,
  ];
  for (const r of rows)
    out.push(`  ${r.label.padEnd(w)}  ${r.margins.values.map((v) => cell(v).padStart(8)).join(' ')}`);
  return out;
}

/** The margins on one line, "t margin" pairs: "0.04 n/a, 0.06 −0.0120, …". */
export function marginInline(m: MarginsAtTargets): string {
  return m.targets.map((t, i) => `${t} ${cell(m.values[i] ?? null)}`).join(', ');
}

/** The margin table under the trade-off chart: margin, front envelope and CP per target. */
export function marginTable(d: ReportData, m: MarginsAtTargets): PageTable {
  const caption =
    `Margin over CP at fixed calibration (${d.split} split): the validation-selected front's NDCG@${d.k} ` +
    `(upper envelope, linear between front points) minus CP's (interpolated over λ) at JSD@${d.k} = t; ` +
    '– where the front or CP does not reach t';
  const head = [`JSD@${d.k} = t`, ...m.targets.map(String)];
  const rows = [
    [`margin (${d.backbone?.model ?? 'backbone'})`, ...m.values],
    ['CaliTune front', ...m.front],
    ['CP', ...m.cp],
  ];
  return { section: 'tradeoff', title: 'margins', html: genericTable(caption, head, rows, 4) };
}
