/**
 * `writeReport(run, outDir, opts)` — the report of a run: charts as Vega-Lite specs rendered to
 * SVG in Node, PNG exports (resvg), improvement tables, and one self-contained index.html.
 * Layout of OUT (default RUN/report):
 *
 *   OUT/index.html               the page (inline SVGs + inline vega.min.js for tooltips on the
 *                                light charts; heavy per-user dot charts stay static SVG)
 *   OUT/charts/ID.svg|png        each chart; ID.vl.json its Vega-Lite specification
 *   OUT/report.json              what was drawn, what is missing, warnings, trade-off findings,
 *                                the margin over CP at fixed calibration levels
 *
 * Every file is written atomically; the report in RUN/report (its lock held) is written as one set,
 * swapped in whole (src/store/folder-sets.ts). An output folder that cannot be written is a UserError
 * (exit 2) raised before any chart is rendered.
 */
import { runUnderTrainedWarning } from '../store/backbone-convergence.js';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.js';
import { runPaths } from '../store/run.js';
import { freshSetFolder, recoverSetFolder, swapInSetFolder, type FolderSet } from '../store/folder-sets.js';
import { InputError, UserError } from '../util/errors.js';
import { loadPerUserComparison, loadReportData, validationParetoFront, type ReportData } from './data.js';
import { reportLabels, type ChartDef } from './charts/spec-common.js';
import { tradeoffByGroupChart, tradeoffChart } from './charts/tradeoff-chart.js';
import { rboChart } from './charts/rbo-chart.js';
import { backboneCurveChart, finetuneCurvesChart } from './charts/curves-chart.js';
import { longTailChart } from './charts/long-tail-chart.js';
import { renderChart, svgToPng } from './render.js';
import { pageHtml, type PageChart, type PageTable } from './html.js';
import { tradeoffFindings, type Findings } from './findings.js';
import { findingsTable, improvementTable, metricsTable } from './tables.js';
import { marginTable, reportMargins } from './margins.js';
import type { MarginsAtTargets } from '../selection/margins.js';
import { DEFINITIONS, pageFacts, pageSubtitle, pageTitle, REPORT_SECTIONS } from './page-content.js';

/** Options of {@link writeReport}. */
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
  /**
   * Write the report as one set (src/store/folder-sets.ts): into a temp folder beside OUT, swapped in
   * whole, so that a crash leaves the old report or the new one. Only for a caller that holds the
   * report's lock; OUT must be absent or hold a report (its report.json), since it is replaced whole.
   */
  asOneSet?: boolean;
}

/** A chart written: its files, how many marks it drew, whether the page makes it interactive. */
export interface ReportChartInfo {
  id: string;
  title: string;
  svg: string;
  png?: string;
  spec: string;
  markGroups: number;
  markElements: number;
  /** Whether the page makes it an interactive Vega view (else static SVG only). */
  interactive: boolean;
}

/** What {@link writeReport} wrote: the page, the charts, warnings, missing inputs and the findings. */
export interface WriteReportResult {
  index: string;
  /** Paths of the chart files written (SVG and PNG). */
  charts: string[];
  chartInfo: ReportChartInfo[];
  warnings: string[];
  missing: string[];
  findings: Findings;
  /** The margin over CP at the default calibration levels; undefined without a front or a CP curve. */
  margins?: MarginsAtTargets;
  summary: string;
}

function fsCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException)?.code;
}

