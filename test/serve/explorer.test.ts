/**
 * The explorer's data routes on a small trained and evaluated run: the trade-off points are the
 * evaluation's, a user's three lists are the offline lists (backbone, CP λ, CaliTune epoch) with
 * their per-user metrics averaging to the evaluated NDCG@10, random users come from the group.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serve, type ServeHandle } from '../../src/pipeline/serve.js';
import { BASE, EPOCH, trainedRun, type TrainedRun } from './trained-run.js';

let handle: ServeHandle;
let base = '';
let fixture: TrainedRun;

before(async () => {
  fixture = await trainedRun();
  handle = await serve({ run: fixture.run, port: 0, logLevel: 'silent' });
  base = `http://127.0.0.1:${handle.port}`;
});

after(async () => {
  await handle.close();
});

// biome-ignore lint/suspicious/noExplicitAny: the tests read whatever JSON the server answers
async function get(path: string): Promise<{ status: number; body: any }> {
  const r = await fetch(base + path);
  return { status: r.status, body: await r.json() };
}

interface Point {
  kind: string;
  ndcg: number;
  jsd: number;
  lambda?: number;
  experiment?: string;
  epoch?: number;
}

test('trade-off points: the backbone, CP at each λ, every evaluated epoch', async () => {
  const points = (await get('/explorer/tradeoff')).body.points as Point[];
  assert.equal(points.filter((p) => p.kind === 'base').length, 1);
  assert.deepEqual(
    points.filter((p) => p.kind === 'cp').map((p) => p.lambda),
    [0.3, 0.5],
  );
  assert.deepEqual(
    points.filter((p) => p.kind === 'epoch').map((p) => `${p.experiment}@${p.epoch}`),
    ['e@0', 'e@1', 'e@2'].filter((k) => points.some((p) => `${p.experiment}@${p.epoch}` === k)),
  );
  assert.ok(points.some((p) => p.kind === 'epoch' && p.epoch === 2));
});

test("a user's lists are the offline lists, and their NDCG@10 averages to the evaluated one", async () => {
  const points = (await get('/explorer/tradeoff')).body.points as Point[];
  const sums = [0, 0, 0];
  for (const user of fixture.users) {
    const r = await get(`/explorer/user?user=${user}&lambda=0.5&experiment=e&epoch=2`);
    assert.equal(r.status, 200);
    const lists = r.body.lists as { name: string; model: string; items: { item: string }[]; ndcg: number }[];
    assert.deepEqual(
      lists.map((l) => l.name),
      ['backbone', 'CP λ 0.5', 'CaliTune e epoch 2'],
    );
    const expected = [fixture.offline.get(BASE)!, fixture.offline.get('cp')!, fixture.offline.get(EPOCH)!];
    lists.forEach((l, i) => {
      assert.deepEqual(
        l.items.map((x) => x.item),
        expected[i]!.get(user),
        `${l.name}, user ${user}`,
      );
      sums[i]! += l.ndcg;
    });
    assert.equal(r.body.rbo.length, 3);
    assert.equal(r.body.history.length, 3);
  }
  const mean = (i: number) => sums[i]! / fixture.users.length;
  const at = (f: (p: Point) => boolean) => points.find(f)!.ndcg;
  assert.ok(Math.abs(mean(0) - at((p) => p.kind === 'base')) < 1e-9, `${mean(0)}`);
  assert.ok(Math.abs(mean(1) - at((p) => p.kind === 'cp' && p.lambda === 0.5)) < 1e-9, `${mean(1)}`);
  assert.ok(Math.abs(mean(2) - at((p) => p.kind === 'epoch' && p.epoch === 2)) < 1e-9, `${mean(2)}`);
});

test('random users come from the asked group; bad queries are 400s', async () => {
  for (const group of ['mainstream', 'diverse', 'niche']) {
    const { user } = (await get(`/explorer/random?group=${group}`)).body as { user: string };
    assert.equal((await get(`/explorer/user?user=${user}`)).body.userGroup, group);
  }
  assert.equal((await get('/explorer/random?group=other')).status, 400);
  assert.equal((await get('/explorer/user?user=1&lambda=2')).status, 400);
  assert.equal((await get('/explorer/user?user=nobody')).status, 404);
  assert.equal((await get('/explorer/user?user=1&experiment=nope')).status, 400);
});

test('GET / serves the page and /explorer.js its bundle', async () => {
  const page = await fetch(`${base}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /text\/html/);
  assert.match(await page.text(), /<script type="module" src="\/explorer.js">/);
  const js = await fetch(`${base}/explorer.js`);
  assert.equal(js.status, 200);
  assert.ok((await js.text()).length > 100_000);
});
