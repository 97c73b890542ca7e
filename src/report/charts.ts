/**
 * Vega-Lite specifications of the report's charts (issue 7), pure functions of ReportData.
 *
 * Print-readable choices: colour-blind-safe palettes (Okabe–Ito), dark grey / black for the
 * reference marks (backbone, CP, Pareto front) so they survive greyscale, DejaVu Sans (the
 * font resvg and Chromium both find on Debian), axis titles with units and direction.
 * Missing values (null) are drawn as gaps (`invalid: 'break-paths-filter-domains'`).
 */
import type { BackbonePoint, ExperimentData, LongTail, MetricSet, Num, PerUserComparison, ReportData } from './data.js';
import { validationParetoFront } from './data.js';
import { experimentLabels, type ExperimentLabels } from './labels.js';
import { boxStats } from './box-stats.js';

export type VlSpec = Record<string, unknown>;

export interface ChartDef {
  id: string;
  title: string;
  /** What the chart shows and how to read it (HTML-escaped by the page). */
  caption: string;
  spec: VlSpec;
  /**
   * Whether the page makes this chart an interactive Vega view (tooltips). Heavy charts
   * (thousands of marks) are false: the page inlines only their static SVG, which keeps it
   * light and fast to open.
   */
  interactive: boolean;
}

export const FONT = 'DejaVu Sans, Verdana, Arial, sans-serif';

/** Okabe–Ito (without yellow, which vanishes in print) + darker extras for many experiments. */
export const EXPERIMENT_PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#7F3C8D', '#8C564B', '#3969AC', '#11A579', '#B8860B', '#E73F74'];
export const GROUP_COLOURS: Record<string, string> = { all: '#555555', mainstream: '#D55E00', diverse: '#0072B2', niche: '#009E73' };
const POP_COLOURS = ['#D55E00', '#0072B2', '#009E73', '#CC79A7', '#E69F00'];

export const BASE_CONFIG = {
  font: FONT,
  background: 'white',
  padding: 8,
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'bold', gridColor: '#e3e3e3', domainColor: '#666', tickColor: '#666', labelColor: '#222', titleColor: '#111' },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 260, titleLimit: 400 },
  header: { labelFontSize: 13, labelFontWeight: 'bold', titleFontSize: 12 },
  title: { fontSize: 14, anchor: 'start', color: '#111' },
  view: { stroke: '#bbbbbb' },
  text: { font: FONT },
};

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
const r5 = (x: Num) => (x === null ? null : Math.round(x * 1e6) / 1e6);

function jsdTitle(k: number, narrow = false): string | string[] {
  return narrow ? [`JSD@${k} to the user's popularity profile`, '(0–1, lower = better calibrated)'] : `JSD@${k} to the user's popularity profile (0–1, lower = better calibrated)`;
}
function ndcgTitle(k: number, split: string, narrow = false): string | string[] {
  return narrow ? [`${split} NDCG@${k}`, '(0–1, higher = more accurate)'] : `${split} NDCG@${k} (0–1, higher = more accurate)`;
}

// ------------------------------------------------------------------ experiment labels

/** The report's short experiment labels (labels.ts) over every experiment of the run. */
export function reportLabels(d: ReportData): ExperimentLabels {
  return experimentLabels(d.experiments.map((e) => e.name));
}

/** Legend title: what the colours are, and the name components every experiment shares. */
function experimentLegendTitle(labels: ExperimentLabels, what = 'CaliTune experiment'): string | string[] {
  return labels.shared ? [what, `(${labels.allParsed ? 'all' : 'grid names'}: ${labels.shared})`] : what;
}

/**
 * Rows carry a small experiment index `ei`; this transform adds the full name (`experiment`,
 * for tooltips) and the short label (`elabel`, for colours and legends) once per chart,
 * instead of repeating long names in every row.
 */
function experimentLookup(names: string[], labels: ExperimentLabels): VlSpec {
  return { lookup: 'ei', from: { data: { values: names.map((n, i) => ({ ei: i, experiment: n, elabel: labels.label(n) })) }, key: 'ei', fields: ['experiment', 'elabel'] } };
}

// ------------------------------------------------------------------ trade-off

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

