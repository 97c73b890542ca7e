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

export type VlSpec = Record<string, unknown>;

export interface ChartDef {
  id: string;
  title: string;
  /** What the chart shows and how to read it (HTML-escaped by the page). */
  caption: string;
  spec: VlSpec;
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

// ------------------------------------------------------------------ trade-off

interface TradeRow {
  layer: 'base' | 'cp' | 'path' | 'end' | 'front';
  panel: string;
  jsd: Num;
  ndcg: Num;
  experiment?: string;
  epoch?: number;
  lambda?: string;
  label?: string;
  order: number;
  [k: string]: unknown;
}

function panelRows(d: ReportData, panel: string, pick: (m: MetricSet) => [Num, Num]): TradeRow[] {
  const rows: TradeRow[] = [];
  if (d.base) {
    const [j, n] = pick(d.base);
    rows.push({ layer: 'base', panel, jsd: r5(j), ndcg: r5(n), label: 'backbone', order: 0 });
  }
  d.cp.forEach((c, i) => {
    const [j, n] = pick(c.m);
    rows.push({ layer: 'cp', panel, jsd: r5(j), ndcg: r5(n), lambda: c.lambda, label: `λ ${c.lambda}`, order: i });
  });
  for (const e of d.experiments) {
    if (e.epochs.length === 0) continue;
    for (const ep of e.epochs) {
      const [j, n] = pick(ep.m);
      rows.push({ layer: 'path', panel, jsd: r5(j), ndcg: r5(n), experiment: e.name, epoch: ep.epoch, order: ep.epoch, selected: ep.epoch === e.primary?.epoch ? `yes (${e.primary.mode})` : 'no' });
    }
    // the labelled end point: the last epoch with finite metrics
    const last = [...e.epochs].reverse().find((ep) => { const [j, n] = pick(ep.m); return j !== null && n !== null; });
    if (last) {
      const [j, n] = pick(last.m);
      rows.push({ layer: 'end', panel, jsd: r5(j), ndcg: r5(n), experiment: e.name, epoch: last.epoch, label: e.name, order: last.epoch });
    }
  }
  const front = validationParetoFront(d.experiments);
  front.forEach((f, i) => {
    const ep = d.experiments.find((e) => e.name === f.experiment)?.epochs.find((x) => x.epoch === f.epoch);
    if (!ep) return;
    const [j, n] = pick(ep.m);
    rows.push({ layer: 'front', panel, jsd: r5(j), ndcg: r5(n), experiment: f.experiment, epoch: f.epoch, order: i, valid_ndcg: r5(f.validNdcg), valid_jsd: r5(f.jsd) });
  });
  return rows;
}

function tradeLayers(d: ReportData, expNames: string[], opts: { labels: boolean }): VlSpec[] {
  const narrow = !opts.labels;
  const x = { field: 'jsd', type: 'quantitative', title: jsdTitle(d.k, narrow), scale: { zero: false, nice: true } };
  const y = { field: 'ndcg', type: 'quantitative', title: ndcgTitle(d.k, d.split, narrow), scale: { zero: false, nice: true } };
  const colour = { field: 'experiment', type: 'nominal', title: 'CaliTune experiment', scale: { domain: expNames, range: EXPERIMENT_PALETTE }, legend: opts.labels ? { orient: 'bottom', columns: 4, symbolType: 'stroke', symbolStrokeWidth: 3 } : { symbolType: 'stroke', symbolStrokeWidth: 3 } };
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
      mark: { type: 'line', strokeWidth: 1.6, opacity: 0.9, invalid: 'break-paths-filter-domains', point: { filled: true, size: 10 } },
      encoding: {
        x, y, color: colour, order: { field: 'order', type: 'quantitative' },
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
      mark: { type: 'point', shape: 'circle', filled: false, color: '#000000', strokeWidth: 2, size: 110, invalid: 'filter' },
      encoding: {
        x, y,
        tooltip: [{ field: 'experiment', title: 'validation Pareto front: experiment' }, { field: 'epoch', title: 'epoch' }, num('ndcg', `test NDCG@${d.k}`), num('jsd', `test JSD@${d.k}`), num('valid_ndcg', `valid NDCG@${d.k}`), num('valid_jsd', `valid-time JSD@${d.k}`)],
      },
    },
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
  ];
  if (opts.labels) {
    layers.push(
      { transform: [f('cp')], mark: { type: 'text', dy: -9, fontSize: 9, color: '#333333', invalid: 'filter' }, encoding: { x, y, text: { field: 'lambda' } } },
      { transform: [f('end')], mark: { type: 'text', dx: 8, align: 'left', fontSize: 10, fontWeight: 'bold', invalid: 'filter' }, encoding: { x, y, text: { field: 'label' }, color: colour } },
      { transform: [f('base')], mark: { type: 'text', dx: -10, dy: 16, align: 'right', fontSize: 10, fontWeight: 'bold', color: '#000', invalid: 'filter' }, encoding: { x, y, text: { field: 'label' } } },
    );
  } else {
    layers.push({ transform: [f('base')], mark: { type: 'text', dx: -8, dy: 14, align: 'right', fontSize: 9, color: '#000', invalid: 'filter' }, encoding: { x, y, text: { field: 'label' } } });
  }
  return layers;
}

