/**
 * The data rows of the trade-off charts (NDCG against JSD): the backbone, CP's curve, each
 * experiment's path through its evaluated epochs (long paths thinned), the end points, the
 * validation Pareto front, and the end labels placed in pixels without overlaps.
 */
import type { MetricSet, Num, ReportData } from '../data.js';
import { validationParetoFront } from '../data.js';
import type { ExperimentLabels } from '../labels.js';
import { round6 } from './spec-common.js';
import { placeLabels, textWidth, type LabelBox } from './label-geometry.js';

/** Paths with more evaluated epochs than this are thinned (every n-th epoch + the ones that matter). */
export const MAX_PATH_POINTS = 80;

/**
 * The epochs of a long path to draw: evenly spaced ones (at most ~MAX_PATH_POINTS) plus the
 * first, the last and every epoch in `keep` (selected on validation, on the front). Short
 * paths are drawn whole.
 */
export function thinEpochs(epochs: readonly number[], keep: ReadonlySet<number>, max = MAX_PATH_POINTS): number[] {
  if (epochs.length <= max) return [...epochs];
  const step = Math.ceil(epochs.length / max);
  return epochs.filter((ep, i) => i % step === 0 || i === epochs.length - 1 || keep.has(ep));
}

/** One data row of the trade-off charts; `layer` says which mark draws it. */
export interface TradeRow {
  layer: 'base' | 'cp' | 'path' | 'end' | 'front' | 'label' | 'leader' | 'labelbg';
  panel?: string;
  jsd: Num;
  ndcg: Num;
  ei?: number;
  epoch?: number;
  lambda?: string;
  label?: string;
  order?: number;
  [k: string]: unknown;
}

/** The experiments drawn (those with evaluated epochs) and the epochs drawn of each. */
export interface PathPlan {
  names: string[];
  epochs: Map<string, Set<number>>;
  thinned: number;
}

/** Which experiments and epochs the trade-off charts draw (long paths thinned, selected and front epochs kept). */
export function pathPlan(d: ReportData): PathPlan {
  const exps = d.experiments.filter((e) => e.epochs.length);
  const front = validationParetoFront(d.experiments);
  const epochs = new Map<string, Set<number>>();
  let thinned = 0;
  for (const e of exps) {
    const onFront = front.filter((f) => f.experiment === e.name).map((f) => f.epoch);
    const keep = new Set<number>([...Object.values(e.selected), ...onFront]);
    const all = e.epochs.map((x) => x.epoch);
    const kept = thinEpochs(all, keep);
    if (kept.length < all.length) thinned++;
    epochs.set(e.name, new Set(kept));
  }
  return { names: exps.map((e) => e.name), epochs, thinned };
}

/** Which two metrics a panel plots: [JSD, NDCG] of a metric set (overall or one user group). */
export type MetricPick = (m: MetricSet) => [Num, Num];

function pathRows(d: ReportData, plan: PathPlan, p: { panel?: string }, pick: MetricPick): TradeRow[] {
  const rows: TradeRow[] = [];
  plan.names.forEach((name, ei) => {
    const e = d.experiments.find((x) => x.name === name)!;
    const drawn = plan.epochs.get(name)!;
    for (const ep of e.epochs) {
      if (!drawn.has(ep.epoch)) continue;
      const [j, n] = pick(ep.m);
      const selected = ep.epoch === e.primary?.epoch ? `yes (${e.primary.mode})` : 'no';
      rows.push({ layer: 'path', ...p, jsd: round6(j), ndcg: round6(n), ei, epoch: ep.epoch, selected });
    }
    // the labelled end point: the last epoch with finite metrics
    const last = [...e.epochs].reverse().find((ep) => {
      const [j, n] = pick(ep.m);
      return j !== null && n !== null;
    });
    if (last) {
      const [j, n] = pick(last.m);
      rows.push({ layer: 'end', ...p, jsd: round6(j), ndcg: round6(n), ei, epoch: last.epoch });
    }
  });
  return rows;
}

function frontRows(d: ReportData, plan: PathPlan, p: { panel?: string }, pick: MetricPick): TradeRow[] {
  const rows: TradeRow[] = [];
  validationParetoFront(d.experiments).forEach((f, i) => {
    const ep = d.experiments.find((e) => e.name === f.experiment)?.epochs.find((x) => x.epoch === f.epoch);
    const ei = plan.names.indexOf(f.experiment);
    if (!ep || ei < 0) return;
    const [j, n] = pick(ep.m);
    rows.push({
      layer: 'front',
      ...p,
      jsd: round6(j),
      ndcg: round6(n),
      ei,
      epoch: f.epoch,
      order: i,
      valid_ndcg: round6(f.validNdcg),
      valid_jsd: round6(f.jsd),
    });
  });
  return rows;
}