interface TradeRow {
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

interface PathPlan { names: string[]; epochs: Map<string, Set<number>>; thinned: number }

function pathPlan(d: ReportData): PathPlan {
  const exps = d.experiments.filter((e) => e.epochs.length);
  const front = validationParetoFront(d.experiments);
  const epochs = new Map<string, Set<number>>();
  let thinned = 0;
  for (const e of exps) {
    const keep = new Set<number>([...Object.values(e.selected), ...front.filter((f) => f.experiment === e.name).map((f) => f.epoch)]);
    const all = e.epochs.map((x) => x.epoch);
    const kept = thinEpochs(all, keep);
    if (kept.length < all.length) thinned++;
    epochs.set(e.name, new Set(kept));
  }
  return { names: exps.map((e) => e.name), epochs, thinned };
}

function panelRows(d: ReportData, plan: PathPlan, panel: string | undefined, pick: (m: MetricSet) => [Num, Num]): TradeRow[] {
  const rows: TradeRow[] = [];
  const p = panel === undefined ? {} : { panel };
  if (d.base) {
    const [j, n] = pick(d.base);
    rows.push({ layer: 'base', ...p, jsd: r5(j), ndcg: r5(n), label: 'backbone' });
  }
  d.cp.forEach((c, i) => {
    const [j, n] = pick(c.m);
    rows.push({ layer: 'cp', ...p, jsd: r5(j), ndcg: r5(n), lambda: c.lambda, label: `λ ${c.lambda}`, order: i });
  });
  plan.names.forEach((name, ei) => {
    const e = d.experiments.find((x) => x.name === name)!;
    const drawn = plan.epochs.get(name)!;
    for (const ep of e.epochs) {
      if (!drawn.has(ep.epoch)) continue;
      const [j, n] = pick(ep.m);
      rows.push({ layer: 'path', ...p, jsd: r5(j), ndcg: r5(n), ei, epoch: ep.epoch, selected: ep.epoch === e.primary?.epoch ? `yes (${e.primary.mode})` : 'no' });
    }
    // the labelled end point: the last epoch with finite metrics
    const last = [...e.epochs].reverse().find((ep) => { const [j, n] = pick(ep.m); return j !== null && n !== null; });
    if (last) {
      const [j, n] = pick(last.m);
      rows.push({ layer: 'end', ...p, jsd: r5(j), ndcg: r5(n), ei, epoch: last.epoch });
    }
  });
  const front = validationParetoFront(d.experiments);
  front.forEach((f, i) => {
    const ep = d.experiments.find((e) => e.name === f.experiment)?.epochs.find((x) => x.epoch === f.epoch);
    const ei = plan.names.indexOf(f.experiment);
    if (!ep || ei < 0) return;
    const [j, n] = pick(ep.m);
    rows.push({ layer: 'front', ...p, jsd: r5(j), ndcg: r5(n), ei, epoch: f.epoch, order: i, valid_ndcg: r5(f.validNdcg), valid_jsd: r5(f.jsd) });
  });
  return rows;
}

/** A "nice" axis domain around [lo, hi] (ends on multiples of a 1/2/5 step, ~6 ticks). */
export function niceDomain(lo: number, hi: number): [number, number] {
  if (!(hi > lo)) { const pad = Math.abs(lo) * 0.05 || 0.01; return [lo - pad, hi + pad]; }
  const raw = (hi - lo) / 6;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const fix = (x: number) => Math.round(x / step) * step;
  return [fix(Math.floor(lo / step) * step), fix(Math.ceil(hi / step) * step)];
}

export interface LabelBox { x0: number; x1: number; y0: number; y1: number }
export interface PlacedLabel { ax: number; ay: number; align: 'left' | 'right' | 'center'; box: LabelBox; leader: boolean }

const boxOverlap = (a: LabelBox, b: LabelBox) => Math.max(0, Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0)) * Math.max(0, Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0));

/**
 * Greedy label placement in pixels (Vega-Lite has no overlap avoidance for text): each label
 * tries positions right / left / above / below its point, then further away with a leader
 * line, and takes the first that stays inside the plot and overlaps no label placed before and
 * no obstacle (the labelled points themselves); else the one with the least overlap.
 */
export function placeLabels(points: { x: number; y: number; width: number }[], W: number, H: number, obstacles: LabelBox[] = [], height = 12): PlacedLabel[] {
  const cands: [number, number, 'left' | 'right' | 'center'][] = [[8, 0, 'left'], [-8, 0, 'right'], [8, -11, 'left'], [8, 11, 'left'], [-8, -11, 'right'], [-8, 11, 'right'], [0, -13, 'center'], [0, 13, 'center']];
  for (let s = 2; s <= 8; s++) for (const sg of [-1, 1]) cands.push([14, sg * 11 * s, 'left'], [-14, sg * 11 * s, 'right']);
  const placed: LabelBox[] = [];
  const out: PlacedLabel[] = new Array(points.length);
  const order = points.map((_, i) => i).sort((a, b) => points[a]!.y - points[b]!.y || points[a]!.x - points[b]!.x);
  for (const i of order) {
    const p = points[i]!;
    let best: PlacedLabel | undefined, bestCost = Infinity;
    for (const [dx, dy, align] of cands) {
      const ax = p.x + dx, ay = p.y + dy;
      const x0 = align === 'left' ? ax : align === 'right' ? ax - p.width : ax - p.width / 2;
      const box = { x0, x1: x0 + p.width, y0: ay - height / 2, y1: ay + height / 2 };
      const outside = Math.max(0, -box.x0) + Math.max(0, box.x1 - W) + Math.max(0, -box.y0) + Math.max(0, box.y1 - H);
      let cost = outside * 1000;
      for (const b of placed) cost += boxOverlap(box, b) * 10;
      for (const b of obstacles) cost += boxOverlap(box, b);
      if (cost === 0) { best = { ax, ay, align, box, leader: Math.abs(dy) > 13 }; break; }
      if (cost < bestCost) { bestCost = cost; best = { ax, ay, align, box, leader: Math.abs(dy) > 13 }; }
    }
    placed.push(best!.box);
    out[i] = best!;
  }
  return out;
}

