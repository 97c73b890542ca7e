/**
 * `writeReport(run, outDir, opts)` — the report of a run (issue 7): charts as Vega-Lite specs
 * rendered to SVG in Node, PNG exports (resvg), improvement tables, and one self-contained
 * index.html. Layout of OUT (default RUN/report):
 *
 *   OUT/index.html               the page (inline SVGs + inline vega.min.js for tooltips on the
 *                                light charts; heavy per-user dot charts stay static SVG)
 *   OUT/charts/ID.svg|png        each chart; ID.vl.json its Vega-Lite specification
 *   OUT/report.json              what was drawn, what is missing, warnings, trade-off findings
 *
 * Every file is written atomically. An output folder that cannot be written is a UserError
 * (exit 2) raised before any chart is rendered.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.js';
import { InputError, UserError } from '../util/errors.js';
import { improvementTables, type MethodPerUser } from '../eval/improvement.js';
import { loadPerUserComparison, loadReportData, validationParetoFront, type ExperimentData, type MetricSet, type PerUserComparison, type ReportData } from './data.js';
import { backboneCurveChart, finetuneCurvesChart, longTailChart, rboChart, reportLabels, tradeoffByGroupChart, tradeoffChart, type ChartDef } from './charts.js';
import { renderChart, svgToPng } from './render.js';
import { genericTable, pageHtml, tableHtml, type PageChart, type PageTable } from './html.js';
import { tradeoffFindings, type Findings } from './findings.js';

export interface WriteReportOptions {
  /** PNG exports next to the SVGs (default true). */
  png?: boolean;
  /** PNG zoom factor (default 2). */
  pngScale?: number;
  /** Inline vega.min.js for interactive tooltips (default true; false: static SVGs only). */
  interactive?: boolean;
  /** Page title (default: "CaliTune report — RUN"). */
  title?: string;
  /** Progress lines. */
  log?: (line: string) => void;
}

export interface ReportChartInfo { id: string; title: string; svg: string; png?: string; spec: string; markGroups: number; markElements: number; /** Whether the page makes it an interactive Vega view (else static SVG only). */ interactive: boolean }

export interface WriteReportResult {
  index: string;
  /** Paths of the chart files written (SVG and PNG). */
  charts: string[];
  chartInfo: ReportChartInfo[];
  warnings: string[];
  missing: string[];
  findings: Findings;
  summary: string;
}

const DEFINITIONS: [string, string][] = [
  ['NDCG@10', 'normalised discounted cumulative gain of the top-10 list against the user\'s held-out items (binary relevance, DCG = Σ rel_i / log2(i+1), divided by the ideal DCG). 0–1, higher is more accurate. Mean over all users.'],
  ['JSD@10', 'Jensen–Shannon divergence (log base 2, 0–1) between the user\'s popularity profile — the share of head / mid / tail items among their training items — and the same shares in the top-10 list. Lower is better calibrated. Mean over users.'],
  ['RBO@10', 'rank-biased overlap (extrapolated, p = 0.9) of two top-10 lists of the same user: 1 = identical, 0 = disjoint; top ranks weigh most.'],
  ['Popularity groups', 'items sorted by popularity (distinct users): head = the most popular items holding 20% of all interactions, tail = the least popular holding the last 20%, mid = the rest.'],
  ['User groups', 'users sorted by the head share of their profile: the first 20% are mainstream, the next 60% diverse, the last 20% niche.'],
  ['CP', 'calibrated-popularity re-ranking of the backbone\'s top-100 candidates: greedily maximises (1 − λ)·relevance − λ·JSD; λ = 0.1 … 0.9. Costs a re-ranking pass per request.'],
  ['CaliTune', 'fine-tuning of the backbone with (1 − α)·accuracy loss + α·calibration loss, so its own top-10 is calibrated: no extra cost at inference. Epochs are selected on validation metrics and reported on test.'],
];

function fsCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException)?.code;
}

