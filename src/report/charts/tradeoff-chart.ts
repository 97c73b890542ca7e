/**
 * The trade-off charts: test NDCG against JSD for the backbone, CP's curve and each CaliTune
 * experiment's path, over all users (one large panel with placed end labels) and per user group
 * (three small panels).
 */
import type { ReportData } from '../data.js';
import {
  BASE_CONFIG,
  cap,
  EXPERIMENT_PALETTE,
  experimentLegendTitle,
  experimentLookup,
  jsdTitle,
  ndcgTitle,
  reportLabels,
  VEGA_LITE_SCHEMA,
  type ChartDef,
  type VlSpec,
} from './spec-common.js';
import { niceDomain } from './label-geometry.js';
import {
  endLabelRows,
  MAX_PATH_POINTS,
  panelRows,
  pathPlan,
  type PathPlan,
  type TradeRow,
  type TradeScales,
} from './tradeoff-rows.js';

interface TradeLayerOptions {
  /** The large chart: end labels, λ labels, axis titles on one line. Else the small panels. */
  labels: boolean;
  /** Fixed axis domains (the ones the labels were placed in); else Vega-Lite's nice domains. */
  domains?: TradeScales;
  /** Legend below the panels, entries in this many columns (the per-group chart); else on the right. */
  legendBelowColumns?: number;
}

/** The encodings every layer shares. */
interface TradeEncodings {
  x: VlSpec;
  y: VlSpec;
  colour: VlSpec;
  /** A filter transform for one row layer. */
  only: (layer: TradeRow['layer']) => VlSpec;
  /** A quantitative tooltip field with 4 decimals. */
  num: (field: string, title: string) => VlSpec;
}

function tradeEncodings(
  d: ReportData,
  labelDomain: string[],
  legendTitle: string | string[],
  opts: TradeLayerOptions,
): TradeEncodings {
  const narrow = !opts.labels;
  const sx = opts.domains ? { domain: opts.domains.x, nice: false, zero: false } : { zero: false, nice: true };
  const sy = opts.domains ? { domain: opts.domains.y, nice: false, zero: false } : { zero: false, nice: true };
  const below =
    opts.legendBelowColumns === undefined
      ? {}
      : { orient: 'bottom', direction: 'horizontal', columns: opts.legendBelowColumns };
  return {
    x: { field: 'jsd', type: 'quantitative', title: jsdTitle(d.k, narrow), scale: sx },
    y: { field: 'ndcg', type: 'quantitative', title: ndcgTitle(d.k, d.split, narrow), scale: sy },
    colour: {
      field: 'elabel',
      type: 'nominal',
      title: legendTitle,
      scale: { domain: labelDomain, range: EXPERIMENT_PALETTE },
      legend: { symbolType: 'stroke', symbolStrokeWidth: 3, labelLimit: 240, ...below },
    },
    only: (layer) => ({ filter: `datum.layer === '${layer}'` }),
    num: (field, title) => ({ field, type: 'quantitative', title, format: '.4f' }),
  };
}

/** CP's dashed curve, the experiments' paths, and the validation front (dotted line and rings). */
function curveLayers(k: number, { x, y, colour, only, num }: TradeEncodings): VlSpec[] {
  const cpMark = {
    type: 'line',
    color: '#444444',
    strokeDash: [5, 3],
    strokeWidth: 1.8,
    invalid: 'break-paths-filter-domains',
    point: { filled: true, color: '#444444', size: 36 },
  };
  const pathMark = {
    type: 'line',
    strokeWidth: 1.6,
    opacity: 0.9,
    invalid: 'break-paths-filter-domains',
    aria: false,
    point: { filled: true, size: 10, aria: false },
  };
  const pathTip = [
    { field: 'experiment', title: 'experiment' },
    { field: 'epoch', title: 'epoch' },
    num('ndcg', `NDCG@${k}`),
    num('jsd', `JSD@${k}`),
    { field: 'selected', title: 'selected on validation' },
  ];
  const frontTip = [
    { field: 'experiment', title: 'validation Pareto front: experiment' },
    { field: 'epoch', title: 'epoch' },
    num('ndcg', `test NDCG@${k}`),
    num('jsd', `test JSD@${k}`),
    num('valid_ndcg', `valid NDCG@${k}`),
    num('valid_jsd', `test-list JSD@${k}`),
  ];
  const cpTip = [{ field: 'label', title: 'CP re-ranking' }, num('ndcg', `NDCG@${k}`), num('jsd', `JSD@${k}`)];
  return [
    {
      transform: [only('cp')],
      mark: cpMark,
      encoding: { x, y, order: { field: 'order', type: 'quantitative' }, tooltip: cpTip },
    },
    {
      transform: [only('path')],
      mark: pathMark,
      encoding: { x, y, color: colour, order: { field: 'epoch', type: 'quantitative' }, tooltip: pathTip },
    },
    {
      transform: [only('front')],
      mark: {
        type: 'line',
        color: '#000000',
        strokeWidth: 1,
        strokeDash: [1, 2],
        invalid: 'break-paths-filter-domains',
      },
      encoding: { x, y, order: { field: 'order', type: 'quantitative' } },
    },
    {
      transform: [only('front')],
      mark: {
        type: 'point',
        shape: 'circle',
        filled: false,
        color: '#000000',
        strokeWidth: 2,
        size: 110,
        invalid: 'filter',
        aria: false,
      },
      encoding: { x, y, tooltip: frontTip },
    },
  ];
}