export function tradeoffChart(d: ReportData): ChartDef {
  const names = d.experiments.filter((e) => e.epochs.length).map((e) => e.name);
  return {
    id: 'tradeoff',
    title: `Accuracy vs calibration: ${d.split} NDCG@${d.k} against JSD@${d.k}, all users`,
    caption: `Black cross: the backbone. Grey dashed curve: CP re-ranking of the backbone's lists, labelled by λ (0.1 → 0.9 moves left: better calibrated, less accurate). ` +
      `Coloured paths: each CaliTune experiment's evaluated epochs in order, the diamond marking the last one. Black rings: the epochs on the Pareto front of the VALIDATION metrics ` +
      `(no other epoch has both a higher valid NDCG@${d.k} and a lower JSD@${d.k}), drawn at their ${d.split} metrics. Up and to the left is better.`,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      width: 640, height: 420,
      data: { values: panelRows(d, 'all users', (m) => [m.jsd, m.ndcg]) },
      layer: tradeLayers(d, names, { labels: true }),
      config: BASE_CONFIG,
    },
  };
}

export function tradeoffByGroupChart(d: ReportData): ChartDef {
  const names = d.experiments.filter((e) => e.epochs.length).map((e) => e.name);
  const groups = d.userGroupNames.slice(0, 3);
  const rows: TradeRow[] = [];
  groups.forEach((g, gi) => {
    const sz = d.userGroupSizes?.[gi];
    rows.push(...panelRows(d, `${cap(g)}${sz !== undefined ? ` (${sz} users)` : ''}`, (m) => [m.jsdGroup[gi] ?? null, m.ndcgGroup[gi] ?? null]));
  });
  const panels = [...new Set(rows.map((r) => r.panel))];
  return {
    id: 'tradeoff_groups',
    title: `The trade-off per user group (${groups.join(' / ')})`,
    caption: `The same chart for each user group (users sorted by the head share of their profile: the first 20% mainstream, the next 60% diverse, the last 20% niche). ` +
      `Each panel has its own axes. The validation front is the overall one, drawn at the group's metrics.`,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      data: { values: rows },
      facet: { column: { field: 'panel', type: 'nominal', sort: panels, title: null, header: { labelFontSize: 13, labelFontWeight: 'bold' } } },
      spec: { width: 330, height: 300, layer: tradeLayers(d, names, { labels: false }) },
      resolve: { scale: { x: 'independent', y: 'independent' } },
      config: BASE_CONFIG,
    },
  };
}

// ------------------------------------------------------------------ RBO box plots