/** Approximate width in pixels of bold DejaVu Sans at `size` px. */
const textWidth = (s: string, size: number) => [...s].length * size * 0.56 + 2;

interface TradeScales { x: [number, number]; y: [number, number]; W: number; H: number }

/** End-point labels (short experiment labels) placed without overlaps, as data rows. */
function endLabelRows(rows: TradeRow[], names: string[], labels: ExperimentLabels, s: TradeScales): TradeRow[] {
  const px = (j: number) => ((j - s.x[0]) / (s.x[1] - s.x[0])) * s.W;
  const py = (n: number) => s.H - ((n - s.y[0]) / (s.y[1] - s.y[0])) * s.H;
  const dj = (x: number) => r5(s.x[0] + (x / s.W) * (s.x[1] - s.x[0]))!;
  const dn = (y: number) => r5(s.y[0] + ((s.H - y) / s.H) * (s.y[1] - s.y[0]))!;
  const ends = rows.filter((r) => r.layer === 'end' && r.jsd !== null && r.ndcg !== null);
  const pts = ends.map((r) => ({ x: px(r.jsd!), y: py(r.ndcg!), width: textWidth(labels.label(names[r.ei!]!), 10) }));
  const at = (r: TradeRow) => ({ x: px(r.jsd!), y: py(r.ndcg!) });
  const finite = (layer: TradeRow['layer']) => rows.filter((r) => r.layer === layer && r.jsd !== null && r.ndcg !== null).map(at);
  const obstacles: LabelBox[] = [
    ...pts.map((p) => ({ x0: p.x - 6, x1: p.x + 6, y0: p.y - 6, y1: p.y + 6 })),
    // CP points and their λ labels (drawn above them), the front's rings
    ...finite('cp').map((p) => ({ x0: p.x - 12, x1: p.x + 12, y0: p.y - 16, y1: p.y + 5 })),
    ...finite('front').map((p) => ({ x0: p.x - 6, x1: p.x + 6, y0: p.y - 6, y1: p.y + 6 })),
    ...rows.filter((r) => r.layer === 'base' && r.jsd !== null && r.ndcg !== null).map((r) => ({ x0: px(r.jsd!) - 10, x1: px(r.jsd!) + 10, y0: py(r.ndcg!) - 10, y1: py(r.ndcg!) + 26 })),
  ];
  const placed = placeLabels(pts, s.W, s.H, obstacles);
  const out: TradeRow[] = [];
  ends.forEach((r, i) => {
    const pl = placed[i]!;
    out.push({ layer: 'labelbg', jsd: dj(pl.box.x0 - 1), ndcg: dn(pl.box.y1), jsd2: dj(pl.box.x1 + 1), ndcg2: dn(pl.box.y0) });
    out.push({ layer: 'label', jsd: dj(pl.ax), ndcg: dn(pl.ay), ei: r.ei, align: pl.align });
    if (pl.leader) {
      const toX = pl.align === 'left' ? pl.box.x0 : pl.align === 'right' ? pl.box.x1 : pl.ax;
      const toY = pl.align === 'center' ? (pl.ay < py(r.ndcg!) ? pl.box.y1 : pl.box.y0) : pl.ay;
      out.push({ layer: 'leader', jsd: r.jsd, ndcg: r.ndcg, jsd2: dj(toX), ndcg2: dn(toY), ei: r.ei });
    }
  });
  return out;
}

