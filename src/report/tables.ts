/**
 * The report's table blocks (HTML): the mean metrics of every method, the improvement tables of
 * one experiment against the backbone and CP, and the trade-off findings.
 */
import { improvementTables, type MethodPerUser } from '../eval/improvement.js';
import type { ExperimentData, MetricSet, PerUserComparison, ReportData } from './data.js';
import type { Findings } from './findings.js';
import { genericTable, tableHtml, type PageTable } from './html.js';

type Cell = string | number | null;

const orNull = (x: number | null | undefined) => (x === null || x === undefined ? null : x);

function metricsRows(d: ReportData): { head: string[]; rows: Cell[][] } {
  const g = d.userGroupNames.slice(0, 3);
  const head = [
    'method',
    'selection',
    `valid NDCG@${d.k}`,
    `test-list JSD@${d.k}`,
    `${d.split} NDCG@${d.k}`,
    `${d.split} JSD@${d.k}`,
    ...g.map((x) => `NDCG ${x}`),
    ...g.map((x) => `JSD ${x}`),
  ];
  const row = (name: string, sel: string, m: MetricSet, v?: [number | null, number | null]): Cell[] => [
    name,
    sel,
    orNull(v?.[0]),
    orNull(v?.[1]),
    m.ndcg,
    m.jsd,
    ...g.map((_, i) => m.ndcgGroup[i] ?? null),
    ...g.map((_, i) => m.jsdGroup[i] ?? null),
  ];
  const rows: Cell[][] = [];
  if (d.base) {
    // the backbone's test-list JSD: epoch 0 of a fine-tuning log (before fine-tuning)
    const epoch0 = d.experiments.find((e) => e.log[0]?.epoch === 0)?.log[0]?.jsd ?? null;
    rows.push(row('backbone', '–', d.base, [d.backbone?.validNdcg ?? null, epoch0]));
  }
  for (const c of d.cp) rows.push(row(`CP λ ${c.lambda}`, '–', c.m));
  for (const e of d.experiments) {
    for (const [mode, epoch] of Object.entries(e.selected)) {
      const ep = e.epochs.find((x) => x.epoch === epoch);
      if (!ep) continue;
      const l = e.log.find((x) => x.epoch === epoch);
      const selection = `${mode}${e.primary?.mode === mode ? ' (compared)' : ''}`;
      rows.push(row(`${e.name} epoch ${epoch}`, selection, ep.m, [l?.validNdcg ?? null, l?.jsd ?? null]));
    }
  }
  return { head, rows };
}

/** Mean metrics of the backbone, every CP λ and every selected epoch; undefined without base results. */
export function metricsTable(d: ReportData): PageTable | undefined {
  if (!d.base) return undefined;
  const m = metricsRows(d);
  const caption = `Mean metrics (${d.split} split; validation columns: the fine-tuner's log)`;
  return { section: 'tables', title: 'metrics', html: genericTable(caption, m.head, m.rows) };
}

function improvementHtml(d: ReportData, e: ExperimentData, pu: PerUserComparison): string[] {
  const t = pu.table;
  const pick = (model: string): MethodPerUser | undefined => {
    const r = t.models.get(model);
    return r ? { ndcg: r.ndcg, jsd: r.jsd, head: r.headItems } : undefined;
  };
  const base = pick('base_recommendations');
  const cal = pick(`finetuned_epoch_${pu.epoch}`),
    cp = pick(`postprocessed_${pu.lambda}`);
  if (!base || !cal || !cp) return [];
  const tabs = improvementTables({
    base,
    calitune: cal,
    cp,
    userGroup: pu.userGroup,
    groupNames: d.userGroupNames.slice(0, 3),
    calituneLabel: `${e.name} epoch ${pu.epoch}`,
    cpLabel: `CP λ=${pu.lambda}`,
  });
  return [tabs.seedMetrics, tabs.seedHead, tabs.vsBase.calitune, tabs.vsBase.cp].map((x) => tableHtml(x));
}

/** One experiment's compared epoch against the backbone and CP per user group; undefined without per-user rows. */
export function improvementTable(d: ReportData, e: ExperimentData, pu: PerUserComparison): PageTable | undefined {
  const html = improvementHtml(d, e, pu);
  if (!html.length) return undefined;
  const heading =
    `<h3>${e.name}: epoch ${pu.epoch} (selected on validation, ${pu.mode}) ` +
    `vs CP λ ${pu.lambda} (closest JSD@${d.k})</h3>`;
  return { section: 'tables', title: e.name, html: heading + html.join('\n') };
}

/** The findings against CP as a box under the trade-off chart; undefined when there are none. */
export function findingsTable(findings: Findings): PageTable | undefined {
  if (!findings.sentences.length) return undefined;
  const items = findings.sentences.map((s) => `<li>${s.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</li>`).join('');
  const html =
    '<div class="box"><strong>Where CaliTune stands against CP</strong> ' +
    "(CP's NDCG interpolated along its curve at CaliTune's JSD; the backbone counts as λ = 0):" +
    `<ul>${items}</ul></div>`;
  return { section: 'tradeoff', title: 'findings', html };
}
