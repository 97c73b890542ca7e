/**
 * The HTML report of a run (src/report/report.ts): trade-off, user groups, RBO, tables,
 * training curves; what is missing or odd comes back as warnings.
 */
import { join } from 'node:path';
import { z } from 'zod';
import { writeReport } from '../report/report.js';
import { parseOptions } from './options.js';
import { silentReporter, type Reporter } from './reporter.js';

export const reportOptionsSchema = z.object({
  run: z.string().min(1),
  /** Output folder (default RUN/report). */
  outDir: z.string().min(1).optional(),
  /** PNG exports beside the SVGs. */
  png: z.boolean().default(true),
  /** Inline JavaScript for tooltips (false: static SVG charts only). */
  interactive: z.boolean().default(true),
}).strict().transform((o) => ({ ...o, outDir: o.outDir ?? join(o.run, 'report') }));

export type ReportOptions = z.input<typeof reportOptionsSchema>;

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

export async function report(options: ReportOptions, reporter: Reporter = silentReporter): Promise<ReportResult> {
  const o = parseOptions(reportOptionsSchema, options);
  const r = await writeReport(o.run, o.outDir, { png: o.png, interactive: o.interactive, log: (l) => reporter.warn(l) });
  for (const m of r.missing) reporter.warn(`missing: ${m}`);
  for (const w of r.warnings) reporter.warn(`warning: ${w}`);
  return { index: r.index, charts: r.charts, missing: r.missing, warnings: r.warnings, findings: r.findings.sentences, summary: r.summary };
}