function tradeLayers(d: ReportData, labelDomain: string[], legendTitle: string | string[], opts: { labels: boolean; domains?: TradeScales }): VlSpec[] {
  const narrow = !opts.labels;
  const sx = opts.domains ? { domain: opts.domains.x, nice: false, zero: false } : { zero: false, nice: true };
  const sy = opts.domains ? { domain: opts.domains.y, nice: false, zero: false } : { zero: false, nice: true };
  const x = { field: 'jsd', type: 'quantitative', title: jsdTitle(d.k, narrow), scale: sx };
  const y = { field: 'ndcg', type: 'quantitative', title: ndcgTitle(d.k, d.split, narrow), scale: sy };
  const colour = { field: 'elabel', type: 'nominal', title: legendTitle, scale: { domain: labelDomain, range: EXPERIMENT_PALETTE }, legend: { symbolType: 'stroke', symbolStrokeWidth: 3, labelLimit: 240 } };
  const f = (layer: string) => ({ filter: `datum.layer === '${layer}'` });
  const num = (field: string, title: string) => ({ field, type: 'quantitative', title, format: '.4f' });
  const layers: VlSpec[] = [
    {
      transform: [f('cp')],
      mark: { type: 'line', color: '#444444', strokeDash: [5, 3], strokeWidth: 1.8, invalid: 'break-paths-filter-domains', point: { filled: true, color: '#444444', size: 36 } },
      encoding: { x, y, order: { field: 'order', type: 'quantitative' }, tooltip: [{ field: 'label', title: 'CP re-ranking' }, num('ndcg', `NDCG@${d.k}`), num('jsd', `JSD@${d.k}`)] },
    },
    {
      transform: [f('path')],
      mark: { type: 'line', strokeWidth: 1.6, opacity: 0.9, invalid: 'break-paths-filter-domains', aria: false, point: { filled: true, size: 10, aria: false } },
      encoding: {
        x, y, color: colour, order: { field: 'epoch', type: 'quantitative' },
        tooltip: [{ field: 'experiment', title: 'experiment' }, { field: 'epoch', title: 'epoch' }, num('ndcg', `NDCG@${d.k}`), num('jsd', `JSD@${d.k}`), { field: 'selected', title: 'selected on validation' }],
      },
    },
    {
      transform: [f('front')],
      mark: { type: 'line', color: '#000000', strokeWidth: 1, strokeDash: [1, 2], invalid: 'break-paths-filter-domains' },
      encoding: { x, y, order: { field: 'order', type: 'quantitative' } },
    },
    {
      transform: [f('front')],
      mark: { type: 'point', shape: 'circle', filled: false, color: '#000000', strokeWidth: 2, size: 110, invalid: 'filter', aria: false },
      encoding: {
        x, y,
        tooltip: [{ field: 'experiment', title: 'validation Pareto front: experiment' }, { field: 'epoch', title: 'epoch' }, num('ndcg', `test NDCG@${d.k}`), num('jsd', `test JSD@${d.k}`), num('valid_ndcg', `valid NDCG@${d.k}`), num('valid_jsd', `valid-time JSD@${d.k}`)],
      },
    },
  ];
  if (opts.labels) {
    // label backgrounds and leader lines under the end markers
    layers.push(
      { transform: [f('labelbg')], mark: { type: 'rect', color: 'white', opacity: 0.8, aria: false }, encoding: { x, x2: { field: 'jsd2' }, y, y2: { field: 'ndcg2' } } },
      { transform: [f('leader')], mark: { type: 'rule', strokeWidth: 0.8, opacity: 0.9, aria: false }, encoding: { x, x2: { field: 'jsd2' }, y, y2: { field: 'ndcg2' }, color: colour } },
    );
  }
  layers.push(
    {
      transform: [f('end')],
      mark: { type: 'point', shape: 'diamond', filled: true, size: 90, stroke: '#000', strokeWidth: 0.8, invalid: 'filter' },
      encoding: { x, y, color: colour, tooltip: [{ field: 'experiment', title: 'experiment (last epoch)' }, { field: 'epoch', title: 'epoch' }, num('ndcg', `NDCG@${d.k}`), num('jsd', `JSD@${d.k}`)] },
    },
    {
      transform: [f('base')],
      mark: { type: 'point', shape: 'cross', filled: true, color: '#000000', size: 260, invalid: 'filter' },
      encoding: { x, y, tooltip: [{ field: 'label', title: 'model' }, num('ndcg', `NDCG@${d.k}`), num('jsd', `JSD@${d.k}`)] },
    },
  );
  if (opts.labels) {
    layers.push({ transform: [f('cp')], mark: { type: 'text', dy: -9, fontSize: 9, color: '#333333', invalid: 'filter' }, encoding: { x, y, text: { field: 'lambda' } } });
    for (const align of ['left', 'right', 'center']) {
      layers.push({
        transform: [f('label'), { filter: `datum.align === '${align}'` }],
        mark: { type: 'text', align, baseline: 'middle', fontSize: 10, fontWeight: 'bold', invalid: 'filter' },
        encoding: { x, y, text: { field: 'elabel' }, color: colour, tooltip: [{ field: 'experiment', title: 'experiment' }] },
      });
    }
    layers.push({ transform: [f('base')], mark: { type: 'text', dx: -10, dy: 16, align: 'right', fontSize: 10, fontWeight: 'bold', color: '#000', invalid: 'filter' }, encoding: { x, y, text: { field: 'label' } } });
  } else {
    layers.push({ transform: [f('base')], mark: { type: 'text', dx: -8, dy: 14, align: 'right', fontSize: 9, color: '#000', invalid: 'filter' }, encoding: { x, y, text: { field: 'label' } } });
  }
  return layers;
}

function thinNote(plan: PathPlan): string {
  return plan.thinned ? ` Long paths (${plan.thinned} experiment(s) with more than ${MAX_PATH_POINTS} evaluated epochs) are drawn through every n-th epoch plus the first, last, selected and front epochs; the results files hold every epoch.` : '';
}