interface BoxStats { n: number; q1: number; median: number; q3: number; lo: number; hi: number; mean: number }

function quantile(s: number[], q: number): number {
  const pos = q * (s.length - 1);
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

/** Tukey box: quartiles (linear interpolation), whiskers at the furthest data within 1.5 IQR. */
export function boxStats(values: number[]): BoxStats | null {
  const s = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return null;
  const q1 = quantile(s, 0.25), median = quantile(s, 0.5), q3 = quantile(s, 0.75);
  const iqr = q3 - q1;
  const lo = s.find((x) => x >= q1 - 1.5 * iqr) ?? s[0]!;
  const hi = [...s].reverse().find((x) => x <= q3 + 1.5 * iqr) ?? s[s.length - 1]!;
  return { n: s.length, q1, median, q3, lo, hi, mean: s.reduce((a, b) => a + b, 0) / s.length };
}

/** Deterministic jitter in [−1, 1] from a user id (no Math.random: reproducible SVGs). */
function jitter(u: number, salt: number): number {
  let h = (u * 2654435761 + salt * 40503) >>> 0;
  h ^= h >>> 15; h = Math.imul(h, 2246822507) >>> 0; h ^= h >>> 13;
  return ((h % 10000) / 10000) * 2 - 1;
}

export function rboChart(d: ReportData, e: ExperimentData, pu: PerUserComparison): ChartDef {
  const groups = d.userGroupNames.slice(0, 3);
  const slots = ['all', ...groups];
  const off = (s: number) => (s - (slots.length - 1) / 2) * 0.2;
  const half = 0.075;
  const dots: Record<string, unknown>[] = [];
  const boxes: Record<string, unknown>[] = [];
  pu.rbo.pairs.forEach((p, pi) => {
    const byGroup: number[][] = slots.map(() => []);
    for (let u = 1; u < p.values.length; u++) {
      const v = p.values[u]!;
      if (!Number.isFinite(v)) continue;
      const g = pu.userGroup[u] ?? -1;
      byGroup[0]!.push(v);
      if (g >= 0 && g < groups.length) {
        byGroup[g + 1]!.push(v);
        dots.push({ kind: 'dot', x: Math.round((pi + off(g + 1) + jitter(u, pi) * half * 0.8) * 1e4) / 1e4, rbo: Math.round(v * 1e5) / 1e5, user: u, group: groups[g], pair: p.label });
      }
    }
    slots.forEach((s, si) => {
      const b = boxStats(byGroup[si]!);
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
  return {
    id: `rbo_${e.name}`,
    title: `Rank-biased overlap over users — ${e.name}, epoch ${pu.epoch} vs CP λ ${pu.lambda}`,
    caption: `For each user, how similar two top-${d.k} lists are (RBO, top-weighted). CaliTune: epoch ${pu.epoch} of '${e.name}', selected on validation (${pu.mode}); ` +
      `CP: λ ${pu.lambda}, the λ whose overall JSD@${d.k} is closest to that epoch's. Per pair one box for all users and one per user group ` +
      `(box: quartiles, bar: median, whiskers: 1.5 × IQR); every user is a dot in their group's column, jittered sideways.`,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      width: 640, height: 360,
      data: { values: [...dots, ...boxes] },
      layer: [
        { transform: [{ filter: "datum.kind === 'dot'" }], mark: { type: 'circle', size: 9, opacity: 0.45 }, encoding: { x: { ...x, field: 'x' }, y: { ...y, field: 'rbo' }, color: colour, tooltip: [{ field: 'user', title: 'user id' }, { field: 'group', title: 'group' }, { field: 'pair', title: 'pair' }, { field: 'rbo', title: 'RBO', format: '.3f' }] } },
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
  const names = exps.map((e) => e.name);
  const rows: Record<string, unknown>[] = [];
  const mN = `valid NDCG@${d.k}`, mJ = `JSD@${d.k} of test-time lists`;
  for (const e of exps) {
    for (const l of e.log) {
      rows.push({ experiment: e.name, epoch: l.epoch, metric: mN, value: r5(l.validNdcg), sel: l.epoch === e.primary?.epoch });
      rows.push({ experiment: e.name, epoch: l.epoch, metric: mJ, value: r5(l.jsd), sel: l.epoch === e.primary?.epoch });
    }
  }
  const colour = { field: 'experiment', type: 'nominal', title: 'experiment', scale: { domain: names, range: EXPERIMENT_PALETTE } };
  const x = { field: 'epoch', type: 'quantitative', title: 'fine-tuning epoch (0 = before fine-tuning)' };
  const y = { field: 'value', type: 'quantitative', title: 'metric value (0–1)', scale: { zero: false } };
  const tip = [{ field: 'experiment' }, { field: 'epoch' }, { field: 'metric' }, { field: 'value', format: '.5f' }];
  return {
    id: 'finetune_curves',
    title: 'CaliTune fine-tuning: validation metrics per epoch',
    caption: `From each experiment's epoch log: validation NDCG@${d.k} (train items masked; higher is better) and JSD@${d.k} of the test-time lists (lower is better). ` +
      `Filled diamonds: the epoch the report compares (selected on validation).`,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      data: { values: rows },
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
  const rows: Record<string, unknown>[] = lt.counts.map((c, r) => ({ kind: 'bar', rank: r + 1, r0: r, count: c, group: glabel[lt.groups[r]!] ?? `group ${lt.groups[r]! + 1}` }));
  for (let g = 0; g < G - 1; g++) rows.push({ kind: 'boundary', rank: lt.boundaries[g]! , text: `${lt.groupNames[g]} | ${lt.groupNames[g + 1]} (after rank ${lt.boundaries[g]})` });
  const max = Math.max(1, ...lt.counts);
  const x = { type: 'quantitative', title: `item rank by popularity (1 = most popular; ${lt.counts.length} items)`, scale: { domain: [0, lt.counts.length], nice: false } };
  const colour = { field: 'group', type: 'nominal', title: 'popularity group', scale: { domain: glabel, range: POP_COLOURS.slice(0, G) }, legend: { orient: 'top-right', direction: 'vertical', labelLimit: 420, fillColor: 'white', strokeColor: '#ccc', padding: 6 } };
  return {
    id: 'long_tail',
    title: 'Item popularity: the long tail and the popularity groups',
    caption: `Each item's popularity (number of distinct users, counted on ${lt.source === 'all' ? 'train + valid + test, as the reference' : 'the train split'}), most popular first. ` +
      `Dashed lines: the group boundaries (head = the most popular items holding 20% of all interactions, tail = the least popular holding the last 20%).`,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      width: 640, height: 300,
      data: { values: rows },
      layer: [
        { transform: [{ filter: "datum.kind === 'bar'" }], mark: { type: 'rect' }, encoding: { x: { ...x, field: 'r0' }, x2: { field: 'rank' }, y: { field: 'count', type: 'quantitative', title: 'popularity (distinct users)', scale: { domain: [0, max] } }, color: colour, tooltip: [{ field: 'rank', title: 'rank' }, { field: 'count', title: 'users' }, { field: 'group', title: 'group' }] } },
        { transform: [{ filter: "datum.kind === 'boundary'" }], mark: { type: 'rule', color: '#000', strokeDash: [5, 3], strokeWidth: 1.4 }, encoding: { x: { ...x, field: 'rank' }, tooltip: [{ field: 'text', title: 'boundary' }] } },
        { transform: [{ filter: "datum.kind === 'boundary'" }], mark: { type: 'text', fontSize: 10, align: 'left', dx: 4, baseline: 'top', color: '#000', angle: 0 }, encoding: { x: { ...x, field: 'rank' }, y: { datum: max * 0.55, type: 'quantitative' }, text: { field: 'rank' } } },
      ],
      config: BASE_CONFIG,
    },
  };
}