/** Creates OUT and OUT/charts and proves a file can be written there; UserError otherwise. */
export function ensureWritableDir(dir: string): void {
  const explain = (e: unknown, what: string) => {
    const code = fsCode(e);
    const why = code === 'EACCES' || code === 'EPERM' ? 'permission denied'
      : code === 'EROFS' ? 'read-only file system'
        : code === 'ENOTDIR' ? 'a part of the path is a file, not a folder'
          : code === 'EEXIST' ? 'a file with that name exists'
            : code === 'ENOSPC' ? 'no space left on the device'
              : (e as Error).message;
    return new InputError((n) => `cannot write the report to ${dir}: ${what}: ${why}; choose another folder with ${n.option('outDir')}`,
      { field: 'outDir' });
  };
  if (existsSync(dir) && !statSync(dir).isDirectory()) {
    throw new InputError((n) => `cannot write the report to ${dir}: it is a file, not a folder; choose another folder with ${n.option('outDir')}`,
      { field: 'outDir' });
  }
  try { mkdirSync(join(dir, 'charts'), { recursive: true }); } catch (e) { throw explain(e, 'cannot create the folder'); }
  const probe = join(dir, `.write-test-${process.pid}`);
  try { writeFileAtomic(probe, 'ok\n'); } catch (e) { throw explain(e, 'cannot create files'); } finally { rmSync(probe, { force: true }); }
}

function vegaBundle(): string | undefined {
  try {
    const req = createRequire(import.meta.url);
    const p = join(dirname(req.resolve('vega')), 'vega.min.js');
    return readFileSync(p, 'utf8');
  } catch {
    return undefined;
  }
}

const n5 = (x: number | null | undefined) => (x === null || x === undefined ? null : x);

function metricsRows(d: ReportData): { head: string[]; rows: (string | number | null)[][] } {
  const g = d.userGroupNames.slice(0, 3);
  const head = ['method', 'selection', `valid NDCG@${d.k}`, `valid-time JSD@${d.k}`, `${d.split} NDCG@${d.k}`, `${d.split} JSD@${d.k}`, ...g.map((x) => `NDCG ${x}`), ...g.map((x) => `JSD ${x}`)];
  const row = (name: string, sel: string, m: MetricSet, v?: [number | null, number | null]): (string | number | null)[] =>
    [name, sel, n5(v?.[0]), n5(v?.[1]), m.ndcg, m.jsd, ...g.map((_, i) => m.ndcgGroup[i] ?? null), ...g.map((_, i) => m.jsdGroup[i] ?? null)];
  const rows: (string | number | null)[][] = [];
  if (d.base) rows.push(row('backbone', '–', d.base, [d.backbone?.validNdcg ?? null, d.experiments.find((e) => e.log[0]?.epoch === 0)?.log[0]?.jsd ?? null]));
  for (const c of d.cp) rows.push(row(`CP λ ${c.lambda}`, '–', c.m));
  for (const e of d.experiments) {
    for (const [mode, epoch] of Object.entries(e.selected)) {
      const ep = e.epochs.find((x) => x.epoch === epoch);
      if (!ep) continue;
      const l = e.log.find((x) => x.epoch === epoch);
      rows.push(row(`${e.name} epoch ${epoch}`, `${mode}${e.primary?.mode === mode ? ' (compared)' : ''}`, ep.m, [l?.validNdcg ?? null, l?.jsd ?? null]));
    }
  }
  return { head, rows };
}

function improvementHtml(d: ReportData, e: ExperimentData, pu: PerUserComparison): string[] {
  const t = pu.table;
  const pick = (model: string): MethodPerUser | undefined => {
    const r = t.models.get(model);
    return r ? { ndcg: r.ndcg, jsd: r.jsd, head: r.headItems } : undefined;
  };
  const base = pick('base_recommendations'), cal = pick(`finetuned_epoch_${pu.epoch}`), cp = pick(`postprocessed_${pu.lambda}`);
  if (!base || !cal || !cp) return [];
  const tabs = improvementTables({
    base, calitune: cal, cp, userGroup: pu.userGroup, groupNames: d.userGroupNames.slice(0, 3),
    calituneLabel: `${e.name} epoch ${pu.epoch}`, cpLabel: `CP λ=${pu.lambda}`,
  });
  return [tabs.seedMetrics, tabs.seedHead, tabs.vsBase.calitune, tabs.vsBase.cp].map((x) => tableHtml(x));
}

/** At most this many RBO charts draw every user as a dot; the others draw boxes and outliers. */
export const RBO_DOT_CHARTS = 3;

/**
 * The experiments whose RBO chart shows every user: those with the most epochs on the
 * validation Pareto front (at most RBO_DOT_CHARTS); with no front, the first experiments.
 */