export function tradeoffChart(d: ReportData): ChartDef {
  const labels = reportLabels(d);
  const plan = pathPlan(d);
  const W = 640, H = 420;
  const rows = panelRows(d, plan, undefined, (m) => [m.jsd, m.ndcg]);
  const fin = (k: 'jsd' | 'ndcg') => rows.map((r) => r[k]).filter((v): v is number => v !== null && Number.isFinite(v));
  const js = fin('jsd'), ns = fin('ndcg');
  const domains: TradeScales | undefined = js.length && ns.length ? { x: niceDomain(Math.min(...js), Math.max(...js)), y: niceDomain(Math.min(...ns), Math.max(...ns)), W, H } : undefined;
  if (domains) rows.push(...endLabelRows(rows, plan.names, labels, domains));
  const shortNote = plan.names.some((n) => labels.label(n) !== n) ? ` Experiments are labelled by the parts of their names that differ${labels.shared ? ` (${labels.allParsed ? 'all' : 'all grid names'} share: ${labels.shared})` : ''}; tooltips and tables give the full names.` : '';
  return {
    id: 'tradeoff',
    title: `Accuracy vs calibration: ${d.split} NDCG@${d.k} against JSD@${d.k}, all users`,
    caption: `Black cross: the backbone. Grey dashed curve: CP re-ranking of the backbone's lists, labelled by λ (0.1 → 0.9 moves left: better calibrated, less accurate). ` +
      `Coloured paths: each CaliTune experiment's evaluated epochs in order, the diamond marking the last one. Black rings: the epochs on the Pareto front of the VALIDATION metrics ` +
      `(no other epoch has both a higher valid NDCG@${d.k} and a lower JSD@${d.k}), drawn at their ${d.split} metrics. Up and to the left is better.` + shortNote + thinNote(plan),
    interactive: true,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      width: W, height: H,
      data: { values: rows },
      transform: [experimentLookup(plan.names, labels)],
      layer: tradeLayers(d, plan.names.map((n) => labels.label(n)), experimentLegendTitle(labels), { labels: true, ...(domains ? { domains } : {}) }),
      config: BASE_CONFIG,
    },
  };
}

export function tradeoffByGroupChart(d: ReportData): ChartDef {
  const labels = reportLabels(d);
  const plan = pathPlan(d);
  const groups = d.userGroupNames.slice(0, 3);
  const rows: TradeRow[] = [];
  groups.forEach((g, gi) => {
    const sz = d.userGroupSizes?.[gi];
    rows.push(...panelRows(d, plan, `${cap(g)}${sz !== undefined ? ` (${sz} users)` : ''}`, (m) => [m.jsdGroup[gi] ?? null, m.ndcgGroup[gi] ?? null]));
  });
  const panels = [...new Set(rows.map((r) => r.panel!))];
  return {
    id: 'tradeoff_groups',
    title: `The trade-off per user group (${groups.join(' / ')})`,
    caption: `The same chart for each user group (users sorted by the head share of their profile: the first 20% mainstream, the next 60% diverse, the last 20% niche). ` +
      `Each panel has its own axes. The validation front is the overall one, drawn at the group's metrics.` + thinNote(plan),
    interactive: true,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      data: { values: rows },
      transform: [experimentLookup(plan.names, labels)],
      facet: { column: { field: 'panel', type: 'nominal', sort: panels, title: null, header: { labelFontSize: 13, labelFontWeight: 'bold' } } },
      spec: { width: 330, height: 300, layer: tradeLayers(d, plan.names.map((n) => labels.label(n)), experimentLegendTitle(labels), { labels: false }) },
      resolve: { scale: { x: 'independent', y: 'independent' } },
      config: BASE_CONFIG,
    },
  };
}

// ------------------------------------------------------------------ RBO box plots

/** Deterministic jitter in [−1, 1] from a user id (no Math.random: reproducible SVGs). */
function jitter(u: number, salt: number): number {
  let h = (u * 2654435761 + salt * 40503) >>> 0;
  h ^= h >>> 15; h = Math.imul(h, 2246822507) >>> 0; h ^= h >>> 13;
  return ((h % 10000) / 10000) * 2 - 1;
}

export interface RboChartOptions {
  /**
   * Every user as a jittered dot (true), or boxes with only the Tukey outliers as dots (false).
   * Per-user dots are thousands of marks per chart: the report keeps them for a few experiments.
   */
  dots: boolean;
  /** The experiment's display label (labels.ts); default its name. */
  label?: string;
}

/** RBO charts with every user as a dot, or with more outlier dots than this, are static only (no interactive view). */
export const RBO_INTERACTIVE_MAX_DOTS = 500;

