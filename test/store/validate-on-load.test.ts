/**
 * Corrupt numbers inside well-formed files, and malformed JSON artefacts, are refused with a
 * message naming the file, the field or tensor and the first bad index — never used, never a
 * JavaScript TypeError. Each case damages one artefact of a copy of a small real run (trained,
 * prepared, CP lists, one fine-tuned experiment 'a', evaluated) and runs the CLI or the reader.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildFixture, cli, type Fixture } from '../report/fixture.js';
import { readNpy, writeNpy } from '../../src/data/npy.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/models/safetensors.js';
import { serve } from '../../src/pipeline/serve.js';
import { isUserError } from '../../src/util/errors.js';

let fx: Fixture;
let copies = 0;

before(async () => {
  fx = await buildFixture('calitune-validate-');
});
after(() => fx?.cleanup());

/** A fresh copy of the fixture's full run. */
function runCopy(): string {
  const dest = join(fx.tmp, `copy${++copies}`);
  cpSync(fx.run, dest, { recursive: true });
  return dest;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Runs the CLI and expects exit code 2 with one line that starts with `file: ` and matches `rest`. */
async function refuses(args: string[], file: string, rest: RegExp): Promise<void> {
  const r = await cli(args);
  assert.equal(r.code, 2, `exit code of ${args.join(' ')}: ${r.err}`);
  assert.match(r.err, new RegExp(`${escapeRe(file)}: ${rest.source}`));
  assert.doesNotMatch(r.err, /TypeError|is not a function|is not iterable|\n\s+at /);
}

/** Overwrites value `index` of the tensor `name` in a safetensors file with `value`; returns the tensor's shape. */
function poisonTensor(path: string, name: string, index: number, value: number): number[] {
  const file = decodeSafetensors(readFileSync(path));
  const t = file.tensors.get(name);
  assert.ok(t, `${path} has tensor ${name}`);
  t.data[index] = value;
  writeFileSync(path, encodeSafetensors(file.tensors, file.metadata));
  return t.shape;
}

/** Overwrites value `index` of an int32 .npy array. */
function poisonNpyI32(path: string, index: number, value: number): void {
  const a = readNpy(path);
  assert.ok(a.data instanceof Int32Array, `${path} is int32`);
  a.data[index] = value;
  writeNpy(path, '<i4', a.shape, a.data);
}

/** Overwrites value `index` of a float64 .npy array in place (its data is the file's tail). */
function poisonNpyF64(path: string, index: number, value: number): void {
  const bytes = readFileSync(path);
  const n = readNpy(path).data.length;
  const start = bytes.length - n * 8;
  Buffer.from(new Float64Array([value]).buffer).copy(bytes, start + index * 8);
  writeFileSync(path, bytes);
}

test('a NaN in model.safetensors: evaluate exits 2 naming the file, the tensor and the first bad index', async () => {
  const run = runCopy();
  const path = join(run, 'model', 'model.safetensors');
  const [, dim] = poisonTensor(path, 'item_embedding.weight', 7 * 16 + 3, Number.NaN);
  assert.equal(dim, 16);
  await refuses(
    ['evaluate', '--run', run],
    path,
    /tensor item_embedding\.weight: index \[7, 3\]: expected a finite number, got NaN/,
  );
});

test('a NaN in a checkpoint: serve refuses to load instead of answering empty lists', async () => {
  const run = runCopy();
  const index = JSON.parse(readFileSync(join(run, 'experiments', 'a', 'checkpoints', 'checkpoints.json'), 'utf8')) as {
    checkpoints: { epoch: number; dir: string; weights: boolean }[];
  };
  const kept = index.checkpoints.find((c) => c.weights);
  assert.ok(kept, 'the fixture keeps the weights of its last checkpoint');
  const path = join(run, 'experiments', 'a', 'checkpoints', kept.dir, 'weights.safetensors');
  const name = [...decodeSafetensors(readFileSync(path)).tensors.keys()][0]!;
  poisonTensor(path, name, 5, Number.POSITIVE_INFINITY);
  await assert.rejects(
    async () => {
      const handle = await serve({ run, port: 0, experiment: 'a', epoch: kept.epoch });
      await handle.close();
    },
    (e: unknown) =>
      isUserError(e) &&
      e.message.startsWith(`${path}: tensor ${name}: index [`) &&
      e.message.endsWith(': expected a finite number, got Infinity'),
  );
});

test('a NaN in a checkpoint: the serve command exits 2 naming the file and never listens', () => {
  const run = runCopy();
  const index = JSON.parse(readFileSync(join(run, 'experiments', 'a', 'checkpoints', 'checkpoints.json'), 'utf8')) as {
    checkpoints: { epoch: number; dir: string; weights: boolean }[];
  };
  const kept = index.checkpoints.find((c) => c.weights)!;
  const path = join(run, 'experiments', 'a', 'checkpoints', kept.dir, 'weights.safetensors');
  poisonTensor(path, [...decodeSafetensors(readFileSync(path)).tensors.keys()][0]!, 0, Number.NaN);
  const args = ['serve', '--run', run, '--experiment', 'a', '--epoch', String(kept.epoch), '--port', '0'];
  const r = spawnSync(process.execPath, [join(process.cwd(), 'bin', 'calitune.js'), ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, CALITUNE_QUIET: '1' },
  });
  assert.equal(r.status, 2, r.stderr);
  assert.match(
    r.stderr,
    new RegExp(`${escapeRe(path)}: tensor .*: index \\[0(, 0)?\\]: expected a finite number, got NaN`),
  );
});