export function rboDotExperiments(d: ReportData, max = RBO_DOT_CHARTS): Set<string> {
  const count = new Map<string, number>();
  for (const f of validationParetoFront(d.experiments)) count.set(f.experiment, (count.get(f.experiment) ?? 0) + 1);
  const ranked = [...count.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0], 'en', { numeric: true })).map(([n]) => n);
  if (ranked.length === 0) ranked.push(...d.experiments.map((e) => e.name));
  return new Set(ranked.slice(0, max));
}

export async function writeReport(run: string, outDir: string = join(run, 'report'), opts: WriteReportOptions = {}): Promise<WriteReportResult> {
  const log = opts.log ?? (() => {});
  const png = opts.png ?? true;
  const scale = opts.pngScale ?? 2;
  if (!(scale > 0 && scale <= 8)) throw new UserError(`PNG scale must be in (0, 8], got ${scale}`);
  const d = loadReportData(run); // read-only: checks the run before anything is created
  ensureWritableDir(outDir);
  const warnings = d.warnings, missing = d.missing;

  const sections = [
    { id: 'tradeoff', title: 'Trade-off: accuracy vs calibration' },
    { id: 'groups', title: 'Trade-off per user group' },
    { id: 'rbo', title: 'How much the lists change (RBO)' },
    { id: 'tables', title: 'Metrics and improvement tables' },
    { id: 'training', title: 'Fine-tuning curves' },
    { id: 'backbone', title: 'Backbone and item popularity' },
  ];
  const defs: { def: ChartDef; section: string }[] = [];
  const hasJsd = !!d.base && (d.base.jsd !== null || d.cp.some((c) => c.m.jsd !== null) || d.experiments.some((e) => e.epochs.length));
  if (hasJsd) {
    defs.push({ def: tradeoffChart(d), section: 'tradeoff' });
    const anyGroup = [d.base, ...d.cp.map((c) => c.m), ...d.experiments.flatMap((e) => e.epochs.map((x) => x.m))].some((m) => m && m.jsdGroup.some((x) => x !== null));
    if (anyGroup) defs.push({ def: tradeoffByGroupChart(d), section: 'groups' });
  }
  const tables: PageTable[] = [];
  const comparisons: Record<string, { epoch: number; mode: string; cp_lambda: string }> = {};
  const labels = reportLabels(d);
  const dotted = rboDotExperiments(d);
  for (const e of d.experiments) {
    const pu = loadPerUserComparison(run, e, warnings);
    if (!pu) continue;
    comparisons[e.name] = { epoch: pu.epoch, mode: pu.mode, cp_lambda: pu.lambda };
    defs.push({ def: rboChart(d, e, pu, { dots: dotted.has(e.name), label: labels.label(e.name) }), section: 'rbo' });
    const html = improvementHtml(d, e, pu);
    if (html.length) tables.push({ section: 'tables', title: e.name, html: `<h3>${e.name}: epoch ${pu.epoch} (selected on validation, ${pu.mode}) vs CP λ ${pu.lambda} (closest JSD@${d.k})</h3>` + html.join('\n') });
  }
  if (d.base) {
    const m = metricsRows(d);
    tables.unshift({ section: 'tables', title: 'metrics', html: genericTable(`Mean metrics (${d.split} split; validation columns: the fine-tuner's log)`, m.head, m.rows) });
  }
  const ft = finetuneCurvesChart(d);
  if (ft) defs.push({ def: ft, section: 'training' });
  const bb = backboneCurveChart(d);
  if (bb) defs.push({ def: bb, section: 'backbone' });
  if (d.longTail) defs.push({ def: longTailChart(d.longTail), section: 'backbone' });

  const findings = tradeoffFindings(d);
  if (findings.sentences.length) {
    tables.push({ section: 'tradeoff', title: 'findings', html: `<div class="box"><strong>Where CaliTune stands against CP</strong> (CP's NDCG interpolated along its curve at CaliTune's JSD; the backbone counts as λ = 0):<ul>${findings.sentences.map((s) => `<li>${s.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</li>`).join('')}</ul></div>` });
  }

  // render
  const chartsDir = join(outDir, 'charts');
  const pageCharts: PageChart[] = [];
  const chartInfo: ReportChartInfo[] = [];
  const written: string[] = [];
  for (const { def, section } of defs) {
    const t0 = performance.now();
    const r = await renderChart(def.spec);
    const svgPath = join(chartsDir, `${def.id}.svg`);
    const specPath = join(chartsDir, `${def.id}.vl.json`);
    writeFileAtomic(svgPath, r.svg);
    writeJsonAtomic(specPath, def.spec);
    written.push(svgPath);
    let pngPath: string | undefined;
    if (png) {
      pngPath = join(chartsDir, `${def.id}.png`);
      writeFileAtomic(pngPath, svgToPng(r.svg, scale));
      written.push(pngPath);
    }
    if (r.marks.elements === 0) warnings.push(`chart '${def.id}' drew no marks (all values missing?)`);
    log(`  ${def.id}: ${r.marks.elements} marks (${((performance.now() - t0) / 1000).toFixed(2)} s)`);
    const rel = (p: string) => relative(outDir, p).split('\\').join('/');
    pageCharts.push({ id: def.id, title: def.title, caption: def.caption, section, svg: r.svg, ...(def.interactive ? { vega: r.vega } : {}), files: { svg: rel(svgPath), spec: rel(specPath), ...(pngPath ? { png: rel(pngPath) } : {}) } });
    chartInfo.push({ id: def.id, title: def.title, svg: svgPath, ...(pngPath ? { png: pngPath } : {}), spec: specPath, markGroups: r.marks.groups, markElements: r.marks.elements, interactive: def.interactive });
  }

  const usedSections = sections.filter((s) => pageCharts.some((c) => c.section === s.id) || tables.some((t) => t.section === s.id));
  const info = d.info;
  const facts: [string, string][] = [
    ['run', resolve(run)],
    ...(info ? [['data', `${info.source.kind}${info.source.path ? `: ${info.source.path}` : ''} — ${info.sizes.users} users × ${info.sizes.items} items, ${info.sizes.train} / ${info.sizes.valid} / ${info.sizes.test} train / valid / test interactions`] as [string, string]] : []),
    ...(d.backbone ? [['backbone', `${d.backbone.model ?? '?'}: valid NDCG@${d.k} ${d.backbone.validNdcg?.toFixed(5) ?? '–'}, test NDCG@${d.k} ${d.backbone.testNdcg?.toFixed(5) ?? '–'}`] as [string, string]] : []),
    ['experiments', d.experiments.length ? d.experiments.map((e) => `${e.name}${e.config ? ` (${e.config})` : ''}${e.epochs.length ? `: ${e.epochs.length} epochs evaluated` : ': not evaluated'}`).join('; ') : 'none'],
    ['CP λ', d.cp.length ? d.cp.map((c) => c.lambda).join(', ') : 'none'],
    ['metrics reported on', `the ${d.split} split${d.baseSource ? ` (${d.baseSource})` : ''}; epochs selected on validation`],
  ];
  const title = opts.title ?? `CaliTune report — ${resolve(run).split('/').filter(Boolean).pop() ?? run}`;
  const vegaJs = opts.interactive === false ? undefined : vegaBundle();
  if (opts.interactive !== false && !vegaJs) warnings.push('vega.min.js not found in node_modules: the page has static charts only (no tooltips)');
  const html = pageHtml({
    title,
    subtitle: `Calibrated recommendations: the backbone, CP re-ranking and CaliTune fine-tuning compared on accuracy (NDCG@${d.k}) and popularity calibration (JSD@${d.k}). Generated ${new Date().toISOString().slice(0, 19).replace('T', ' ')} UTC.`,
    facts, sections: usedSections, charts: pageCharts, tables, missing, warnings, definitions: DEFINITIONS, ...(vegaJs ? { vegaJs } : {}),
  });
  const index = join(outDir, 'index.html');
  writeFileAtomic(index, html);
  const summary = `${pageCharts.length} chart(s), ${tables.length} table block(s)` + (missing.length ? `, ${missing.length} missing input(s)` : '') + (warnings.length ? `, ${warnings.length} warning(s)` : '');
  writeJsonAtomic(join(outDir, 'report.json'), {
    created: new Date().toISOString(), run: resolve(run), index,
    charts: chartInfo, comparisons, missing, warnings,
    findings: { sentences: findings.sentences, rows: findings.rows, epochs_above_cp: findings.epochsAhead },
  });
  return { index, charts: written, chartInfo, warnings, missing, findings, summary };
}
