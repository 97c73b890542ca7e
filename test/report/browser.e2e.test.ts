/**
 * The report in a real browser: index.html opened from disk in headless
 * Chromium (playwright-core driving the system browser, /usr/bin/chromium), with every
 * network request blocked. The run has five experiments (four with reference-style grid names)
 * so the page has both kinds of chart: interactive Vega views (trade-off, curves, box plots)
 * and static-only SVGs (RBO with every user as a dot). Checks: every chart is shown as
 * intended with drawn marks (as many as Node drew), a tooltip appears on hover, no console
 * errors; a screenshot is saved as a test artefact (test-artifacts/report.png) and decoded;
 * the PNG exports are decoded and not blank; at 1400 px and 1920 px wide windows the page does not
 * scroll sideways and every chart legend lies inside its chart's box.
 * Without /usr/bin/chromium the test is skipped locally and fails under CI=true.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { buildFixture, gridCopy } from './fixture.js';
import { writeReport } from '../../src/report/report.js';
import { decodePng, pngInk } from '../../src/report/png.js';

const CHROMIUM = process.env.CALITUNE_CHROMIUM ?? '/usr/bin/chromium';
/** Drawn elements inside Vega's data-mark groups (axes and legends excluded). */
const DATA_MARKS = ['path', 'line', 'rect', 'circle', 'text'].map((t) => `svg g.role-mark > ${t}`).join(', ');

interface Layout {
  scrollWidth: number;
  innerWidth: number;
  /** The charts that have a legend, and the legends whose box is not inside their chart's box. */
  withLegend: string[];
  legendsOutside: string[];
}

/** The page's width against the window's, and the chart legends that stick out of their chart's box. */
function pageLayout(page: Page): Promise<Layout> {
  return page.evaluate(() => {
    interface Rect {
      left: number;
      right: number;
      top: number;
      bottom: number;
    }
    interface El {
      getBoundingClientRect(): Rect;
      getAttribute(name: string): string | null;
      querySelectorAll(s: string): Iterable<El>;
    }
    const w = globalThis as unknown as {
      innerWidth: number;
      document: { documentElement: { scrollWidth: number }; querySelectorAll(s: string): Iterable<El> };
    };
    const inside = (a: Rect, b: Rect) =>
      a.left >= b.left - 0.5 && a.right <= b.right + 0.5 && a.top >= b.top - 0.5 && a.bottom <= b.bottom + 0.5;
    const px = (r: Rect) =>
      `x ${Math.round(r.left)}–${Math.round(r.right)}, y ${Math.round(r.top)}–${Math.round(r.bottom)}`;
    const withLegend: string[] = [],
      legendsOutside: string[] = [];
    for (const chart of w.document.querySelectorAll('div.chart[data-chart]')) {
      const id = chart.getAttribute('data-chart') ?? '?';
      const box = chart.getBoundingClientRect();
      for (const legend of chart.querySelectorAll('svg g.role-legend')) {
        withLegend.push(id);
        const l = legend.getBoundingClientRect();
        if (!inside(l, box)) legendsOutside.push(`${id}: legend ${px(l)}, chart ${px(box)}`);
      }
    }
    const scrollWidth = w.document.documentElement.scrollWidth;
    return { scrollWidth, innerWidth: w.innerWidth, withLegend, legendsOutside };
  });
}
const ARTIFACTS = resolve(process.cwd(), 'test-artifacts');

