/**
 * Vega-Lite → Vega → SVG in Node (vega View, renderer 'none', no browser, no canvas) and
 * SVG → PNG with resvg (system fonts; DejaVu Sans on Debian).
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { Resvg } from '@resvg/resvg-js';
import type { VlSpec } from './charts/spec-common.js';

/** A chart rendered in Node: the compiled Vega spec, the SVG and how many marks it drew. */
export interface RenderedChart {
  /** The compiled Vega specification (embedded in index.html for the interactive view). */
  vega: Record<string, unknown>;
  svg: string;
  /** Non-empty data-mark groups and drawn elements inside them (axes, legends excluded). */
  marks: { groups: number; elements: number };
}

/** Counts the elements Vega drew inside its data-mark groups (`role-mark`) of an SVG string. */
export function countSvgMarks(svg: string): { groups: number; elements: number } {
  let groups = 0,
    elements = 0;
  const re = /<g class="mark-(\w+) role-mark[^"]*"[^>]*>/g;
  for (const m of svg.matchAll(re)) {
    if (m[1] === 'group') continue; // layout groups, not data marks
    if (m[0].endsWith('/>')) continue; // an empty mark group, written self-closed
    // the children up to this group's closing tag (mark groups of these types hold no nested groups
    // except for 'text'/'symbol' which are flat too)
    const start = (m.index ?? 0) + m[0].length;
    const end = svg.indexOf('</g>', start);
    const body = svg.slice(start, end < 0 ? svg.length : end);
    const n = (body.match(/<(path|line|rect|circle|text)\b/g) ?? []).length;
    if (n > 0) {
      groups++;
      elements += n;
    }
  }
  return { groups, elements };
}

const GEOMETRY_ATTR = /\s(d|transform|x|y|x1|x2|y1|y2|width|height)="([^"]*)"/g;

/**
 * Shortens an SVG from Vega: numbers in geometry attributes (d, transform, x, y, …) rounded to
 * 2 decimals (1/100 px; Vega writes up to 17 digits). Text content and labels are untouched.
 */
export function compactSvg(svg: string): string {
  const round2 = (n: string) => {
    const r = Math.round(Number(n) * 100) / 100;
    return String(Object.is(r, -0) ? 0 : r);
  };
  return svg.replace(
    GEOMETRY_ATTR,
    (_m, name: string, value: string) => ` ${name}="${value.replace(/-?\d*\.\d{3,}(?:e-?\d+)?/g, round2)}"`,
  );
}

/** Compiles a Vega-Lite spec and renders it to SVG without a browser. */
export async function renderChart(spec: VlSpec): Promise<RenderedChart> {
  const vg = compile(spec as unknown as TopLevelSpec).spec as unknown as Record<string, unknown>;
  const view = new vega.View(vega.parse(vg as vega.Spec), { renderer: 'none' });
  try {
    const svg = compactSvg(await view.toSVG());
    return { vega: vg, svg, marks: countSvgMarks(svg) };
  } finally {
    view.finalize();
  }
}

const fontWarned = false;

/** PNG of an SVG at `scale`× (white background; system fonts, default DejaVu Sans). */
export function svgToPng(svg: string, scale = 2): Buffer {
  const r = new Resvg(svg, {
    background: 'white',
    fitTo: { mode: 'zoom', value: scale },
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
  });
  void fontWarned;
  return r.render().asPng();
}