test('item id 65536 or −2 in a CP list: evaluate exits 2 naming the file and the index', async () => {
  const run = runCopy();
  const path = join(run, 'postprocess', 'cp_0.5_test.npy');
  const { shape } = readNpy(path);
  const k = shape[1]!;
  poisonNpyI32(path, 3 * k + 2, 65536);
  await refuses(
    ['evaluate', '--run', run],
    path,
    /recommendation lists: index \[3, 2\]: expected an item id 1\.\.120 or -1 \(an empty slot\), got 65536/,
  );
  poisonNpyI32(path, 3 * k + 2, -2);
  await refuses(['evaluate', '--run', run], path, /recommendation lists: index \[3, 2\]: expected .*, got -2/);
});

test('an item id out of range in a checkpoint list: evaluate --experiment exits 2 naming the file', async () => {
  const run = runCopy();
  const index = JSON.parse(readFileSync(join(run, 'experiments', 'a', 'checkpoints', 'checkpoints.json'), 'utf8')) as {
    checkpoints: { dir: string }[];
  };
  const path = join(run, 'experiments', 'a', 'checkpoints', index.checkpoints[0]!.dir, 'test_lists.npy');
  poisonNpyI32(path, readNpy(path).shape[1]! * 9, 121);
  await refuses(
    ['evaluate', '--run', run, '--experiment', 'a'],
    path,
    /recommendation lists: index \[9, 0\]: .*got 121/,
  );
});

test('popularity group 9 in item_groups.npy: evaluate exits 2 naming the file and the item', async () => {
  const run = runCopy();
  const path = join(run, 'prepare', 'item_groups.npy');
  poisonNpyI32(path, 42, 9);
  await refuses(
    ['evaluate', '--run', run],
    path,
    /item popularity groups: index \[42\]: expected a popularity group 0\.\.2, got 9/,
  );
});

test('item_popularity.npy shorter than the item groups: evaluate exits 2 naming the file', async () => {
  const run = runCopy();
  const path = join(run, 'prepare', 'item_popularity.npy');
  const a = readNpy(path);
  writeNpy(path, '<i4', [a.data.length - 1], (a.data as Int32Array).subarray(1));
  await refuses(['evaluate', '--run', run], path, /holds 120 item counts, the item groups 121 items/);
});

test('a NaN or a bad row sum in user_targets.npy: evaluate exits 2 naming the file and the index', async () => {
  const run = runCopy();
  const path = join(run, 'prepare', 'user_targets.npy');
  const original = readFileSync(path);
  poisonNpyF64(path, 5 * 3 + 1, Number.NaN);
  await refuses(['evaluate', '--run', run], path, /user targets: index \[5, 1\]: expected a finite number, got NaN/);
  writeFileSync(path, original);
  const row = Array.from((readNpy(path).data as Float64Array).subarray(6 * 3, 7 * 3));
  poisonNpyF64(path, 6 * 3, row[0]! + 0.25);
  await refuses(
    ['evaluate', '--run', run],
    path,
    /user targets: row \[6\]: expected shares summing to 1 \(within 1e-9\) or all 0, got a sum of 1\.2[45]/,
  );
});

test('checkpoints.json as {"checkpoints": 5}: evaluate exits 2 naming the file and the field', async () => {
  const run = runCopy();
  const path = join(run, 'experiments', 'a', 'checkpoints', 'checkpoints.json');
  writeFileSync(path, '{"checkpoints": 5}');
  await refuses(['evaluate', '--run', run, '--experiment', 'a'], path, /field checkpoints: expected a list, got 5/);
});

test('"ndcg": "NaN" in a results file: compare exits 2 naming the file and the field', async () => {
  const run = runCopy();
  const path = join(run, 'results', 'a.json');
  const res = JSON.parse(readFileSync(path, 'utf8')) as { base_recommendations: Record<string, unknown> };
  res.base_recommendations.ndcg = 'NaN';
  writeFileSync(path, JSON.stringify(res));
  await refuses(
    ['compare', '--run', run, '--experiment', 'a'],
    path,
    /field base_recommendations\.ndcg: expected a finite number, got "NaN"/,
  );
});

test('a wrong type in the epoch log: evaluate --experiment exits 2 naming file:line and the field', async () => {
  const run = runCopy();
  const path = join(run, 'experiments', 'a', 'log.jsonl');
  const lines = readFileSync(path, 'utf8').split('\n');
  const rec = JSON.parse(lines[2]!) as Record<string, unknown>;
  rec.valid_ndcg = 'NaN';
  lines[2] = JSON.stringify(rec);
  writeFileSync(path, lines.join('\n'));
  await refuses(
    ['evaluate', '--run', run, '--experiment', 'a'],
    `${path}:3`,
    /field valid_ndcg: expected a finite number, got "NaN"/,
  );
});

test("a wrong type in prepare's or the experiment's summary: the reader names the file and the field", async () => {
  const run = runCopy();
  const prep = join(run, 'prepare', 'summary.json');
  const s = JSON.parse(readFileSync(prep, 'utf8')) as { user_groups: Record<string, unknown> };
  s.user_groups.names = 'mainstream';
  writeFileSync(prep, JSON.stringify(s));
  await refuses(['evaluate', '--run', run], prep, /field user_groups\.names: expected a list, got "mainstream"/);
  const run2 = runCopy();
  const summary = join(run2, 'experiments', 'a', 'summary.json');
  const e = JSON.parse(readFileSync(summary, 'utf8')) as { selected: Record<string, unknown> };
  e.selected.any = { epoch: 'five' };
  writeFileSync(summary, JSON.stringify(e));
  await assert.rejects(
    async () => {
      const handle = await serve({ run: run2, port: 0, experiment: 'a', mode: 'any' });
      await handle.close();
    },
    (err: unknown) =>
      isUserError(err) && err.message === `${summary}: field selected.any.epoch: expected a finite number, got "five"`,
  );
});