/** Creates OUT and OUT/charts and proves a file can be written there; UserError otherwise. */
export function ensureWritableDir(dir: string): void {
  const explain = (e: unknown, what: string) => {
    const code = fsCode(e);
    const why =
      code === 'EACCES' || code === 'EPERM'
        ? 'permission denied'
        : code === 'EROFS'
          ? 'read-only file system'
          : code === 'ENOTDIR'
            ? 'a part of the path is a file, not a folder'
            : code === 'EEXIST'
              ? 'a file with that name exists'
              : code === 'ENOSPC'
                ? 'no space left on the device'
                : (e as Error).message;
    return new InputError(
      (n) => `cannot write the report to ${dir}: ${what}: ${why}; choose another folder with ${n.option('outDir')}`,
      { field: 'outDir' },
    );
  };
  if (existsSync(dir) && !statSync(dir).isDirectory()) {
    throw new InputError(
      (n) =>
        `cannot write the report to ${dir}: it is a file, not a folder; ` +
        `choose another folder with ${n.option('outDir')}`,
      { field: 'outDir' },
    );
  }
  try {
    mkdirSync(join(dir, 'charts'), { recursive: true });
  } catch (e) {
    throw explain(e, 'cannot create the folder');
  }
  const probe = join(dir, `.write-test-${process.pid}`);
  try {
    writeFileAtomic(probe, 'ok\n');
  } catch (e) {
    throw explain(e, 'cannot create files');
  } finally {
    rmSync(probe, { force: true });
  }
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

/** At most this many RBO charts draw every user as a dot; the others draw boxes and outliers. */
export const RBO_DOT_CHARTS = 3;

/**
 * The experiments whose RBO chart shows every user: those with the most epochs on the
 * validation Pareto front (at most RBO_DOT_CHARTS); with no front, the first experiments.
 */
export function rboDotExperiments(d: ReportData, max = RBO_DOT_CHARTS): Set<string> {
  const count = new Map<string, number>();
  for (const f of validationParetoFront(d.experiments)) count.set(f.experiment, (count.get(f.experiment) ?? 0) + 1);
  const ranked = [...count.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0], 'en', { numeric: true }))
    .map(([n]) => n);
  if (ranked.length === 0) ranked.push(...d.experiments.map((e) => e.name));
  return new Set(ranked.slice(0, max));
}

/** A chart and the page section it goes in. */
interface PlacedChart {
  def: ChartDef;
  section: string;
}

/** Everything the page shows, before rendering. */
interface ReportContent {
  charts: PlacedChart[];
  tables: PageTable[];
  /** Per experiment: the epoch and the CP λ its RBO chart and improvement tables compare. */
  comparisons: Record<string, { epoch: number; mode: string; cp_lambda: string }>;
  /** The per-user tables read for them. */
  perUserFiles: string[];
  findings: Findings;
  margins?: MarginsAtTargets;
}

/** The trade-off chart (when any JSD was measured) and the per-group one (when groups were). */
function tradeoffCharts(d: ReportData): PlacedChart[] {
  if (!d.base) return [];
  const hasJsd =
    d.base.jsd !== null || d.cp.some((c) => c.m.jsd !== null) || d.experiments.some((e) => e.epochs.length);
  if (!hasJsd) return [];
  const metricSets = [d.base, ...d.cp.map((c) => c.m), ...d.experiments.flatMap((e) => e.epochs.map((x) => x.m))];
  const anyGroup = metricSets.some((m) => m && m.jsdGroup.some((x) => x !== null));
  return [
    { def: tradeoffChart(d), section: 'tradeoff' },
    ...(anyGroup ? [{ def: tradeoffByGroupChart(d), section: 'groups' }] : []),
  ];
}

type ExperimentContent = Pick<ReportContent, 'charts' | 'tables' | 'comparisons' | 'perUserFiles'>;

/** Per experiment with per-user results: its RBO chart and improvement tables (reads the per-user files). */
function perExperimentContent(run: string, d: ReportData): ExperimentContent {
  const out: ExperimentContent = { charts: [], tables: [], comparisons: {}, perUserFiles: [] };
  const labels = reportLabels(d);
  const dotted = rboDotExperiments(d);
  for (const e of d.experiments) {
    const pu = loadPerUserComparison(run, e, d.warnings);
    if (!pu) continue;
    out.comparisons[e.name] = { epoch: pu.epoch, mode: pu.mode, cp_lambda: pu.lambda };
    if (e.perUserPath) out.perUserFiles.push(e.perUserPath);
    const def = rboChart(d, e, pu, { dots: dotted.has(e.name), label: labels.label(e.name) });
    out.charts.push({ def, section: 'rbo' });
    const table = improvementTable(d, e, pu);
    if (table) out.tables.push(table);
  }
  return out;
}