export function rboChart(d: ReportData, e: ExperimentData, pu: PerUserComparison, opts: RboChartOptions = { dots: true }): ChartDef {
  const groups = d.userGroupNames.slice(0, 3);
  const slots = ['all', ...groups];
  const off = (s: number) => (s - (slots.length - 1) / 2) * 0.2;
  const half = 0.075;
  const dots: Record<string, unknown>[] = [];
  const boxes: Record<string, unknown>[] = [];
  pu.rbo.pairs.forEach((p, pi) => {
    const byGroup: number[][] = slots.map(() => []);
    const users: [number, number, number][] = []; // user, group, value
    for (let u = 1; u < p.values.length; u++) {
      const v = p.values[u]!;
      if (!Number.isFinite(v)) continue;
      const g = pu.userGroup[u] ?? -1;
      byGroup[0]!.push(v);
      if (g >= 0 && g < groups.length) {
        byGroup[g + 1]!.push(v);
        users.push([u, g, v]);
      }
    }
    const stats = slots.map((_, si) => boxStats(byGroup[si]!));
    for (const [u, g, v] of users) {
      const b = stats[g + 1];
      if (!opts.dots && b && v >= b.lo && v <= b.hi) continue; // boxes only: outliers stay dots
      dots.push({ kind: 'dot', x: Math.round((pi + off(g + 1) + jitter(u, pi) * half * 0.8) * 1e4) / 1e4, rbo: Math.round(v * 1e5) / 1e5, user: u, group: groups[g], pair: p.label });
    }
    slots.forEach((s, si) => {
      const b = stats[si];
      if (!b) return;
      const c = pi + off(si);
      boxes.push({ kind: 'box', x0: c - half, x1: c + half, xc: c, group: s === 'all' ? 'all users' : s, pair: p.label, ...Object.fromEntries(Object.entries(b).map(([k, v]) => [k, Math.round(v * 1e5) / 1e5])) });
    });
  });
  const labels = pu.rbo.pairs.map((p) => p.label);
  const gDomain = ['all users', ...groups];
  const gRange = ['all', ...groups].map((g) => GROUP_COLOURS[g] ?? '#777');
  const x = { type: 'quantitative', title: null, scale: { domain: [-0.5, labels.length - 0.5], nice: false, zero: false }, axis: { labelLimit: 400, values: labels.map((_, i) => i), labelExpr: `[${labels.map((l) => `'${l}'`).join(',')}][round(datum.value)]`, grid: false, labelFontSize: 12, labelFontWeight: 'bold' } };
  const y = { type: 'quantitative', title: [`RBO@${d.k} (rank-biased overlap, p = ${e.results?.calitune.rbo_p ?? 0.9})`, '1 = same list, 0 = disjoint'], scale: { zero: false, domainMax: 1, nice: true } };
  const colour = { field: 'group', type: 'nominal', title: 'user group', scale: { domain: gDomain, range: gRange } };
  const boxTip = [{ field: 'pair', title: 'pair' }, { field: 'group', title: 'users' }, { field: 'n', title: 'n' }, { field: 'median', title: 'median', format: '.3f' }, { field: 'q1', title: 'Q1', format: '.3f' }, { field: 'q3', title: 'Q3', format: '.3f' }, { field: 'mean', title: 'mean', format: '.3f' }];
  const label = opts.label ?? e.name;
  return {
    id: `rbo_${e.name}`,
    title: `Rank-biased overlap over users — ${label}, epoch ${pu.epoch} vs CP λ ${pu.lambda}`,
    caption: `For each user, how similar two top-${d.k} lists are (RBO, top-weighted). CaliTune: epoch ${pu.epoch} of '${e.name}', selected on validation (${pu.mode}); ` +
      `CP: λ ${pu.lambda}, the λ whose overall JSD@${d.k} is closest to that epoch's. Per pair one box for all users and one per user group ` +
      `(box: quartiles, bar: median, whiskers: 1.5 × IQR); ` +
      (opts.dots ? `every user is a dot in their group's column, jittered sideways.` : `dots: the users outside the whiskers (per-user dots for every user are drawn for the experiments on the validation Pareto front).`),
    interactive: !opts.dots && dots.length <= RBO_INTERACTIVE_MAX_DOTS,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      width: 640, height: 360,
      data: { values: [...dots, ...boxes] },
      layer: [
        { transform: [{ filter: "datum.kind === 'dot'" }], mark: { type: 'circle', size: opts.dots ? 9 : 16, opacity: opts.dots ? 0.45 : 0.7, aria: false }, encoding: { x: { ...x, field: 'x' }, y: { ...y, field: 'rbo' }, color: colour, tooltip: [{ field: 'user', title: 'user id' }, { field: 'group', title: 'group' }, { field: 'pair', title: 'pair' }, { field: 'rbo', title: 'RBO', format: '.3f' }] } },
        { transform: [{ filter: "datum.kind === 'box'" }], mark: { type: 'rule', strokeWidth: 1.2 }, encoding: { x: { ...x, field: 'xc' }, y: { ...y, field: 'lo' }, y2: { field: 'hi' }, color: colour } },
        { transform: [{ filter: "datum.kind === 'box'" }], mark: { type: 'rect', fillOpacity: 0.18, strokeWidth: 1.6 }, encoding: { x: { ...x, field: 'x0' }, x2: { field: 'x1' }, y: { ...y, field: 'q1' }, y2: { field: 'q3' }, color: colour, stroke: colour, tooltip: boxTip } },
        { transform: [{ filter: "datum.kind === 'box'" }], mark: { type: 'rule', color: '#000', strokeWidth: 2.2 }, encoding: { x: { ...x, field: 'x0' }, x2: { field: 'x1' }, y: { ...y, field: 'median' }, tooltip: boxTip } },
      ],
      config: BASE_CONFIG,
    },
  };
}

