/**
 * The self-contained index.html: every chart's static SVG inline (readable without
 * JavaScript, printable); for the charts where tooltips matter (and that are light: trade-off,
 * curves, boxes) the compiled Vega specs and vega.min.js inline, which replace the static SVG
 * by an interactive view with tooltips when the page opens. Heavy charts (per-user dots) stay
 * static SVG only (`data-mode="static"`). No network access.
 */
import type { Table } from '../eval/improvement.js';

/** The string with &, <, > and " escaped for HTML text and attributes. */
export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** JSON safe inside a <script> element. */
export function scriptJson(v: unknown): string {
  return JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** A chart on the page: its inline SVG, optional Vega spec for the interactive view, and its files. */
export interface PageChart {
  id: string;
  title: string;
  caption: string;
  section: string;
  svg: string;
  /** The compiled Vega spec for the interactive view; absent: the static SVG only. */
  vega?: Record<string, unknown>;
  files: { svg: string; png?: string; spec: string };
}

/** A table on the page, in its section. */
export interface PageTable {
  section: string;
  title: string;
  html: string;
}

/** Everything the page shows: title, facts, sections, charts, tables, missing inputs, warnings, definitions. */
export interface PageInput {
  title: string;
  subtitle: string;
  facts: [string, string][];
  sections: { id: string; title: string; intro?: string }[];
  charts: PageChart[];
  tables: PageTable[];
  missing: string[];
  warnings: string[];
  definitions: [string, string][];
  /** The vega.min.js source, or undefined for a static page. */
  vegaJs?: string;
}

/** An improvement table as HTML, values with `digits` decimals and a unit. */
export function tableHtml(t: Table, digits = 1, unit = '%'): string {
  const head = ['user group', 'users', ...t.columns].map((h) => `<th>${esc(h)}</th>`).join('');
  const value = (v: number) => `<td>${Number.isFinite(v) ? v.toFixed(digits) + unit : '–'}</td>`;
  const body = t.rows
    .map((r) => `<tr><th scope="row">${esc(r.group)}</th><td>${r.users}</td>${r.values.map(value).join('')}</tr>`)
    .join('\n');
  return `<table><caption>${esc(t.title)}</caption><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/**
 * Text for a table cell: escaped, with a line-break opportunity after each `__` so that grid
 * names (`c0.5__frozen_itememb__…`) wrap inside their column instead of widening the table.
 */
function wrappableText(s: string): string {
  return esc(s).replace(/__/g, '__<wbr>');
}

/** A table as HTML; numbers with `digits` decimals, null and non-finite as a dash. */
export function genericTable(caption: string, head: string[], rows: (string | number | null)[][], digits = 5): string {
  const cell = (v: string | number | null) => {
    if (v === null) return '<td class="na">–</td>';
    if (typeof v === 'number') return `<td>${Number.isFinite(v) ? v.toFixed(digits) : '–'}</td>`;
    return `<td class="l">${wrappableText(v)}</td>`;
  };
  const headRow = head.map((h) => `<th>${esc(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map(cell).join('')}</tr>`).join('\n');
  return (
    `<table><caption>${esc(caption)}</caption><thead><tr>${headRow}</tr></thead>` + `<tbody>\n${body}\n</tbody></table>`
  );
}

// Nothing may be wider than the window: charts scale down to the column's width (their SVGs keep
// a viewBox), tables wrap long names at `__` and, as a last resort, scroll inside their own box.
const CSS = `
body{font-family:"DejaVu Sans",Verdana,Arial,sans-serif;color:#111;background:#fff;margin:0 auto;max-width:1500px;
padding:16px 24px;line-height:1.45}
h1{font-size:1.6em;margin:.2em 0}h2{border-bottom:2px solid #333;padding-bottom:3px;margin-top:1.8em}
h3{margin:1.2em 0 .3em;overflow-wrap:anywhere}
.sub{color:#444;margin:0 0 1em}
dl.facts{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:2px 14px;margin:0}
dl.facts dt{font-weight:bold}dl.facts dd{margin:0;overflow-wrap:anywhere}
.box{border:1px solid #bbb;border-left:6px solid #888;padding:8px 12px;margin:12px 0;background:#fafafa;
overflow-wrap:anywhere}
.box.missing{border-left-color:#E69F00}.box.warn{border-left-color:#D55E00}
figure{margin:18px 0 28px;page-break-inside:avoid;break-inside:avoid}
figure .chart{overflow-x:auto}
figure .chart svg{display:block;max-width:100%;height:auto}
figcaption{max-width:1000px;color:#222;font-size:.92em;margin-top:4px}
figcaption .files{color:#555;font-size:.9em}
div.table{max-width:100%;overflow-x:auto}
table{border-collapse:collapse;margin:10px 0 20px;font-size:.9em;page-break-inside:avoid}
caption{text-align:left;font-weight:bold;padding:4px 0}
th,td{border:1px solid #999;padding:3px 8px;text-align:right}
th{background:#eee}td.l{text-align:left}td.na{color:#888;text-align:center}
tbody th{text-align:left}
nav{margin-top:1em}nav ul{columns:2;margin:.3em 0}
dl.defs dt{font-weight:bold;margin-top:.4em}dl.defs dd{margin-left:1.2em}
@media print{body{max-width:none;padding:0}nav{display:none}a{color:#000;text-decoration:none}}
`;

const RENDER_JS = `
(function(){
  var charts = document.querySelectorAll('div.chart[data-chart]');
  if (typeof vega === 'undefined') { charts.forEach(function(c){ c.setAttribute('data-rendered','static'); }); return; }
  var pending = [];
  charts.forEach(function(div){
    var id = div.getAttribute('data-chart');
    var specEl = document.getElementById('spec-' + id);
    if (!specEl) { div.setAttribute('data-rendered','static'); return; }
    var spec = JSON.parse(specEl.textContent);
    var host = document.createElement('div');
    host.className = 'vega-host';
    var view = new vega.View(vega.parse(spec), { renderer: 'svg', container: host, hover: true });
    pending.push(view.runAsync().then(function(){
      div.replaceChildren(host);
      div.setAttribute('data-rendered','interactive');
    }).catch(function(e){
      console.error('chart ' + id + ': ' + (e && e.message ? e.message : e));
      div.setAttribute('data-rendered','static');
    }));
  });
  Promise.all(pending).then(function(){ document.body.setAttribute('data-report-ready','1'); });
})();
`;

const STATIC_JS =
  "document.querySelectorAll('div.chart')" +
  ".forEach(function(c){c.setAttribute('data-rendered','static')});" +
  "document.body.setAttribute('data-report-ready','1');";

function headHtml(title: string): string {
  return (
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">\n' +
    `<title>${esc(title)}</title>\n<style>${CSS}</style>\n</head>\n<body>`
  );
}

const listItems = (xs: string[]) => xs.map((m) => `<li>${esc(m)}</li>`).join('');

/** Title, subtitle, facts, the missing-inputs and warnings boxes, contents and the short definitions. */
function introHtml(p: PageInput): string[] {
  const out = [
    `<h1>${esc(p.title)}</h1>\n<p class="sub">${esc(p.subtitle)}</p>`,
    `<dl class="facts">${p.facts.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>`,
  ];
  if (p.missing.length) {
    out.push(
      '<div class="box missing" id="missing"><strong>Not in this report (missing inputs):</strong>' +
        `<ul>${listItems(p.missing)}</ul></div>`,
    );
  }
  if (p.warnings.length) {
    out.push(
      '<div class="box warn" id="warnings"><strong>Warnings about the inputs:</strong>' +
        `<ul>${listItems(p.warnings)}</ul></div>`,
    );
  }
  const contents = p.sections.map((s) => `<li><a href="#${esc(s.id)}">${esc(s.title)}</a></li>`).join('');
  const definitions = '<li><a href="#definitions">Metric definitions</a></li>';
  out.push(`<nav><strong>Contents</strong><ul>${contents}${definitions}</ul></nav>`);
  const short = p.definitions
    .slice(0, 3)
    .map(([k, v]) => `<b>${esc(k)}</b>: ${esc(v)}`)
    .join(' ');
  out.push(`<section id="definitions-short" class="box"><strong>Reading the charts.</strong> ${short}</section>`);
  return out;
}

function figureHtml(c: PageChart, interactive: boolean): string {
  const links = [
    `<a href="${esc(c.files.svg)}">SVG</a>`,
    ...(c.files.png ? [`<a href="${esc(c.files.png)}">PNG</a>`] : []),
    `<a href="${esc(c.files.spec)}">Vega-Lite spec</a>`,
  ].join(' · ');
  const mode = interactive && c.vega ? 'interactive' : 'static';
  const chart =
    `<div class="chart" data-chart="${esc(c.id)}" data-mode="${mode}" data-rendered="static">` +
    `${c.svg.replace(/^<\?xml[^>]*>\s*/, '')}</div>`;
  return (
    `<figure id="fig-${esc(c.id)}"><h3>${esc(c.title)}</h3>${chart}` +
    `<figcaption>${esc(c.caption)} <span class="files">(${links})</span></figcaption></figure>`
  );
}

function sectionsHtml(p: PageInput): string[] {
  const out: string[] = [];
  for (const s of p.sections) {
    out.push(`<section id="${esc(s.id)}"><h2>${esc(s.title)}</h2>${s.intro ? `<p>${esc(s.intro)}</p>` : ''}`);
    for (const c of p.charts.filter((x) => x.section === s.id)) out.push(figureHtml(c, !!p.vegaJs));
    for (const t of p.tables.filter((x) => x.section === s.id)) out.push(`<div class="table">${t.html}</div>`);
    out.push('</section>');
  }
  const defs = p.definitions.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('');
  out.push(`<section id="definitions"><h2>Metric definitions</h2><dl class="defs">${defs}</dl></section>`);
  return out;
}

/** The compiled specs and vega.min.js with the script that swaps in the interactive views; or the static marker. */
function scriptsHtml(p: PageInput): string[] {
  if (!p.vegaJs) return [`<script>${STATIC_JS}</script>`];
  const out: string[] = [];
  for (const c of p.charts) {
    if (c.vega) out.push(`<script type="application/json" id="spec-${esc(c.id)}">${scriptJson(c.vega)}</script>`);
  }
  out.push(`<script>${p.vegaJs.replace(/<\/script/gi, '<\\/script')}</script>`);
  out.push(`<script>${RENDER_JS}</script>`);
  return out;
}

/** The self-contained index.html. */
export function pageHtml(p: PageInput): string {
  return [headHtml(p.title), ...introHtml(p), ...sectionsHtml(p), ...scriptsHtml(p), '</body>\n</html>\n'].join('\n');
}
