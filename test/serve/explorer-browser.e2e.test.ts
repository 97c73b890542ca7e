/**
 * The explorer page in headless Chromium (playwright-core driving /usr/bin/chromium), served by
 * `serve` on a small trained and evaluated run, every request off loopback blocked: the chart
 * draws, picking a user shows the three lists the API gives, clicking a chart point changes the
 * lists, no console errors, no horizontal scroll at 1280 px and at a phone's 390 px; a
 * screenshot goes to test-artifacts/explorer.png. Without Chromium the test is skipped locally
 * and fails under CI=true.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { serve } from '../../src/pipeline/serve.js';
import { trainedRun } from './trained-run.js';

const CHROMIUM = process.env.CALITUNE_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = join(process.cwd(), 'test-artifacts');

interface Point {
  kind: string;
  ndcg: number;
  jsd: number;
  lambda?: number;
  experiment?: string;
  epoch?: number;
}

/** The lists on the page: name → item tokens. */
function shownLists(page: Page): Promise<Record<string, string[]>> {
  return page.evaluate(() => {
    interface El {
      getAttribute(name: string): string | null;
      querySelectorAll(s: string): Iterable<El>;
    }
    const doc = (globalThis as unknown as { document: { querySelectorAll(s: string): Iterable<El> } }).document;
    return Object.fromEntries(
      [...doc.querySelectorAll('#lists .list')].map((b) => [
        b.getAttribute('data-list') ?? '',
        [...b.querySelectorAll('li')].map((li) => li.getAttribute('data-item') ?? ''),
      ]),
    );
  });
}

/** The lists the API gives for the selection the page shows (CP λ and CaliTune epoch read from the list names). */
async function apiLists(base: string, user: string, names: string[]): Promise<Record<string, string[]>> {
  const lambda = /^CP λ (.+)$/.exec(names.find((n) => n.startsWith('CP')) ?? '')?.[1] ?? '0.5';
  const epoch = /epoch (\d+)$/.exec(names.find((n) => n.startsWith('CaliTune')) ?? '')?.[1];
  const q = `user=${user}&lambda=${lambda}${epoch ? `&experiment=e&epoch=${epoch}` : ''}`;
  const body = (await (await fetch(`${base}/explorer/user?${q}`)).json()) as {
    lists: { name: string; items: { item: string }[] }[];
  };
  return Object.fromEntries(body.lists.map((l) => [l.name, l.items.map((x) => x.item)]));
}

/** The CP point farthest from every other point (in the chart's normalised space), so that a click hits it alone. */
function loneCpPoint(points: Point[]): number {
  const span = (f: (p: Point) => number) => Math.max(...points.map(f)) - Math.min(...points.map(f)) || 1;
  const sx = span((p) => p.jsd),
    sy = span((p) => p.ndcg);
  let best = -1,
    bestGap = -1;
  points.forEach((p, i) => {
    if (p.kind !== 'cp') return;
    const gap = Math.min(
      ...points.filter((_, j) => j !== i).map((q) => Math.hypot((p.jsd - q.jsd) / sx, (p.ndcg - q.ndcg) / sy)),
    );
    if (gap > bestGap) [best, bestGap] = [i, gap];
  });
  return best;
}

async function noSideScroll(page: Page, width: number): Promise<void> {
  await page.setViewportSize({ width, height: 900 });
  const { scroll, inner } = await page.evaluate(() => {
    const w = globalThis as unknown as { innerWidth: number; document: { documentElement: { scrollWidth: number } } };
    return { scroll: w.document.documentElement.scrollWidth, inner: w.innerWidth };
  });
  assert.ok(scroll <= inner, `at ${width} px the page scrolls sideways (${scroll} > ${inner})`);
}

test("the explorer page: chart, a user's three lists as the API gives them, a chart click changes them", async (t) => {
  if (!existsSync(CHROMIUM)) {
    if (process.env.CI === 'true') throw new Error(`CI needs Chromium at ${CHROMIUM}`);
    t.skip(`${CHROMIUM} is absent: skipping the browser test (it runs in CI)`);
    return;
  }
  const fixture = await trainedRun();
  const handle = await serve({ run: fixture.run, port: 0, logLevel: 'silent' });
  t.after(() => handle.close());
  const base = `http://127.0.0.1:${handle.port}`;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems: string[] = [],
    offLoopback: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(`${base}/`)) return route.continue();
    offLoopback.push(url);
    return route.abort();
  });
  await page.goto(`${base}/`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
  const points = ((await (await fetch(`${base}/explorer/tradeoff`)).json()) as { points: Point[] }).points;
  const marks = page.locator('#chart g.mark-symbol.role-mark > path');
  assert.equal(await marks.count(), points.length);

  const user = fixture.users[4]!;
  await page.getByLabel('User id').fill(user);
  await page.getByRole('button', { name: 'Show lists' }).click();
  await page.waitForSelector(`#status:has-text("showing user ${user}")`, { timeout: 10_000 });
  const before = await shownLists(page);
  assert.equal(Object.keys(before).length, 3);
  assert.deepEqual(before, await apiLists(base, user, Object.keys(before)));

  const i = loneCpPoint(points);
  await marks.nth(i).click({ force: true });
  const lambda = points[i]!.lambda!;
  await page.waitForSelector(`#lists .list[data-list="CP λ ${lambda}"]`, { timeout: 10_000 });
  const after = await shownLists(page);
  assert.notDeepEqual(Object.keys(after), Object.keys(before));
  assert.deepEqual(after, await apiLists(base, user, Object.keys(after)));

  await page.getByLabel('Group').selectOption('niche');
  await page.getByRole('button', { name: 'Random user of the group' }).click();
  await page.waitForSelector('#user-summary h2:has-text("(niche)")', { timeout: 10_000 });

  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, 'explorer.png'), fullPage: true });
  await noSideScroll(page, 1280);
  await noSideScroll(page, 390);
  await page.screenshot({ path: join(ARTIFACTS, 'explorer-phone.png'), fullPage: true });
  assert.deepEqual(offLoopback, [], 'requests that left loopback');
  assert.deepEqual(problems, []);
});