test('index.html renders every chart in headless Chromium, without console errors or network', async (t) => {
  if (!existsSync(CHROMIUM)) {
    if (process.env.CI === 'true') {
      throw new Error(`CI needs Chromium at ${CHROMIUM} (.ci/run installs Debian's chromium)`);
    }
    t.skip(`${CHROMIUM} is absent: skipping the browser test (install Debian's chromium; it runs in CI)`);
    return;
  }
  const fx = await buildFixture('calitune-browser-');
  t.after(() => fx.cleanup());
  const out = join(fx.tmp, 'report');
  const run = gridCopy(fx.run, join(fx.tmp, 'grid-run'));
  const r = await writeReport(run, out);
  assert.ok(r.chartInfo.length >= 10, r.chartInfo.map((c) => c.id).join(', '));
  const both = r.chartInfo.some((c) => c.interactive) && r.chartInfo.some((c) => !c.interactive);
  assert.ok(both, 'both interactive and static-only charts');

  // PNG exports: decoded, not blank
  for (const c of r.chartInfo) {
    const ink = pngInk(decodePng(readFileSync(c.png!), c.png));
    assert.ok(ink.distinctColours > 8 && ink.share > 0.01, `${c.id}.png looks blank: ${JSON.stringify(ink)}`);
  }

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:') || url.startsWith('data:')) return route.continue();
    requests.push(url);
    return route.abort();
  });
  await page.goto(pathToFileURL(r.index).href, { waitUntil: 'load' });
  await page.waitForSelector('body[data-report-ready="1"]', { timeout: 30_000 });

  const charts = await page.$$eval(
    'div.chart[data-chart]',
    (divs, DATA_MARKS) =>
      divs.map((d) => ({
        id: d.getAttribute('data-chart'),
        rendered: d.getAttribute('data-rendered'),
        marks: d.querySelectorAll(DATA_MARKS).length,
        width: d.getBoundingClientRect().width,
        height: d.getBoundingClientRect().height,
      })),
    DATA_MARKS,
  );
  assert.deepEqual(charts.map((c) => c.id).sort(), r.chartInfo.map((c) => c.id).sort());
  for (const c of charts) {
    const want = r.chartInfo.find((x) => x.id === c.id)!.interactive ? 'interactive' : 'static';
    assert.equal(c.rendered, want, `${c.id} should be ${want} in the browser`);
    assert.ok(c.marks > 0, `${c.id}: no marks drawn`);
    assert.ok(c.width > 100 && c.height > 100, `${c.id}: ${c.width}×${c.height}`);
  }
  // the browser draws as many data marks as the SVG rendered in Node (same spec, same data)
  for (const c of r.chartInfo) {
    const b = charts.find((x) => x.id === c.id)!;
    assert.equal(b.marks, c.markElements, `${c.id}: browser ${b.marks} vs Node ${c.markElements} marks`);
  }

  // layout: at 1400 px and 1920 px the page never scrolls sideways, and no legend is cut off by its chart's box
  for (const width of [1400, 1920]) {
    await page.setViewportSize({ width, height: 900 });
    const layout = await pageLayout(page);
    assert.ok(layout.scrollWidth <= layout.innerWidth, `${width} px: the page is ${layout.scrollWidth} px wide`);
    assert.ok(layout.withLegend.includes('tradeoff_groups'), `${width} px: legends in ${layout.withLegend.join(', ')}`);
    assert.deepEqual(layout.legendsOutside, [], `${width} px: legends outside their chart's box`);
  }
  await page.setViewportSize({ width: 1400, height: 900 });

  // tooltips: hovering the backbone cross of the trade-off chart shows its metrics (Vega's default handler sets title)
  const cross = page.locator('div.chart[data-chart="tradeoff"] g.mark-symbol.role-mark path').last();
  await cross.hover({ force: true });
  const title = await page
    .waitForFunction(
      () => {
        type Doc = { querySelector(s: string): { getAttribute(n: string): string | null } | null };
        const doc = (globalThis as unknown as { document: Doc }).document;
        const host = doc.querySelector('div.chart[data-chart="tradeoff"] .vega-host');
        return host?.getAttribute('title') || null;
      },
      undefined,
      { timeout: 5000 },
    )
    .then((h) => h.jsonValue())
    .catch(() => null);
  assert.ok(title && /NDCG@10/.test(title), `no tooltip on hover (title: ${String(title)})`);

  mkdirSync(ARTIFACTS, { recursive: true });
  const shot = join(ARTIFACTS, 'report.png');
  await page.screenshot({ path: shot, fullPage: true });
  const ink = pngInk(decodePng(readFileSync(shot), shot));
  assert.ok(ink.share > 0.02, `screenshot looks blank: ${JSON.stringify(ink)}`);
  assert.deepEqual(requests, [], 'the page made network requests');
  assert.deepEqual(problems, []);
  t.diagnostic(`screenshot: ${shot}`);
});