/** White backgrounds and leader lines of the placed end labels (drawn under the end markers). */
function labelBackgroundLayers({ x, y, colour, only }: TradeEncodings): VlSpec[] {
  return [
    {
      transform: [only('labelbg')],
      mark: { type: 'rect', color: 'white', opacity: 0.8, aria: false },
      encoding: { x, x2: { field: 'jsd2' }, y, y2: { field: 'ndcg2' } },
    },
    {
      transform: [only('leader')],
      mark: { type: 'rule', strokeWidth: 0.8, opacity: 0.9, aria: false },
      encoding: { x, x2: { field: 'jsd2' }, y, y2: { field: 'ndcg2' }, color: colour },
    },
  ];
}

/** The experiments' end diamonds and the backbone's cross. */
function markerLayers(k: number, { x, y, colour, only, num }: TradeEncodings): VlSpec[] {
  const endTip = [
    { field: 'experiment', title: 'experiment (last epoch)' },
    { field: 'epoch', title: 'epoch' },
    num('ndcg', `NDCG@${k}`),
    num('jsd', `JSD@${k}`),
  ];
  return [
    {
      transform: [only('end')],
      mark: {
        type: 'point',
        shape: 'diamond',
        filled: true,
        size: 90,
        stroke: '#000',
        strokeWidth: 0.8,
        invalid: 'filter',
      },
      encoding: { x, y, color: colour, tooltip: endTip },
    },
    {
      transform: [only('base')],
      mark: { type: 'point', shape: 'cross', filled: true, color: '#000000', size: 260, invalid: 'filter' },
      encoding: {
        x,
        y,
        tooltip: [{ field: 'label', title: 'model' }, num('ndcg', `NDCG@${k}`), num('jsd', `JSD@${k}`)],
      },
    },
  ];
}

/** Text: CP's λ values, the experiments' end labels (one layer per alignment) and "backbone". */
function textLayers({ x, y, colour, only }: TradeEncodings, large: boolean): VlSpec[] {
  if (!large) {
    return [
      {
        transform: [only('base')],
        mark: { type: 'text', dx: -8, dy: 14, align: 'right', fontSize: 9, color: '#000', invalid: 'filter' },
        encoding: { x, y, text: { field: 'label' } },
      },
    ];
  }
  const layers: VlSpec[] = [
    {
      transform: [only('cp')],
      mark: { type: 'text', dy: -9, fontSize: 9, color: '#333333', invalid: 'filter' },
      encoding: { x, y, text: { field: 'lambda' } },
    },
  ];
  for (const align of ['left', 'right', 'center']) {
    layers.push({
      transform: [only('label'), { filter: `datum.align === '${align}'` }],
      mark: { type: 'text', align, baseline: 'middle', fontSize: 10, fontWeight: 'bold', invalid: 'filter' },
      encoding: {
        x,
        y,
        text: { field: 'elabel' },
        color: colour,
        tooltip: [{ field: 'experiment', title: 'experiment' }],
      },
    });
  }
  layers.push({
    transform: [only('base')],
    mark: {
      type: 'text',
      dx: -10,
      dy: 16,
      align: 'right',
      fontSize: 10,
      fontWeight: 'bold',
      color: '#000',
      invalid: 'filter',
    },
    encoding: { x, y, text: { field: 'label' } },
  });
  return layers;
}

function tradeLayers(
  d: ReportData,
  labelDomain: string[],
  legendTitle: string | string[],
  opts: TradeLayerOptions,
): VlSpec[] {
  const enc = tradeEncodings(d, labelDomain, legendTitle, opts);
  return [
    ...curveLayers(d.k, enc),
    ...(opts.labels ? labelBackgroundLayers(enc) : []),
    ...markerLayers(d.k, enc),
    ...textLayers(enc, opts.labels),
  ];
}

function thinNote(plan: PathPlan): string {
  if (!plan.thinned) return '';
  return (
    ` Long paths (${plan.thinned} experiment(s) with more than ${MAX_PATH_POINTS} evaluated epochs) ` +
    'are drawn through every n-th epoch plus the first, last, selected and front epochs; ' +
    'the results files hold every epoch.'
  );
}

