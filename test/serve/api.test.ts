/**
 * The API's contract on a small synthetic run (MostPop, prepared): every schema rejection
 * answers 400 naming the field, the probe cases (null body, [{}], [null], oversized body, HEAD
 * /health, work over the limit), the OpenAPI document, the metrics and a graceful close.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { train } from '../../src/pipeline/train.js';
import { prepare } from '../../src/pipeline/prepare.js';
import { serve, type ServeHandle } from '../../src/pipeline/serve.js';
import { MAX_BODY_BYTES, MAX_ITEMS_PER_REQUEST } from '../../src/serve/schemas.js';
import { tempDir, writeInteractions } from '../pipeline/fixture.js';
import { CLI } from '../cli/run-cli.js';

let handle: ServeHandle;
let base = '';
let run = '';

before(async () => {
  const tmp = tempDir('calitune-serve-api-');
  run = join(tmp, 'run');
  await train({ run, data: writeInteractions(tmp), model: 'mostpop' });
  await prepare({ run });
  handle = await serve({ run, port: 0, logLevel: 'silent' });
  base = `http://127.0.0.1:${handle.port}`;
});

after(async () => {
  await handle.close();
});

// biome-ignore lint/suspicious/noExplicitAny: the tests read whatever JSON the server answers
type Answer = { status: number; body: any };

async function get(path: string): Promise<Answer> {
  const r = await fetch(base + path);
  return { status: r.status, body: await r.json() };
}

async function post(path: string, body: string, contentType = 'application/json'): Promise<Answer> {
  const r = await fetch(base + path, { method: 'POST', body, headers: { 'content-type': contentType } });
  return { status: r.status, body: await r.json() };
}

test('GET /recommend: each bad query is a 400 naming the parameter', async () => {
  const cases: [string, string, RegExp][] = [
    ['', 'user', /'user' is required/],
    ['user=1&k=abc', 'k', /k: must be a whole number/],
    ['user=1&k=-3', 'k', /k: must be a whole number/],
    ['user=1&k=1e1', 'k', /k: must be a whole number/],
    ['user=1&k=2.5', 'k', /k: must be a whole number/],
    ['user=1&k=1&k=2', 'k', /k: given more than once/],
    ['user=1&user=2', 'user', /user: given more than once/],
    ['user=1&foo=1', 'foo', /unknown parameter 'foo'/],
    ['user=1&method=magic', 'method', /method: must be equal to one of the allowed values/],
    ['user=1&method=cp&lambda=abc', 'lambda', /lambda: must be a plain decimal/],
    ['user=1&method=cp&lambda=-0.5', 'lambda', /lambda: must be a plain decimal/],
    ['user=1&m=1e2', 'm', /m: must be a whole number/],
    ['user=1&exclude=everything', 'exclude', /exclude: must be 'none' or/],
  ];
  for (const [query, field, message] of cases) {
    const r = await get(`/recommend?${query}`);
    assert.equal(r.status, 400, query);
    assert.equal(r.body.field, field, query);
    assert.match(r.body.error, message, query);
  }
  // In range for the schema, out of range for the catalogue (90 items) or CP: the service's 400.
  for (const query of ['user=1&k=0', 'user=1&k=91', 'user=1&method=cp&lambda=1.5', 'user=1&method=cp&k=20&m=10']) {
    const r = await get(`/recommend?${query}`);
    assert.equal(r.status, 400, query);
    assert.match(r.body.error, /must be/, query);
  }
  assert.equal((await get('/recommend?user=no-such-user')).status, 404);
  assert.equal((await get('/recommend?user=1&k=90')).body.items.length > 0, true);
});

test('POST /recommend: null, [{}], [null], wrong types and unknown fields are 400s naming the field', async () => {
  const cases: [string, string | undefined, RegExp][] = [
    ['null', undefined, /body must be object/],
    ['[]', undefined, /body must be object/],
    ['{}', 'users', /'users' is required/],
    ['{"users": []}', 'users', /users: must NOT have fewer than 1 items/],
    ['{"users": [{}]}', 'users[0]', /users\[0\]: must be string or must be integer/],
    ['{"users": [null]}', 'users[0]', /users\[0\]: must be string or must be integer/],
    ['{"users": "1"}', 'users', /users: must be array/],
    ['{"users": ["1"], "k": "10"}', 'k', /k: must be integer/],
    ['{"users": ["1"], "k": -1}', 'k', /k: must be >= 1/],
    ['{"users": ["1"], "k": 2.5}', 'k', /k: must be integer/],
    ['{"users": ["1"], "method": "magic"}', 'method', /method: must be equal to one of the allowed values/],
    ['{"users": ["1"], "lambda": 2}', 'lambda', /lambda: must be <= 1/],
    ['{"users": ["1"], "exclude": ["everything"]}', 'exclude', /exclude: must be /],
    ['{"users": ["1"], "foo": 1}', 'foo', /unknown field 'foo'/],
  ];
  for (const [body, field, message] of cases) {
    const r = await post('/recommend', body);
    assert.equal(r.status, 400, body);
    assert.equal(r.body.field, field, body);
    assert.match(r.body.error, message, body);
  }
  const bad = await post('/recommend', '{not json');
  assert.equal(bad.status, 400);
  assert.match(bad.body.error, /body is not valid JSON/);
  const tooLong = await post('/recommend', '{"users": ["1"], "k": 91}');
  assert.equal(tooLong.status, 400);
  assert.match(tooLong.body.error, /k must be an integer in 1\.\.90/);
  assert.equal((await post('/recommend', '{"users": ["1", "no-such-user"]}')).status, 404);
  // Any content type is read as JSON, as before (fetch sends a string as text/plain).
  const plain = await post('/recommend', '{"users": ["1", 2], "k": 3}', 'text/plain');
  assert.equal(plain.status, 200);
  assert.deepEqual(
    plain.body.results.map((x: { user: string; items: unknown[] }) => [x.user, x.items.length]),
    [
      ['1', 3],
      ['2', 3],
    ],
  );
});

test('413 as JSON for a body over 1 MiB and for users × k over the limit, before any work', async () => {
  const users = Array.from({ length: 100_000 }, (_, i) => `user-${i}`);
  const huge = JSON.stringify({ users });
  assert.ok(huge.length > MAX_BODY_BYTES);
  const r = await post('/recommend', huge);
  assert.equal(r.status, 413);
  assert.match(r.body.error, /body is too large/i);
  // 2,300 users × k 90 > 200,000: refused before looking at the (unknown) users.
  const many = JSON.stringify({ users: Array.from({ length: 2_300 }, (_, i) => `x${i}`), k: 90 });
  const over = await post('/recommend', many);
  assert.equal(over.status, 413);
  assert.equal(over.body.field, 'users');
  assert.match(over.body.error, new RegExp(`207000 items: at most ${MAX_ITEMS_PER_REQUEST} per request`));
  assert.equal((await get('/health')).status, 200); // the connection-level answer left the server healthy
});

test('413 as JSON for an oversized chunked body (no content-length)', async () => {
  const req = httpRequest(`${base}/recommend`, { method: 'POST', headers: { 'content-type': 'application/json' } });
  // A reset before the answer fails the test; a write error after it (the server closed) does not.
  const answered = new Promise<IncomingMessage>((resolve, reject) => {
    req.once('response', (res) => {
      req.on('error', () => {});
      resolve(res);
    });
    req.once('error', reject);
  });
  const piece = Buffer.alloc(64 * 1024, 0x20);
  for (let sent = 0; sent <= MAX_BODY_BYTES; sent += piece.length) req.write(piece);
  req.end();
  const res = await answered;
  let text = '';
  for await (const chunk of res) text += String(chunk);
  assert.equal(res.statusCode, 413);
  assert.match(JSON.parse(text).error, /body is too large/i);
});

test('HEAD and GET /health and /ready; unknown routes are JSON 404s', async () => {
  for (const path of ['/health', '/ready']) {
    const head = await fetch(base + path, { method: 'HEAD' });
    assert.equal(head.status, 200, path);
  }
  assert.deepEqual((await get('/health')).body, { status: 'ok' });
  assert.deepEqual((await get('/ready')).body, { status: 'ready', model: 'mostpop base' });
  const nope = await get('/nope?x=1');
  assert.equal(nope.status, 404);
  assert.equal(nope.body.error, 'no route GET /nope');
});

test('/openapi.json is an OpenAPI 3 document with every route and its parameters', async () => {
  const doc = (await get('/openapi.json')).body;
  assert.match(doc.openapi, /^3\.0\.\d+$/);
  assert.equal(typeof doc.info.title, 'string');
  assert.equal(typeof doc.info.version, 'string');
  const routes = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
    Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
  );
  for (const r of ['GET /health', 'GET /ready', 'GET /info', 'GET /recommend', 'POST /recommend', 'GET /metrics']) {
    assert.ok(routes.includes(r), `${r} in ${routes.join(', ')}`);
  }
  assert.ok(routes.includes('POST /admin/reload'));
  const params = doc.paths['/recommend'].get.parameters as { name: string; in: string; required?: boolean }[];
  assert.deepEqual(params.map((p) => p.name).sort(), ['exclude', 'k', 'lambda', 'm', 'method', 'user']);
  assert.ok(params.every((p) => p.in === 'query'));
  assert.equal(params.find((p) => p.name === 'user')?.required, true);
  const body = doc.paths['/recommend'].post.requestBody.content['application/json'].schema;
  assert.deepEqual(body.required, ['users']);
  assert.equal(body.additionalProperties, false);
  for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, { responses?: object }>>)) {
    for (const [m, op] of Object.entries(ops)) assert.ok(op.responses, `${m} ${path} has responses`);
  }
});

test('/metrics counts requests per route, method and status, with latency histograms', async () => {
  const count = async (route: string, status: number) => {
    const text = await (await fetch(`${base}/metrics`)).text();
    const line = `calitune_http_requests_total{route="${route}",method="GET",status="${status}"}`;
    const hit = text.split('\n').find((l) => l.startsWith(line));
    return hit === undefined ? 0 : Number(hit.slice(line.length));
  };
  const health0 = await count('/health', 200),
    bad0 = await count('/recommend', 400);
  for (let i = 0; i < 3; i++) await fetch(`${base}/health`);
  await fetch(`${base}/recommend?user=1&k=abc`);
  assert.equal(await count('/health', 200), health0 + 3);
  assert.equal(await count('/recommend', 400), bad0 + 1);
  const text = await (await fetch(`${base}/metrics`)).text();
  assert.match(text, /# TYPE calitune_http_request_duration_seconds histogram/);
  assert.match(text, /calitune_http_request_duration_seconds_count\{route="\/health",method="GET",status="200"\} \d+/);
  assert.match(text, /calitune_http_requests_total\{route="unmatched",method="GET",status="404"\}/);
});

test('close lets a batch in flight finish, then refuses new connections', { timeout: 30_000 }, async () => {
  const tmp = tempDir('calitune-serve-close-');
  const run = join(tmp, 'run');
  await train({ run, data: writeInteractions(tmp), model: 'mostpop' });
  const h = await serve({ run, port: 0, logLevel: 'silent' });
  const url = `http://127.0.0.1:${h.port}`;
  const users = Array.from({ length: 2_000 }, (_, i) => String((i % 120) + 1));
  const r = await fetch(`${url}/recommend`, { method: 'POST', body: JSON.stringify({ users, k: 90 }) });
  assert.equal(r.status, 200); // headers are out: the batch is being computed and streamed
  const closed = h.close();
  const body = (await r.json()) as { results: { items: unknown[] }[] };
  assert.equal(body.results.length, 2_000);
  await closed;
  await assert.rejects(fetch(`${url}/health`));
});

test('calitune serve: SIGTERM lets the batch in flight finish, then exits 0', { timeout: 60_000 }, async () => {
  const child = spawn(process.execPath, [CLI, 'serve', '--run', run, '--port', '0', '--log-level', 'silent'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /serving mostpop base on http:\/\/127\.0\.0\.1:(\d+)/.exec(stderr);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
  });
  const users = Array.from({ length: 2_000 }, (_, i) => String((i % 120) + 1));
  const r = await fetch(`http://127.0.0.1:${port}/recommend`, {
    method: 'POST',
    body: JSON.stringify({ users, k: 90 }),
  });
  assert.equal(r.status, 200); // streaming: the batch is in flight
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const body = (await r.json()) as { results: unknown[] };
  assert.equal(body.results.length, 2_000);
  const [code] = await exited;
  assert.equal(code, 0, stderr);
});