/** Fine-tuning curves, the backbone's training curve and the long tail, those that have data. */
function trainingCharts(d: ReportData): PlacedChart[] {
  const out: PlacedChart[] = [];
  const ft = finetuneCurvesChart(d);
  if (ft) out.push({ def: ft, section: 'training' });
  const bb = backboneCurveChart(d);
  if (bb) out.push({ def: bb, section: 'backbone' });
  if (d.longTail) out.push({ def: longTailChart(d.longTail), section: 'backbone' });
  return out;
}

function collectContent(run: string, d: ReportData): ReportContent {
  const tradeoff = tradeoffCharts(d);
  const perExperiment = perExperimentContent(run, d);
  const metrics = metricsTable(d);
  const charts = [...tradeoff, ...perExperiment.charts, ...trainingCharts(d)];
  const findings = tradeoffFindings(d);
  const underTrained = runUnderTrainedWarning(run);
  if (underTrained) findings.sentences.unshift(underTrained.replace(/^warning: /, 'Warning: '));
  const findingsBox = findingsTable(findings);
  const margins = reportMargins(d);
  const tables = [
    ...(metrics ? [metrics] : []),
    ...perExperiment.tables,
    ...(findingsBox ? [findingsBox] : []),
    ...(margins ? [marginTable(d, margins)] : []),
  ];
  const { comparisons, perUserFiles } = perExperiment;
  return { charts, tables, comparisons, perUserFiles, findings, ...(margins ? { margins } : {}) };
}

interface RenderedCharts {
  page: PageChart[];
  info: ReportChartInfo[];
  written: string[];
}

interface RenderSettings {
  /** Where the report will be: the paths it records. */
  outDir: string;
  /** Where its files are written now: OUT, or the temp folder of a set swapped in later. */
  writeDir: string;
  pngScale?: number;
  log: (line: string) => void;
  warnings: string[];
}

/** Renders one chart and writes its SVG, Vega-Lite spec and PNG (when asked) to OUT/charts. */
async function renderAndWrite({ def, section }: PlacedChart, s: RenderSettings, out: RenderedCharts): Promise<void> {
  const t0 = performance.now();
  const r = await renderChart(def.spec);
  const chartsDir = join(s.outDir, 'charts');
  const svgPath = join(chartsDir, `${def.id}.svg`);
  const specPath = join(chartsDir, `${def.id}.vl.json`);
  const writtenAt = (p: string) => join(s.writeDir, relative(s.outDir, p));
  writeFileAtomic(writtenAt(svgPath), r.svg);
  writeJsonAtomic(writtenAt(specPath), def.spec);
  out.written.push(svgPath);
  let pngPath: string | undefined;
  if (s.pngScale !== undefined) {
    pngPath = join(chartsDir, `${def.id}.png`);
    writeFileAtomic(writtenAt(pngPath), svgToPng(r.svg, s.pngScale));
    out.written.push(pngPath);
  }
  if (r.marks.elements === 0) s.warnings.push(`chart '${def.id}' drew no marks (all values missing?)`);
  s.log(`  ${def.id}: ${r.marks.elements} marks (${((performance.now() - t0) / 1000).toFixed(2)} s)`);
  const rel = (p: string) => relative(s.outDir, p).split('\\').join('/');
  const files = { svg: rel(svgPath), spec: rel(specPath), ...(pngPath ? { png: rel(pngPath) } : {}) };
  out.page.push({
    id: def.id,
    title: def.title,
    caption: def.caption,
    section,
    svg: r.svg,
    ...(def.interactive ? { vega: r.vega } : {}),
    files,
  });
  out.info.push({
    id: def.id,
    title: def.title,
    svg: svgPath,
    ...(pngPath ? { png: pngPath } : {}),
    spec: specPath,
    markGroups: r.marks.groups,
    markElements: r.marks.elements,
    interactive: def.interactive,
  });
}

