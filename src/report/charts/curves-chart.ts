/**
 * Training curves: the CaliTune experiments' validation metrics per fine-tuning epoch, and the
 * backbone's validation NDCG (and loss) per training epoch.
 */
import type { BackbonePoint, ReportData } from '../data.js';
import {
  BASE_CONFIG,
  EXPERIMENT_PALETTE,
  experimentLegendTitle,
  experimentLookup,
  reportLabels,
  round6,
  VEGA_LITE_SCHEMA,
  type ChartDef,
  type VlSpec,
} from './spec-common.js';

/** Valid NDCG@k and JSD@k per fine-tuning epoch of every experiment with an epoch log; undefined when none has one. */
export function finetuneCurvesChart(d: ReportData): ChartDef | undefined {
  const exps = d.experiments.filter((e) => e.log.length > 0);
  if (exps.length === 0) return undefined;
  const labels = reportLabels(d);
  const names = exps.map((e) => e.name);
  // one compact row per epoch (experiment index, both metrics); folded into one row per metric in the spec
  const rows: Record<string, unknown>[] = [];
  const mN = `valid NDCG@${d.k}`,
    mJ = `test-list JSD@${d.k}`;
  exps.forEach((e, ei) => {
    for (const l of e.log) {
      const sel = l.epoch === e.primary?.epoch ? { sel: true } : {};
      rows.push({ ei, epoch: l.epoch, n: round6(l.validNdcg), j: round6(l.jsd), ...sel });
    }
  });
  const colour = {
    field: 'elabel',
    type: 'nominal',
    title: experimentLegendTitle(labels, 'experiment'),
    scale: { domain: names.map((n) => labels.label(n)), range: EXPERIMENT_PALETTE },
    legend: { labelLimit: 240 },
  };
  const x = { field: 'epoch', type: 'quantitative', title: 'fine-tuning epoch (0 = before fine-tuning)' };
  const y = { field: 'value', type: 'quantitative', title: 'metric value (0–1)', scale: { zero: false } };
  const tip = [{ field: 'experiment' }, { field: 'epoch' }, { field: 'metric' }, { field: 'value', format: '.5f' }];
  const selectedMark = {
    type: 'point',
    shape: 'diamond',
    filled: true,
    size: 90,
    stroke: '#000',
    strokeWidth: 0.8,
    invalid: 'filter',
  };
  return {
    id: 'finetune_curves',
    title: 'CaliTune fine-tuning: validation metrics per epoch',
    caption:
      `From each experiment's epoch log: validation NDCG@${d.k} (train items masked; higher is better) ` +
      `and JSD@${d.k} of the test-time lists (lower is better). ` +
      'Filled diamonds: the epoch the report compares (selected on validation).',
    interactive: true,
    spec: {
      $schema: VEGA_LITE_SCHEMA,
      data: { values: rows },
      transform: [
        experimentLookup(names, labels),
        { fold: ['n', 'j'], as: ['key', 'value'] },
        { calculate: `datum.key === 'n' ? '${mN}' : '${mJ}'`, as: 'metric' },
      ],
      facet: { column: { field: 'metric', type: 'nominal', sort: [mN, mJ], title: null } },
      spec: {
        width: 330,
        height: 240,
        layer: [
          {
            mark: { type: 'line', strokeWidth: 1.6, invalid: 'break-paths-filter-domains' },
            encoding: { x, y, color: colour, tooltip: tip },
          },
          { transform: [{ filter: 'datum.sel' }], mark: selectedMark, encoding: { x, y, color: colour, tooltip: tip } },
        ],
      },
      resolve: { scale: { y: 'independent' } },
      config: BASE_CONFIG,
    },
  };
}

/** The backbone's valid NDCG@k and training loss per epoch; undefined without a training log. */
export function backboneCurveChart(d: ReportData): ChartDef | undefined {
  const bl = d.backboneLog;
  if (!bl) return undefined;
  const mN = `valid NDCG@${d.k}`,
    mL = 'training loss (sum over batches)';
  const rows: Record<string, unknown>[] = [];
  const hasLoss = bl.points.some((p: BackbonePoint) => p.loss !== null);
  for (const p of bl.points) {
    rows.push({ epoch: p.epoch, metric: mN, value: round6(p.validNdcg) });
    if (hasLoss) {
      rows.push({ epoch: p.epoch, metric: mL, value: p.loss === null ? null : Math.round(p.loss * 1e4) / 1e4 });
    }
  }
  const x = { field: 'epoch', type: 'quantitative', title: 'backbone training epoch' };
  const y = { field: 'value', type: 'quantitative', title: null, scale: { zero: false } };
  const layers: VlSpec[] = [
    {
      mark: { type: 'line', color: '#0072B2', strokeWidth: 1.8, invalid: 'break-paths-filter-domains' },
      encoding: { x, y, tooltip: [{ field: 'epoch' }, { field: 'metric' }, { field: 'value', format: '.5f' }] },
    },
  ];
  if (bl.bestEpoch !== undefined) {
    rows.push({ epoch: bl.bestEpoch, metric: mN, best: true });
    if (hasLoss) rows.push({ epoch: bl.bestEpoch, metric: mL, best: true });
    layers.push({
      transform: [{ filter: 'datum.best === true' }],
      mark: { type: 'rule', color: '#D55E00', strokeDash: [4, 3], strokeWidth: 1.5 },
      encoding: { x, tooltip: [{ field: 'epoch', title: 'best epoch (valid NDCG)' }] },
    });
  }
  const model = d.backbone?.model ?? (d.info?.source.kind === 'import' ? 'imported' : 'backbone');
  return {
    id: 'backbone_curve',
    title: `Backbone training (${model}): validation NDCG@${d.k}${hasLoss ? ' and loss' : ''} per epoch`,
    caption:
      `The backbone's training log (${bl.source}). ` +
      `The dashed orange line marks the epoch kept by early stopping (best validation NDCG@${d.k}).`,
    interactive: true,
    spec: {
      $schema: VEGA_LITE_SCHEMA,
      data: { values: rows },
      facet: { column: { field: 'metric', type: 'nominal', sort: [mN, mL], title: null } },
      spec: { width: 330, height: 220, layer: layers },
      resolve: { scale: { y: 'independent' } },
      config: BASE_CONFIG,
    },
  };
}