// ------------------------------------------------------------------ training curves

export function finetuneCurvesChart(d: ReportData): ChartDef | undefined {
  const exps = d.experiments.filter((e) => e.log.length > 0);
  if (exps.length === 0) return undefined;
  const labels = reportLabels(d);
  const names = exps.map((e) => e.name);
  // one compact row per epoch (experiment index, both metrics); folded into one row per metric in the spec
  const rows: Record<string, unknown>[] = [];
  const mN = `valid NDCG@${d.k}`, mJ = `JSD@${d.k} of test-time lists`;
  exps.forEach((e, ei) => {
    for (const l of e.log) rows.push({ ei, epoch: l.epoch, n: r5(l.validNdcg), j: r5(l.jsd), ...(l.epoch === e.primary?.epoch ? { sel: true } : {}) });
  });
  const colour = { field: 'elabel', type: 'nominal', title: experimentLegendTitle(labels, 'experiment'), scale: { domain: names.map((n) => labels.label(n)), range: EXPERIMENT_PALETTE }, legend: { labelLimit: 240 } };
  const x = { field: 'epoch', type: 'quantitative', title: 'fine-tuning epoch (0 = before fine-tuning)' };
  const y = { field: 'value', type: 'quantitative', title: 'metric value (0–1)', scale: { zero: false } };
  const tip = [{ field: 'experiment' }, { field: 'epoch' }, { field: 'metric' }, { field: 'value', format: '.5f' }];
  return {
    id: 'finetune_curves',
    title: 'CaliTune fine-tuning: validation metrics per epoch',
    caption: `From each experiment's epoch log: validation NDCG@${d.k} (train items masked; higher is better) and JSD@${d.k} of the test-time lists (lower is better). ` +
      `Filled diamonds: the epoch the report compares (selected on validation).`,
    interactive: true,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      data: { values: rows },
      transform: [
        experimentLookup(names, labels),
        { fold: ['n', 'j'], as: ['key', 'value'] },
        { calculate: `datum.key === 'n' ? '${mN}' : '${mJ}'`, as: 'metric' },
      ],
      facet: { column: { field: 'metric', type: 'nominal', sort: [mN, mJ], title: null } },
      spec: {
        width: 330, height: 240,
        layer: [
          { mark: { type: 'line', strokeWidth: 1.6, invalid: 'break-paths-filter-domains' }, encoding: { x, y, color: colour, tooltip: tip } },
          { transform: [{ filter: 'datum.sel' }], mark: { type: 'point', shape: 'diamond', filled: true, size: 90, stroke: '#000', strokeWidth: 0.8, invalid: 'filter' }, encoding: { x, y, color: colour, tooltip: tip } },
        ],
      },
      resolve: { scale: { y: 'independent' } },
      config: BASE_CONFIG,
    },
  };
}

export function backboneCurveChart(d: ReportData): ChartDef | undefined {
  const bl = d.backboneLog;
  if (!bl) return undefined;
  const mN = `valid NDCG@${d.k}`, mL = 'training loss (sum over batches)';
  const rows: Record<string, unknown>[] = [];
  const hasLoss = bl.points.some((p: BackbonePoint) => p.loss !== null);
  for (const p of bl.points) {
    rows.push({ epoch: p.epoch, metric: mN, value: r5(p.validNdcg) });
    if (hasLoss) rows.push({ epoch: p.epoch, metric: mL, value: p.loss === null ? null : Math.round(p.loss * 1e4) / 1e4 });
  }
  const x = { field: 'epoch', type: 'quantitative', title: 'backbone training epoch' };
  const y = { field: 'value', type: 'quantitative', title: null, scale: { zero: false } };
  const layers: VlSpec[] = [
    { mark: { type: 'line', color: '#0072B2', strokeWidth: 1.8, invalid: 'break-paths-filter-domains' }, encoding: { x, y, tooltip: [{ field: 'epoch' }, { field: 'metric' }, { field: 'value', format: '.5f' }] } },
  ];
  if (bl.bestEpoch !== undefined) {
    rows.push({ epoch: bl.bestEpoch, metric: mN, best: true });
    if (hasLoss) rows.push({ epoch: bl.bestEpoch, metric: mL, best: true });
    layers.push({ transform: [{ filter: 'datum.best === true' }], mark: { type: 'rule', color: '#D55E00', strokeDash: [4, 3], strokeWidth: 1.5 }, encoding: { x, tooltip: [{ field: 'epoch', title: 'best epoch (valid NDCG)' }] } });
  }
  const model = d.backbone?.model ?? (d.info?.source.kind === 'import' ? 'imported' : 'backbone');
  return {
    id: 'backbone_curve',
    title: `Backbone training (${model}): validation NDCG@${d.k}${hasLoss ? ' and loss' : ''} per epoch`,
    caption: `The backbone's training log (${bl.source}). The dashed orange line marks the epoch kept by early stopping (best validation NDCG@${d.k}).`,
    interactive: true,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      data: { values: rows },
      facet: { column: { field: 'metric', type: 'nominal', sort: [mN, mL], title: null } },
      spec: { width: 330, height: 220, layer: layers },
      resolve: { scale: { y: 'independent' } },
      config: BASE_CONFIG,
    },
  };
}

