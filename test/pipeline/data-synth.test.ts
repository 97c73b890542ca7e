/**
 * `data synth` as a library call: the same seed gives the same bytes, another seed other bytes;
 * the ml-100k preset has the preset's sizes, reads back as the generated log, and the streamed
 * file equals what the generator's own whole-file writer gives; bad options name their field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DATA_SYNTH_PRESETS, dataSynth } from '../../src/pipeline/data-synth.js';
import { dataStats } from '../../src/pipeline/data-stats.js';
import { generateSynthetic, writeInterFile } from '../../src/data/synthetic.js';
import { InputError } from '../../src/util/errors.js';

const tmp = mkdtempSync(join(tmpdir(), 'calitune-data-synth-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

test('the same seed gives the same bytes; another seed gives other bytes', async () => {
  const a = join(tmp, 'a.inter');
  const b = join(tmp, 'b.inter');
  const c = join(tmp, 'c.inter');
  await dataSynth({ preset: 'ml-100k', out: a, seed: 7 });
  await dataSynth({ preset: 'ml-100k', out: b, seed: 7 });
  await dataSynth({ preset: 'ml-100k', out: c, seed: 8 });
  assert.equal(sha256(a), sha256(b));
  assert.notEqual(sha256(a), sha256(c));
});

test('the ml-100k preset has its sizes, equals the whole-file writer and reads back with data stats', async () => {
  const out = join(tmp, 'ml100k.inter');
  const r = await dataSynth({ preset: 'ml-100k', out, seed: 5 });
  const want = DATA_SYNTH_PRESETS['ml-100k'];
  assert.deepEqual(
    { users: r.users, items: r.items, interactions: r.interactions },
    { users: want.users, items: want.items, interactions: want.interactions },
  );
  assert.equal(r.bytes, readFileSync(out).length);
  const whole = join(tmp, 'whole.inter');
  writeInterFile(whole, generateSynthetic({ ...want, seed: 5 }));
  assert.equal(sha256(out), sha256(whole));
  const stats = await dataStats({ data: out });
  assert.deepEqual(
    { users: stats.users, items: stats.items, interactions: stats.interactions },
    { users: want.users, items: want.items, interactions: want.interactions },
  );
});

test('csv has a user_id,item_id header and the same rows as the .inter file', async () => {
  const inter = join(tmp, 'same.inter');
  const csv = join(tmp, 'same.csv');
  await dataSynth({ preset: 'ml-100k', out: inter, seed: 3 });
  await dataSynth({ preset: 'ml-100k', out: csv, seed: 3, format: 'csv' });
  const interLines = readFileSync(inter, 'utf8').split('\n');
  const csvLines = readFileSync(csv, 'utf8').split('\n');
  assert.equal(csvLines[0], 'user_id,item_id');
  assert.deepEqual(
    csvLines.slice(1),
    interLines.slice(1).map((l) => l.replace('\t', ',')),
  );
  const stats = await dataStats({ data: csv });
  assert.equal(stats.interactions, 100_000);
});

test('bad options are InputErrors naming their field, and leave no file behind', async () => {
  const bad: [Record<string, unknown>, string][] = [
    [{ preset: 'ml-30m', out: join(tmp, 'x.inter') }, 'preset'],
    [{ preset: 'ml-100k' }, 'out'],
    [{ preset: 'ml-100k', out: tmp }, 'out'],
    [{ preset: 'ml-100k', out: join(tmp, 'a.inter', 'inside') }, 'out'],
    [{ preset: 'ml-100k', out: join(tmp, 'x.inter'), format: 'tsv' }, 'format'],
    [{ preset: 'ml-100k', out: join(tmp, 'x.inter'), seed: 0.5 }, 'seed'],
  ];
  for (const [options, field] of bad) {
    await assert.rejects(
      dataSynth(options as never),
      (e: unknown) => e instanceof InputError && e.field === field,
      JSON.stringify(options),
    );
  }
  assert.ok(!readdirSync(tmp).some((f) => f.startsWith('x.inter') || f.includes('.tmp-')));
});