/** The rows of one panel: backbone, CP points, experiment paths and end points, front. */
export function panelRows(d: ReportData, plan: PathPlan, panel: string | undefined, pick: MetricPick): TradeRow[] {
  const rows: TradeRow[] = [];
  const p = panel === undefined ? {} : { panel };
  if (d.base) {
    const [j, n] = pick(d.base);
    rows.push({ layer: 'base', ...p, jsd: round6(j), ndcg: round6(n), label: 'backbone' });
  }
  d.cp.forEach((c, i) => {
    const [j, n] = pick(c.m);
    rows.push({
      layer: 'cp',
      ...p,
      jsd: round6(j),
      ndcg: round6(n),
      lambda: c.lambda,
      label: `λ ${c.lambda}`,
      order: i,
    });
  });
  rows.push(...pathRows(d, plan, p, pick), ...frontRows(d, plan, p, pick));
  return rows;
}

/** The plot's axis domains and its size in pixels: how data maps to pixels for label placement. */
export interface TradeScales {
  x: [number, number];
  y: [number, number];
  W: number;
  H: number;
}

const isFinitePoint = (r: TradeRow) => r.jsd !== null && r.ndcg !== null;

/**
 * Boxes (pixels) the end labels keep clear of: the end points, the CP points with their λ
 * labels (drawn above them), the front's rings and the backbone's cross with its label below.
 */
type Pixel = { x: number; y: number };

function labelObstacles(rows: TradeRow[], ends: Pixel[], at: (r: TradeRow) => Pixel): LabelBox[] {
  const finite = (layer: TradeRow['layer']) => rows.filter((r) => r.layer === layer && isFinitePoint(r)).map(at);
  return [
    ...ends.map((p) => ({ x0: p.x - 6, x1: p.x + 6, y0: p.y - 6, y1: p.y + 6 })),
    ...finite('cp').map((p) => ({ x0: p.x - 12, x1: p.x + 12, y0: p.y - 16, y1: p.y + 5 })),
    ...finite('front').map((p) => ({ x0: p.x - 6, x1: p.x + 6, y0: p.y - 6, y1: p.y + 6 })),
    ...finite('base').map((p) => ({ x0: p.x - 10, x1: p.x + 10, y0: p.y - 10, y1: p.y + 26 })),
  ];
}

/** End-point labels (short experiment labels) placed without overlaps, as data rows. */
export function endLabelRows(rows: TradeRow[], names: string[], labels: ExperimentLabels, s: TradeScales): TradeRow[] {
  const px = (j: number) => ((j - s.x[0]) / (s.x[1] - s.x[0])) * s.W;
  const py = (n: number) => s.H - ((n - s.y[0]) / (s.y[1] - s.y[0])) * s.H;
  const dj = (x: number) => round6(s.x[0] + (x / s.W) * (s.x[1] - s.x[0]))!;
  const dn = (y: number) => round6(s.y[0] + ((s.H - y) / s.H) * (s.y[1] - s.y[0]))!;
  const at = (r: TradeRow) => ({ x: px(r.jsd!), y: py(r.ndcg!) });
  const ends = rows.filter((r) => r.layer === 'end' && isFinitePoint(r));
  const pts = ends.map((r) => ({ ...at(r), width: textWidth(labels.label(names[r.ei!]!), 10) }));
  const placed = placeLabels(pts, s.W, s.H, labelObstacles(rows, pts, at));
  const out: TradeRow[] = [];
  ends.forEach((r, i) => {
    const pl = placed[i]!;
    const bg = { jsd: dj(pl.box.x0 - 1), ndcg: dn(pl.box.y1), jsd2: dj(pl.box.x1 + 1), ndcg2: dn(pl.box.y0) };
    out.push({ layer: 'labelbg', ...bg });
    out.push({ layer: 'label', jsd: dj(pl.ax), ndcg: dn(pl.ay), ei: r.ei, align: pl.align });
    if (pl.leader) {
      const toX = pl.align === 'left' ? pl.box.x0 : pl.align === 'right' ? pl.box.x1 : pl.ax;
      const toY = pl.align === 'center' ? (pl.ay < py(r.ndcg!) ? pl.box.y1 : pl.box.y0) : pl.ay;
      out.push({ layer: 'leader', jsd: r.jsd, ndcg: r.ndcg, jsd2: dj(toX), ndcg2: dn(toY), ei: r.ei });
    }
  });
  return out;
}