export function longTailChart(lt: LongTail): ChartDef {
  const G = lt.groupNames.length;
  const glabel: string[] = [];
  let prev = 0;
  for (let g = 0; g < G; g++) {
    const b = lt.boundaries[g]!;
    glabel.push(`${lt.groupNames[g]}: ranks ${prev + 1}–${b} (${b - prev} items, ${(100 * lt.massShare[g]!).toFixed(1)}% of interactions)`);
    prev = b;
  }
  // The bars of the 1 682 items are drawn as one step area per group: a point where the count
  // changes (runs of equal counts collapse), closed at the group's last rank. Same picture, a
  // few hundred points instead of one rectangle per item.
  const rows: Record<string, unknown>[] = [];
  let seg = -1;
  for (let r = 0; r < lt.counts.length; r++) {
    const c = lt.counts[r]!, g = lt.groups[r]!;
    const newSeg = r === 0 || g !== lt.groups[r - 1];
    if (newSeg) seg++;
    if (newSeg || c !== lt.counts[r - 1]) rows.push({ kind: 'step', seg, r0: r, count: c, group: glabel[g] ?? `group ${g + 1}` });
    if (r === lt.counts.length - 1 || lt.groups[r + 1] !== g) rows.push({ kind: 'step', seg, r0: r + 1, count: c, group: glabel[g] ?? `group ${g + 1}` });
  }
  for (let g = 0; g < G - 1; g++) rows.push({ kind: 'boundary', rank: lt.boundaries[g]! , text: `${lt.groupNames[g]} | ${lt.groupNames[g + 1]} (after rank ${lt.boundaries[g]})` });
  const max = Math.max(1, ...lt.counts);
  const x = { type: 'quantitative', title: `item rank by popularity (1 = most popular; ${lt.counts.length} items)`, scale: { domain: [0, lt.counts.length], nice: false } };
  const colour = { field: 'group', type: 'nominal', title: 'popularity group', scale: { domain: glabel, range: POP_COLOURS.slice(0, G) }, legend: { orient: 'top-right', direction: 'vertical', labelLimit: 0, fillColor: 'white', strokeColor: '#ccc', padding: 6 } };
  return {
    id: 'long_tail',
    title: 'Item popularity: the long tail and the popularity groups',
    caption: `Each item's popularity (number of distinct users, counted on ${lt.source === 'all' ? 'train + valid + test, as the reference' : 'the train split'}), most popular first. ` +
      `Dashed lines: the group boundaries (head = the most popular items holding 20% of all interactions, tail = the least popular holding the last 20%).`,
    interactive: true,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      width: 640, height: 300,
      data: { values: rows },
      layer: [
        { transform: [{ filter: "datum.kind === 'step'" }], mark: { type: 'area', interpolate: 'step-after', line: false }, encoding: { x: { ...x, field: 'r0' }, y: { field: 'count', type: 'quantitative', title: 'popularity (distinct users)', scale: { domain: [0, max] }, stack: null }, color: colour, detail: { field: 'seg', type: 'nominal' }, tooltip: [{ field: 'group', title: 'popularity group' }] } },
        { transform: [{ filter: "datum.kind === 'boundary'" }], mark: { type: 'rule', color: '#000', strokeDash: [5, 3], strokeWidth: 1.4 }, encoding: { x: { ...x, field: 'rank' }, tooltip: [{ field: 'text', title: 'boundary' }] } },
        { transform: [{ filter: "datum.kind === 'boundary'" }], mark: { type: 'text', fontSize: 10, align: 'left', dx: 4, baseline: 'top', color: '#000', angle: 0 }, encoding: { x: { ...x, field: 'rank' }, y: { datum: max * 0.55, type: 'quantitative' }, text: { field: 'rank' } } },
      ],
      config: BASE_CONFIG,
    },
  };
}
