/** serve() returns a listening handle whose recommendations are the backbone's; close() stops it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { train } from '../../src/pipeline/train.js';
import { serve } from '../../src/pipeline/serve.js';
import { tempDir, writeInteractions } from './fixture.js';

test('serve: a free port, /info and /recommend of a MostPop run, then close', async () => {
  const tmp = tempDir('calitune-pipeline-serve-');
  const run = join(tmp, 'run');
  await train({ run, data: writeInteractions(tmp), model: 'mostpop' });
  const handle = await serve({ run, port: 0 });
  try {
    assert.equal(handle.model, 'mostpop base');
    assert.equal(handle.host, '127.0.0.1');
    assert.ok(handle.port > 0);
    const base = `http://127.0.0.1:${handle.port}`;
    const info = (await (await fetch(`${base}/info`)).json()) as {
      users: number;
      items: number;
      cp_available: boolean;
    };
    assert.deepEqual([info.users, info.items, info.cp_available], [120, 90, false]);
    const top = async (user: string) => {
      const r = (await (await fetch(`${base}/recommend?user=${user}&k=5&exclude=none`)).json()) as {
        items: { item: string }[];
      };
      return r.items.map((x) => x.item);
    };
    const a = await top('1');
    assert.equal(a.length, 5);
    assert.deepEqual(await top('2'), a); // MostPop: the same list for everyone when nothing is excluded
  } finally {
    await handle.close();
  }
  await assert.rejects(fetch(`http://127.0.0.1:${handle.port}/health`));
});
