/**
 * What every Vega-Lite chart of the report shares: the chart definition type, the style
 * (fonts, palettes, base config), axis titles, value rounding and the experiment labels.
 *
 * Print-readable choices: colour-blind-safe palettes (Okabe–Ito), dark grey / black for the
 * reference marks (backbone, CP, Pareto front) so they survive greyscale, DejaVu Sans (the
 * font resvg and Chromium both find on Debian), axis titles with units and direction.
 * Missing values (null) are drawn as gaps (`invalid: 'break-paths-filter-domains'`).
 */
import type { Num, ReportData } from '../data.js';
import { experimentLabels, type ExperimentLabels } from '../labels.js';

/** A Vega-Lite specification as plain JSON. */
export type VlSpec = Record<string, unknown>;

/** A chart of the report: id, title, caption, its Vega-Lite spec and whether the page makes it interactive. */
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

/** The Vega-Lite schema every spec declares. */
export const VEGA_LITE_SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** Font stack of every chart (DejaVu Sans first: resvg and Chromium both find it). */
export const FONT = 'DejaVu Sans, Verdana, Arial, sans-serif';

/** Okabe–Ito (without yellow, which vanishes in print) + darker extras for many experiments. */
export const EXPERIMENT_PALETTE = [
  '#0072B2',
  '#D55E00',
  '#009E73',
  '#CC79A7',
  '#E69F00',
  '#56B4E9',
  '#7F3C8D',
  '#8C564B',
  '#3969AC',
  '#11A579',
  '#B8860B',
  '#E73F74',
];
/** Colour of each user group and of "all". */
export const GROUP_COLOURS: Record<string, string> = {
  all: '#555555',
  mainstream: '#D55E00',
  diverse: '#0072B2',
  niche: '#009E73',
};
/** Colours of the popularity groups, head first. */
export const POP_COLOURS = ['#D55E00', '#0072B2', '#009E73', '#CC79A7', '#E69F00'];

/** The Vega-Lite config every chart uses: font, background, axis, legend and title styles. */
export const BASE_CONFIG = {
  font: FONT,
  background: 'white',
  padding: 8,
  axis: {
    labelFontSize: 11,
    titleFontSize: 12,
    titleFontWeight: 'bold',
    gridColor: '#e3e3e3',
    domainColor: '#666',
    tickColor: '#666',
    labelColor: '#222',
    titleColor: '#111',
  },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 260, titleLimit: 400 },
  header: { labelFontSize: 13, labelFontWeight: 'bold', titleFontSize: 12 },
  title: { fontSize: 14, anchor: 'start', color: '#111' },
  view: { stroke: '#bbbbbb' },
  text: { font: FONT },
};

/** The string with its first character upper-cased. */
export const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** Metric values in the specs: rounded to 6 decimals (null stays null: a gap). */
export const round6 = (x: Num) => (x === null ? null : Math.round(x * 1e6) / 1e6);

/** The JSD@k axis title with range and direction; two lines when `narrow`. */
export function jsdTitle(k: number, narrow = false): string | string[] {
  return narrow
    ? [`JSD@${k} to the user's popularity profile`, '(0–1, lower = better calibrated)']
    : `JSD@${k} to the user's popularity profile (0–1, lower = better calibrated)`;
}

/** The NDCG@k axis title of a split, with range and direction; two lines when `narrow`. */
export function ndcgTitle(k: number, split: string, narrow = false): string | string[] {
  return narrow
    ? [`${split} NDCG@${k}`, '(0–1, higher = more accurate)']
    : `${split} NDCG@${k} (0–1, higher = more accurate)`;
}

/** The report's short experiment labels (labels.ts) over every experiment of the run. */
export function reportLabels(d: ReportData): ExperimentLabels {
  return experimentLabels(d.experiments.map((e) => e.name));
}

/** Legend title: what the colours are, and the name components every experiment shares. */
export function experimentLegendTitle(labels: ExperimentLabels, what = 'CaliTune experiment'): string | string[] {
  return labels.shared ? [what, `(${labels.allParsed ? 'all' : 'grid names'}: ${labels.shared})`] : what;
}

/**
 * Rows carry a small experiment index `ei`; this transform adds the full name (`experiment`,
 * for tooltips) and the short label (`elabel`, for colours and legends) once per chart,
 * instead of repeating long names in every row.
 */
export function experimentLookup(names: string[], labels: ExperimentLabels): VlSpec {
  const values = names.map((n, i) => ({ ei: i, experiment: n, elabel: labels.label(n) }));
  return { lookup: 'ei', from: { data: { values }, key: 'ei', fields: ['experiment', 'elabel'] } };
}
