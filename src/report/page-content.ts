/**
 * The fixed text of the report page: its sections, the metric definitions, the subtitle and the
 * facts about the run (data, backbone, experiments, CP, which split the metrics come from).
 */
import { basename, dirname, resolve } from 'node:path';
import type { ReportData } from './data.js';

/** The page's sections in order; a section without charts or tables is left out. */
export const REPORT_SECTIONS = [
  { id: 'tradeoff', title: 'Trade-off: accuracy vs calibration' },
  { id: 'groups', title: 'Trade-off per user group' },
  { id: 'rbo', title: 'How much the lists change (RBO)' },
  { id: 'tables', title: 'Metrics and improvement tables' },
  { id: 'training', title: 'Fine-tuning curves' },
  { id: 'backbone', title: 'Backbone and item popularity' },
];

/** The metric and method definitions at the foot of the page. */
export const DEFINITIONS: [string, string][] = [
  [
    'NDCG@10',
    "normalised discounted cumulative gain of the top-10 list against the user's held-out items " +
      '(binary relevance, DCG = Σ rel_i / log2(i+1), divided by the ideal DCG). 0–1, higher is more accurate. ' +
      'Mean over all users.',
  ],
  [
    'JSD@10',
    "Jensen–Shannon divergence (log base 2, 0–1) between the user's popularity profile — the share of " +
      'head / mid / tail items among their training items — and the same shares in the top-10 list. ' +
      'Lower is better calibrated. Mean over users.',
  ],
  [
    'RBO@10',
    'rank-biased overlap (extrapolated, p = 0.9) of two top-10 lists of the same user: ' +
      '1 = identical, 0 = disjoint; top ranks weigh most.',
  ],
  [
    'Popularity groups',
    'items sorted by popularity (distinct users): head = the most popular items holding 20% of ' +
      'all interactions, tail = the least popular holding the last 20%, mid = the rest.',
  ],
  [
    'User groups',
    'users sorted by the head share of their profile: the first 20% are mainstream, ' +
      'the next 60% diverse, the last 20% niche.',
  ],
  [
    'CP',
    "calibrated-popularity re-ranking of the backbone's top-100 candidates: greedily maximises " +
      '(1 − λ)·relevance − λ·JSD; λ = 0.1 … 0.9. Costs a re-ranking pass per request.',
  ],
  [
    'CaliTune',
    'fine-tuning of the backbone with (1 − α)·accuracy loss + α·calibration loss, so its own top-10 ' +
      'is calibrated: no extra cost at inference. Epochs are selected on validation metrics and reported on test.',
  ],
];

/** The page title: "CaliTune report — " and the run folder's name. */
export function pageTitle(run: string): string {
  return `CaliTune report — ${resolve(run).split('/').filter(Boolean).pop() ?? run}`;
}

/** The page subtitle: what is compared on which metrics, and when the page was generated. */
export function pageSubtitle(d: ReportData, now: Date): string {
  return (
    'Calibrated recommendations: the backbone, CP re-ranking and CaliTune fine-tuning compared on ' +
    `accuracy (NDCG@${d.k}) and popularity calibration (JSD@${d.k}). ` +
    `Generated ${now.toISOString().slice(0, 19).replace('T', ' ')} UTC.`
  );
}

function dataFact(d: ReportData): [string, string][] {
  const info = d.info;
  if (!info) return [];
  const { users, items, train, valid, test } = info.sizes;
  const source = `${info.source.kind}${info.source.path ? `: ${info.source.path}` : ''}`;
  const sizes = `${users} users × ${items} items, ${train} / ${valid} / ${test} train / valid / test interactions`;
  return [['data', `${source} — ${sizes}`]];
}

function backboneFact(d: ReportData): [string, string][] {
  const b = d.backbone;
  if (!b) return [];
  const valid = b.validNdcg?.toFixed(5) ?? '–',
    test = b.testNdcg?.toFixed(5) ?? '–';
  return [['backbone', `${b.model ?? '?'}: valid NDCG@${d.k} ${valid}, test NDCG@${d.k} ${test}`]];
}

function experimentsFact(d: ReportData): string {
  if (!d.experiments.length) return 'none';
  return d.experiments
    .map((e) => {
      const evaluated = e.epochs.length ? `: ${e.epochs.length} epochs evaluated` : ': not evaluated';
      return `${e.name}${e.config ? ` (${e.config})` : ''}${evaluated}`;
    })
    .join('; ');
}

/**
 * Every results file the report read: each experiment's, the one the backbone's and CP's
 * metrics were taken from, and the per-user tables; named once with their common folder.
 */
export function resultsFilesFact(d: ReportData, perUserFiles: readonly string[]): string {
  const experiments = d.experiments.flatMap((e) => (e.resultsPath ? [e.resultsPath] : []));
  const all = [...experiments, ...(d.baseSource ? [d.baseSource] : []), ...perUserFiles].map((p) => resolve(p));
  if (all.length === 0) return 'none';
  const folders = new Set(all.map((p) => dirname(p)));
  const folder = folders.size === 1 ? [...folders][0] : undefined;
  const show = (p: string) => (folder ? basename(p) : resolve(p));
  const parts: string[] = [];
  if (experiments.length) parts.push(`experiments: ${experiments.map(show).join(', ')}`);
  if (d.baseSource) parts.push(`backbone and CP: ${show(d.baseSource)}`);
  if (perUserFiles.length) parts.push(`per-user tables: ${perUserFiles.map(show).join(', ')}`);
  return `${folder ? `in ${folder}: ` : ''}${parts.join('; ')}`;
}

/**
 * The facts listed under the title: what was run and where the metrics come from.
 * `perUserFiles`: the per-user tables the report read.
 */
export function pageFacts(run: string, d: ReportData, perUserFiles: readonly string[]): [string, string][] {
  return [
    ['run', resolve(run)],
    ...dataFact(d),
    ...backboneFact(d),
    ['experiments', experimentsFact(d)],
    ['CP λ', d.cp.length ? d.cp.map((c) => c.lambda).join(', ') : 'none'],
    ['metrics reported on', `the ${d.split} split; epochs selected on validation`],
    ['results files', resultsFilesFact(d, perUserFiles)],
  ];
}