async function renderCharts(charts: PlacedChart[], s: RenderSettings): Promise<RenderedCharts> {
  const out: RenderedCharts = { page: [], info: [], written: [] };
  for (const c of charts) await renderAndWrite(c, s, out);
  return out;
}

/** Writes index.html into `writeDir`; returns its path in OUT. Without vega.min.js the page is static (a warning). */
function writePage(
  run: string,
  [outDir, writeDir]: [string, string],
  d: ReportData,
  content: ReportContent,
  charts: PageChart[],
  opts: WriteReportOptions,
  now: Date,
): string {
  const inSection = (id: string) =>
    charts.some((c) => c.section === id) || content.tables.some((t) => t.section === id);
  const vegaJs = opts.interactive === false ? undefined : vegaBundle();
  if (opts.interactive !== false && !vegaJs) {
    d.warnings.push('vega.min.js not found in node_modules: the page has static charts only (no tooltips)');
  }
  const html = pageHtml({
    title: opts.title ?? pageTitle(run),
    subtitle: pageSubtitle(d, now),
    facts: pageFacts(run, d, content.perUserFiles),
    sections: REPORT_SECTIONS.filter((s) => inSection(s.id)),
    charts,
    tables: content.tables,
    missing: d.missing,
    warnings: d.warnings,
    definitions: DEFINITIONS,
    ...(vegaJs ? { vegaJs } : {}),
  });
  writeFileAtomic(join(writeDir, 'index.html'), html);
  return join(outDir, 'index.html');
}

/**
 * OUT as a set written whole (src/store/folder-sets.ts), when it is absent or holds a report (its
 * report.json, the file written last); undefined for another folder, which is written into as it is.
 */
function reportSet(outDir: string): FolderSet | undefined {
  const set = { parent: dirname(resolve(outDir)), name: basename(resolve(outDir)), marker: 'report.json' };
  return !existsSync(outDir) || existsSync(join(outDir, set.marker)) ? set : undefined;
}

/** Writes the report of a run to `outDir` (default RUN/report); see the module comment for the layout. */
export async function writeReport(
  run: string,
  outDir: string = runPaths(run).report,
  opts: WriteReportOptions = {},
): Promise<WriteReportResult> {
  const scale = opts.pngScale ?? 2;
  if (!(scale > 0 && scale <= 8)) throw new UserError(`PNG scale must be in (0, 8], got ${scale}`);
  const d = loadReportData(run); // read-only: checks the run before anything is created
  const set = opts.asOneSet === true ? reportSet(outDir) : undefined;
  ensureWritableDir(outDir);
  if (set) recoverSetFolder(set);
  const writeDir = set ? freshSetFolder(set) : outDir;
  const { warnings, missing } = d;
  const content = collectContent(run, d);
  const png = opts.png ?? true;
  const log = opts.log ?? (() => {});
  const settings: RenderSettings = { outDir, writeDir, log, warnings, ...(png ? { pngScale: scale } : {}) };
  const rendered = await renderCharts(content.charts, settings);
  const now = new Date();
  const index = writePage(run, [outDir, writeDir], d, content, rendered.page, opts, now);
  const summary =
    `${rendered.page.length} chart(s), ${content.tables.length} table block(s)` +
    (missing.length ? `, ${missing.length} missing input(s)` : '') +
    (warnings.length ? `, ${warnings.length} warning(s)` : '');
  const { findings, margins } = content;
  writeJsonAtomic(join(writeDir, 'report.json'), {
    created: now.toISOString(),
    run: resolve(run),
    index,
    charts: rendered.info,
    comparisons: content.comparisons,
    missing,
    warnings,
    built_from: d.sources,
    findings: { sentences: findings.sentences, rows: findings.rows, epochs_above_cp: findings.epochsAhead },
    ...(margins ? { margins } : {}),
  });
  if (set) swapInSetFolder(set, writeDir);
  return {
    index,
    charts: rendered.written,
    chartInfo: rendered.info,
    warnings,
    missing,
    findings,
    summary,
    ...(margins ? { margins } : {}),
  };
}
