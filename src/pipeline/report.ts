/**
 * The HTML report of a run (src/report/report.ts): trade-off, user groups, RBO, tables,
 * training curves; what is missing or odd comes back as warnings.
 */
import { join, relative, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { writeReport } from '../report/report.js';
import { withRunLock } from '../store/run-locks.js';
import { parseOptions } from './options.js';
import { silentReporter, type Reporter } from './reporter.js';

/** Options of {@link report}: the run, the output folder, PNG export and interactive tooltips. */
export const reportOptionsSchema = z
  .object({
    run: z.string().min(1),
    /** Output folder (default RUN/report). */
    outDir: z.string().min(1).optional(),
    /** PNG exports beside the SVGs. */
    png: z.boolean().default(true),
    /** Inline JavaScript for tooltips (false: static SVG charts only). */
    interactive: z.boolean().default(true),
  })
  .strict()
  .transform((o) => ({ ...o, outDir: o.outDir ?? join(o.run, 'report') }));

/** What {@link report} takes: `run`, optionally `outDir` (RUN/report), `png` (true), `interactive` (true). */
export type ReportOptions = z.input<typeof reportOptionsSchema>;

/** The written report: its index page and chart files, what was missing, warnings, findings and a summary. */
export interface ReportResult {
  /** OUT/index.html. */
  index: string;
  /** Chart files written (SVG and PNG). */
  charts: string[];
  missing: string[];
  warnings: string[];
  /** The findings, one sentence each. */
  findings: string[];
  /** One line: charts, tables, missing inputs, warnings. */
  summary: string;
}

/**
 * Writes the HTML report of a run from what the other steps stored; missing parts are listed, not fatal. Holds
 * the lock of RUN/report meanwhile when the report goes into the run.
 */
export async function report(options: ReportOptions, reporter: Reporter = silentReporter): Promise<ReportResult> {
  const o = parseOptions(reportOptionsSchema, options);
  if (!isInside(o.outDir, o.run)) return reportLocked(o, reporter);
  const note = (line: string) => reporter.warn(line);
  return withRunLock({ run: o.run, target: 'report', command: 'report', note }, () => reportLocked(o, reporter));
}

/** Whether `path` is `dir` or inside it. */
function isInside(path: string, dir: string): boolean {
  const rel = relative(resolve(dir), resolve(path));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** report once the lock of RUN/report is held (when the report goes into the run). */
async function reportLocked(o: z.output<typeof reportOptionsSchema>, reporter: Reporter): Promise<ReportResult> {
  const r = await writeReport(o.run, o.outDir, {
    png: o.png,
    interactive: o.interactive,
    asOneSet: isInside(o.outDir, o.run), // the report's lock is held: RUN/report is replaced whole
    log: (l) => reporter.warn(l),
  });
  for (const m of r.missing) reporter.warn(`missing: ${m}`);
  for (const w of r.warnings) reporter.warn(`warning: ${w}`);
  return {
    index: r.index,
    charts: r.charts,
    missing: r.missing,
    warnings: r.warnings,
    findings: r.findings.sentences,
    summary: r.summary,
  };
}
