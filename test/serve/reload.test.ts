/**
 * Served lists equal the offline lists of a small trained run (BPR base, CP λ 0.5 and a
 * CaliTune epoch), and POST /admin/reload swaps the model under load: every request in flight
 * succeeds and each answer comes wholly from the old or wholly from the new model.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { serve, type ServeHandle } from '../../src/pipeline/serve.js';
import { silentReporter } from '../../src/pipeline/reporter.js';
import { BASE, EPOCH, K, trainedRun } from './trained-run.js';

let run = '';
let handle: ServeHandle;
let base = '';
let users: string[] = [];
/** Offline test-time lists (item tokens) per model label, then per user token. */
let offline = new Map<string, Map<string, string[]>>();

before(async () => {
  ({ run, users, offline } = await trainedRun());
  handle = await serve({ run, port: 0, logLevel: 'silent' });
  base = `http://127.0.0.1:${handle.port}`;
});

after(async () => {
  await handle.close();
});

interface Result {
  user: string;
  model: string;
  items: { item: string }[];
}

async function batch(extra: Record<string, unknown> = {}, who = users): Promise<Result[]> {
  const body = JSON.stringify({ users: who, k: K, exclude: ['train', 'valid'], ...extra });
  const r = await fetch(`${base}/recommend`, { method: 'POST', body });
  assert.equal(r.status, 200);
  return ((await r.json()) as { results: Result[] }).results;
}

async function reload(body: object, url = base): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(`${url}/admin/reload`, { method: 'POST', body: JSON.stringify(body) });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

function assertOffline(results: Result[], lists: Map<string, string[]>, what: string): void {
  assert.equal(results.length, users.length);
  for (const r of results) {
    assert.deepEqual(
      r.items.map((x) => x.item),
      lists.get(r.user),
      `${what}, user ${r.user}`,
    );
  }
}

test('served lists equal the offline lists: base, CP λ 0.5 (m 30) and CaliTune epoch 2 after a reload', async () => {
  assertOffline(await batch(), offline.get(BASE)!, 'base');
  assertOffline(await batch({ method: 'cp', lambda: 0.5, m: 30 }), offline.get('cp')!, 'CP');
  const swapped = await reload({ experiment: 'e', epoch: 2 });
  assert.equal(swapped.status, 200);
  assert.deepEqual([swapped.body.previous, swapped.body.model], [BASE, EPOCH]);
  const info = (await (await fetch(`${base}/info`)).json()) as { model: string; epoch: number };
  assert.deepEqual([info.model, info.epoch], [EPOCH, 2]);
  assertOffline(await batch(), offline.get(EPOCH)!, 'CaliTune epoch 2');
  assert.equal((await reload({ backbone: true })).body.model, BASE);
  assertOffline(await batch(), offline.get(BASE)!, 'base again');
});

test('reload refuses bad targets and keeps the model served', async () => {
  const cases: [object, number, RegExp][] = [
    [{}, 400, /either 'backbone': true or an 'experiment'/],
    [{ backbone: true, experiment: 'e' }, 400, /either/],
    [{ experiment: 'nope' }, 400, /no experiment 'nope'/],
    [{ experiment: 'e', epoch: 99 }, 400, /epoch 99 of 'e' has no stored weights/],
    [{ epoch: 2, backbone: true }, 400, /epoch and mode need experiment/],
    [{ backbone: false }, 400, /backbone: must be equal to one of the allowed values/],
  ];
  for (const [body, status, message] of cases) {
    const r = await reload(body);
    assert.equal(r.status, status, JSON.stringify(body));
    assert.match(String(r.body.error), message, JSON.stringify(body));
  }
  const ready = (await (await fetch(`${base}/ready`)).json()) as { model: string };
  assert.equal(ready.model, BASE);
});

test('reload under load: all requests succeed, each answer wholly from the old or the new model', async () => {
  const big = Array.from({ length: 10_000 }, (_, i) => users[i % users.length]!);
  // Streamed batches whose headers are out are in flight across the swap.
  const inFlight = await Promise.all(
    Array.from({ length: 2 }, () =>
      fetch(`${base}/recommend`, { method: 'POST', body: JSON.stringify({ users: big, exclude: 'train,valid' }) }),
    ),
  );
  const during = users.map((u) => fetch(`${base}/recommend?user=${u}&exclude=train,valid`));
  const swap = await reload({ experiment: 'e', mode: 'any' });
  const after = users.map((u) => fetch(`${base}/recommend?user=${u}&exclude=train,valid`));
  assert.equal(swap.status, 200);
  const selected = swap.body.model as string;
  assert.match(selected, /^bpr \+ CaliTune e epoch \d+$/);
  const answers = [...(await Promise.all([...during, ...after]))];
  const seen = new Set<string>();
  for (const r of answers) {
    assert.equal(r.status, 200);
    const a = (await r.json()) as Result;
    seen.add(a.model);
    assert.ok(a.model === BASE || a.model === selected, a.model);
    assert.deepEqual(
      a.items.map((x) => x.item),
      offline.get(a.model)!.get(a.user),
    );
  }
  for (const r of inFlight) {
    assert.equal(r.status, 200);
    const results = ((await r.json()) as { results: Result[] }).results;
    assert.equal(results.length, big.length);
    assert.deepEqual(new Set(results.map((x) => x.model)), new Set([BASE]), 'a batch begun before the swap');
    for (const x of results)
      assert.deepEqual(
        x.items.map((i) => i.item),
        offline.get(BASE)!.get(x.user),
      );
  }
  assert.ok(seen.has(selected), 'requests after the swap see the new model');
  await reload({ backbone: true });
});

test('--host elsewhere: a warning, and reload refused from a non-loopback address', async (t) => {
  const address = Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
  if (address === undefined) return t.skip('no non-loopback IPv4 address on this machine');
  const warnings: string[] = [];
  const h = await serve(
    { run, port: 0, host: address, logLevel: 'silent' },
    { ...silentReporter, warn: (l) => warnings.push(l) },
  );
  try {
    assert.match(warnings[0]!, new RegExp(`listening on ${address}, reachable from other machines`));
    const r = await reload({ backbone: true }, `http://${address}:${h.port}`);
    assert.equal(r.status, 403);
    assert.match(String(r.body.error), /only from a loopback address/);
  } finally {
    await h.close();
  }
});
