/**
 * The HTTP API on the oracle run: served lists equal the offline lists (base model top-10 and
 * CP λ 0.5), errors map to 400/404, batch requests work, items carry their ML-100K titles, and
 * the probe's 10,000 users × k 1682 is refused while the largest allowed batch leaves /health
 * answering.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { ML100K_INTER, ORACLE_DIR, requireShared } from '../helpers/shared.js';
import { runCli } from '../cli/run-cli.js';
import { readNpyMatrixI32 } from '../../src/data/npy.js';
import { loadServingModel } from '../../src/serve/serving-model.js';
import { RecommendationService } from '../../src/serve/service.js';
import { createRecommendationServer } from '../../src/serve/server.js';
import { loadPrepared } from '../../src/store/prepare-files.js';
import { findTitlesFile, readItemTitles } from '../../src/data/titles.js';
import { MAX_ITEMS_PER_REQUEST } from '../../src/serve/schemas.js';

const tmp = mkdtempSync(join(tmpdir(), 'calitune-serve-'));
const run = join(tmp, 'oracle');
let server: FastifyInstance | undefined;
let base = '';

before(async () => {
  if (!existsSync(ORACLE_DIR)) return;
  for (const args of [
    ['import', '--from', ORACLE_DIR, '--run', run],
    ['prepare', '--run', run, '--popularity-source', 'all'],
    ['postprocess', '--run', run, '--lambdas', '0.5', '--modes', 'test'],
  ]) {
    const r = runCli(args);
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
  }
  const sm = loadServingModel(run);
  const titlesFile = findTitlesFile(ML100K_INTER);
  const byToken = titlesFile === undefined ? new Map<string, string>() : readItemTitles(titlesFile);
  const titles = sm.ds.itemMap.tokens.map((token) => byToken.get(token));
  const service = new RecommendationService(sm, loadPrepared(run), titles);
  server = await createRecommendationServer(service);
  await server.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
});

after(async () => {
  await server?.close();
  rmSync(tmp, { recursive: true, force: true });
});

// biome-ignore lint/suspicious/noExplicitAny: the tests read whatever JSON the server answers
async function get(path: string): Promise<{ status: number; body: any }> {
  const r = await fetch(base + path);
  return { status: r.status, body: await r.json() };
}

test('GET /health and /info', async (t) => {
  if (!requireShared(t, ORACLE_DIR)) return;
  assert.deepEqual((await get('/health')).body, { status: 'ok' });
  const info = (await get('/info')).body;
  assert.equal(info.users, 943);
  assert.equal(info.items, 1682);
  assert.equal(info.cp_available, true);
  assert.equal(info.model, 'bpr base');
});

test('served top-10 (train and valid excluded) equals the offline test-time lists', async (t) => {
  if (!requireShared(t, ORACLE_DIR)) return;
  const lists = readNpyMatrixI32(join(run, 'lists', 'base_test.npy'));
  const sm = loadServingModel(run);
  for (const u of [1, 2, 17, 100, 500, 943]) {
    const token = sm.ds.userMap.tokens[u]!;
    const r = await get(`/recommend?user=${token}&k=10&exclude=train,valid`);
    assert.equal(r.status, 200);
    const expected = Array.from(lists.data.subarray(u * 10, u * 10 + 10), (i) => sm.ds.itemMap.tokens[i]);
    assert.deepEqual(
      r.body.items.map((x: { item: string }) => x.item),
      expected,
      `user ${token}`,
    );
    assert.ok(r.body.items.every((x: { group: number }) => x.group >= 1 && x.group <= 3));
    assert.ok(typeof r.body.took_ms === 'number');
  }
});

test('served CP (λ 0.5, m 100) equals the offline CP lists', async (t) => {
  if (!requireShared(t, ORACLE_DIR)) return;
  const cp = readNpyMatrixI32(join(run, 'postprocess', 'cp_0.5_test.npy'));
  const sm = loadServingModel(run);
  let same = 0,
    total = 0;
  for (let u = 1; u < 944; u += 23) {
    const token = sm.ds.userMap.tokens[u]!;
    const r = await get(`/recommend?user=${token}&method=cp&lambda=0.5&m=100&exclude=train,valid`);
    assert.equal(r.status, 200);
    const expected = Array.from(cp.data.subarray(u * 10, u * 10 + 10), (i) => sm.ds.itemMap.tokens[i]);
    total++;
    if (JSON.stringify(r.body.items.map((x: { item: string }) => x.item)) === JSON.stringify(expected)) same++;
  }
  assert.equal(same, total, `${same}/${total} users identical`);
});

test('default excludes every known interaction; POST batches', async (t) => {
  if (!requireShared(t, ORACLE_DIR)) return;
  const sm = loadServingModel(run);
  const u = 5,
    token = sm.ds.userMap.tokens[u]!;
  const r = await get(`/recommend?user=${token}&k=50`);
  const seen = new Set<string>();
  for (const part of [sm.ds.train, sm.ds.valid, sm.ds.test]) {
    for (let q = part.indptr[u]!; q < part.indptr[u + 1]!; q++) seen.add(sm.ds.itemMap.tokens[part.indices[q]!]!);
  }
  assert.equal(r.body.items.length, 50);
  assert.ok(r.body.items.every((x: { item: string }) => !seen.has(x.item)));
  const p = await fetch(`${base}/recommend`, { method: 'POST', body: JSON.stringify({ users: ['196', '186'], k: 3 }) });
  assert.equal(p.status, 200);
  const body = (await p.json()) as { results: { user: string; items: unknown[] }[] };
  assert.deepEqual(
    body.results.map((x) => [x.user, x.items.length]),
    [
      ['196', 3],
      ['186', 3],
    ],
  );
});

test('bad requests: 404 unknown user, 400 bad k / λ / method / body', async (t) => {
  if (!requireShared(t, ORACLE_DIR)) return;
  assert.equal((await get('/recommend?user=no-such-user')).status, 404);
  assert.equal((await get('/recommend')).status, 400);
  const badK = await get('/recommend?user=196&k=0');
  assert.equal(badK.status, 400);
  assert.match(badK.body.error, /k must be/);
  assert.equal((await get('/recommend?user=196&k=abc')).status, 400);
  assert.equal((await get('/recommend?user=196&method=cp&lambda=1.5')).status, 400);
  assert.equal((await get('/recommend?user=196&method=magic')).status, 400);
  assert.equal((await get('/recommend?user=196&exclude=everything')).status, 400);
  assert.equal((await get('/nope')).status, 404);
  const p = await fetch(`${base}/recommend`, { method: 'POST', body: '{not json' });
  assert.equal(p.status, 400);
  const q = await fetch(`${base}/recommend`, { method: 'POST', body: JSON.stringify({ users: [] }) });
  assert.equal(q.status, 400);
});

test("items carry their titles from the dataset's ml-100k.item", async (t) => {
  if (!requireShared(t, ORACLE_DIR) || !requireShared(t, ML100K_INTER)) return;
  const r = await get('/recommend?user=196&k=20&exclude=none');
  assert.equal(r.status, 200);
  const titles = readItemTitles(findTitlesFile(ML100K_INTER)!);
  for (const x of r.body.items as { item: string; title: string }[]) {
    assert.equal(typeof x.title, 'string');
    assert.equal(x.title, titles.get(x.item));
  }
  assert.equal(titles.get('1'), 'Toy Story');
});

test("the probe's 10,000 users × k 1682 is a 413 before any work", async (t) => {
  if (!requireShared(t, ORACLE_DIR)) return;
  const sm = loadServingModel(run);
  const users = Array.from({ length: 10_000 }, (_, i) => sm.ds.userMap.tokens[(i % 943) + 1]!);
  const t0 = performance.now();
  const r = await fetch(`${base}/recommend`, { method: 'POST', body: JSON.stringify({ users, k: 1682 }) });
  const ms = performance.now() - t0;
  assert.equal(r.status, 413);
  assert.match(((await r.json()) as { error: string }).error, /16820000 items: at most 200000 per request/);
  assert.ok(ms < 2000, `answered in ${ms.toFixed(0)} ms`);
});

test('the largest allowed batch (118 users × k 1682) leaves /health answering', async (t) => {
  if (!requireShared(t, ORACLE_DIR)) return;
  const sm = loadServingModel(run);
  const k = 1682,
    n = Math.floor(MAX_ITEMS_PER_REQUEST / k);
  const users = Array.from({ length: n }, (_, i) => sm.ds.userMap.tokens[i + 1]!);
  let done = false;
  // The text is parsed after the probes: this process is also the server, and parsing 15 MB blocks it.
  const big = fetch(`${base}/recommend`, { method: 'POST', body: JSON.stringify({ users, k }) }).then(async (r) => {
    const text = await r.text();
    done = true;
    return { status: r.status, text };
  });
  const latencies: number[] = [];
  while (!done) {
    const t0 = performance.now();
    const h = await fetch(`${base}/health`);
    await h.json();
    latencies.push(performance.now() - t0);
    assert.equal(h.status, 200);
  }
  const answer = await big;
  assert.equal(answer.status, 200);
  const body = JSON.parse(answer.text) as { results: { items: unknown[] }[] };
  assert.equal(body.results.length, n);
  const total = body.results.reduce((a, x) => a + x.items.length, 0);
  assert.ok(total > 150_000, `${total} items`); // every item but each user's known ones
  latencies.sort((a, b) => a - b);
  const p50 = latencies[Math.floor(latencies.length / 2)]!,
    max = latencies[latencies.length - 1]!;
  t.diagnostic(
    `/health during ${n} × ${k}: ${latencies.length} probes, p50 ${p50.toFixed(1)} ms, max ${max.toFixed(1)} ms`,
  );
  assert.ok(latencies.length >= 3, 'several /health answers while the batch ran');
  assert.ok(max < 1000, `/health max ${max.toFixed(0)} ms`);
});