/** The large chart's axis domains and size, fixed so the end labels can be placed in pixels. */
function tradeScales(rows: TradeRow[], W: number, H: number): TradeScales | undefined {
  const fin = (k: 'jsd' | 'ndcg') => rows.map((r) => r[k]).filter((v): v is number => v !== null && Number.isFinite(v));
  const js = fin('jsd'),
    ns = fin('ndcg');
  if (!js.length || !ns.length) return undefined;
  return { x: niceDomain(Math.min(...js), Math.max(...js)), y: niceDomain(Math.min(...ns), Math.max(...ns)), W, H };
}

/** Test NDCG@k against JSD@k for all users: backbone, CP's curve and each experiment's path, with placed labels. */
export function tradeoffChart(d: ReportData): ChartDef {
  const labels = reportLabels(d);
  const plan = pathPlan(d);
  const W = 640,
    H = 420;
  const rows = panelRows(d, plan, undefined, (m) => [m.jsd, m.ndcg]);
  const domains = tradeScales(rows, W, H);
  if (domains) rows.push(...endLabelRows(rows, plan.names, labels, domains));
  const sharedNote = labels.shared ? ` (${labels.allParsed ? 'all' : 'all grid names'} share: ${labels.shared})` : '';
  const shortNote = plan.names.some((n) => labels.label(n) !== n)
    ? ` Experiments are labelled by the parts of their names that differ${sharedNote}; ` +
      'tooltips and tables give the full names.'
    : '';
  const layerOpts = { labels: true, ...(domains ? { domains } : {}) };
  return {
    id: 'tradeoff',
    title: `Accuracy vs calibration: ${d.split} NDCG@${d.k} against JSD@${d.k}, all users`,
    caption:
      "Black cross: the backbone. Grey dashed curve: CP re-ranking of the backbone's lists, labelled by λ " +
      '(0.1 → 0.9 moves left: better calibrated, less accurate). ' +
      "Coloured paths: each CaliTune experiment's evaluated epochs in order, the diamond marking the last one. " +
      'Black rings: the epochs on the Pareto front of the VALIDATION metrics ' +
      `(no other epoch has both a higher valid NDCG@${d.k} and a lower JSD@${d.k}), ` +
      `drawn at their ${d.split} metrics. ` +
      'Up and to the left is better.' +
      shortNote +
      thinNote(plan),
    interactive: true,
    spec: {
      $schema: VEGA_LITE_SCHEMA,
      width: W,
      height: H,
      data: { values: rows },
      transform: [experimentLookup(plan.names, labels)],
      layer: tradeLayers(
        d,
        plan.names.map((n) => labels.label(n)),
        experimentLegendTitle(labels),
        layerOpts,
      ),
      config: BASE_CONFIG,
    },
  };
}

/**
 * The per-group chart's legend sits below its three panels, its entries in this many columns:
 * on their right it made the chart wider than a 1400 px window.
 */
const GROUP_LEGEND_COLUMNS = 4;

/** The trade-off chart per user group, one small panel each. */
export function tradeoffByGroupChart(d: ReportData): ChartDef {
  const labels = reportLabels(d);
  const plan = pathPlan(d);
  const groups = d.userGroupNames.slice(0, 3);
  const rows: TradeRow[] = [];
  groups.forEach((g, gi) => {
    const sz = d.userGroupSizes?.[gi];
    const panel = `${cap(g)}${sz !== undefined ? ` (${sz} users)` : ''}`;
    rows.push(...panelRows(d, plan, panel, (m) => [m.jsdGroup[gi] ?? null, m.ndcgGroup[gi] ?? null]));
  });
  const panels = [...new Set(rows.map((r) => r.panel!))];
  const layerOpts = { labels: false, legendBelowColumns: GROUP_LEGEND_COLUMNS };
  return {
    id: 'tradeoff_groups',
    title: `The trade-off per user group (${groups.join(' / ')})`,
    caption:
      'The same chart for each user group (users sorted by the head share of their profile: ' +
      'the first 20% mainstream, the next 60% diverse, the last 20% niche). ' +
      "Each panel has its own axes. The validation front is the overall one, drawn at the group's metrics." +
      thinNote(plan),
    interactive: true,
    spec: {
      $schema: VEGA_LITE_SCHEMA,
      data: { values: rows },
      transform: [experimentLookup(plan.names, labels)],
      facet: {
        column: {
          field: 'panel',
          type: 'nominal',
          sort: panels,
          title: null,
          header: { labelFontSize: 13, labelFontWeight: 'bold' },
        },
      },
      spec: {
        width: 330,
        height: 300,
        layer: tradeLayers(
          d,
          plan.names.map((n) => labels.label(n)),
          experimentLegendTitle(labels),
          layerOpts,
        ),
      },
      resolve: { scale: { x: 'independent', y: 'independent' } },
      config: BASE_CONFIG,
    },
  };
}
