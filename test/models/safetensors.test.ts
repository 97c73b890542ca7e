import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  decodeSafetensors,
  encodeSafetensors,
  readSafetensors,
  writeSafetensors,
} from '../../src/models/safetensors.js';
import { UserError } from '../../src/util/errors.js';

/** Builds a file by hand from a header object and raw data bytes. */
function rawFile(header: unknown, data: Uint8Array, headerLenOverride?: number): Uint8Array {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLenOverride ?? json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

test('exact byte layout of a tiny file', () => {
  const bytes = encodeSafetensors({ a: { dtype: 'F32', shape: [2], data: new Float32Array([1, -2]) } });
  const json = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'; // 54 bytes → padded to 56
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(n, 56);
  assert.equal(Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8'), json + '  ');
  assert.equal(bytes.length, 8 + 56 + 8);
  // 1.0f = 00 00 80 3f, -2.0f = 00 00 00 c0 (little endian)
  assert.deepEqual([...bytes.subarray(64)], [0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0]);
});

test('round trip of F32 and I32 tensors with metadata, header aligned to 8', () => {
  const dir = mkdtempSync(join(tmpdir(), 'st-'));
  try {
    const path = join(dir, 'm.safetensors');
    const big = Float32Array.from({ length: 3 * 5 }, (_, i) => i / 7 - 1);
    const sub = new Float32Array(20).subarray(3, 9).fill(2.5); // non-zero byteOffset view
    writeSafetensors(
      path,
      new Map([
        ['user_embedding.weight', { dtype: 'F32' as const, shape: [3, 5], data: big }],
        ['ids', { dtype: 'I32' as const, shape: [2, 2], data: new Int32Array([1, -7, 2 ** 31 - 1, 0]) }],
        ['sub', { dtype: 'F32' as const, shape: [6], data: sub }],
        ['empty', { dtype: 'F32' as const, shape: [0, 4], data: new Float32Array(0) }],
      ]),
      { format: 'pt', note: 'ünïcode' },
    );
    assert.deepEqual(readdirSync(dir), ['m.safetensors']); // no temp file left
    const bytes = readFileSync(path);
    assert.equal(Number(bytes.readBigUInt64LE(0)) % 8, 0);
    const f = readSafetensors(path);
    assert.deepEqual([...f.tensors.keys()].sort(), ['empty', 'ids', 'sub', 'user_embedding.weight']);
    assert.deepEqual(f.tensors.get('user_embedding.weight')!.data, big);
    assert.deepEqual(f.tensors.get('user_embedding.weight')!.shape, [3, 5]);
    assert.deepEqual(f.tensors.get('ids')!.data, new Int32Array([1, -7, 2 ** 31 - 1, 0]));
    assert.equal(f.tensors.get('ids')!.dtype, 'I32');
    assert.deepEqual([...f.tensors.get('sub')!.data], [2.5, 2.5, 2.5, 2.5, 2.5, 2.5]);
    assert.deepEqual(f.tensors.get('empty')!.shape, [0, 4]);
    assert.deepEqual(f.metadata, { format: 'pt', note: 'ünïcode' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('invalid files are UserErrors naming the file', () => {
  const good = encodeSafetensors({ a: { dtype: 'F32', shape: [2, 2], data: new Float32Array(4) } });
  const cases: [string, Uint8Array, RegExp][] = [
    ['short', good.subarray(0, 5), /truncated/],
    ['truncated', good.subarray(0, good.length - 3), /past the end of the data/],
    ['hdrlen', rawFile({}, new Uint8Array(0), 1000), /header length 1000 runs past the end/],
    ['notjson', rawFile({}, new Uint8Array(0)).map((b, i) => (i === 8 ? 0x41 : b)), /not JSON/],
    ['dtype', rawFile({ a: { dtype: 'F64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8)), /dtype "F64"/],
    [
      'size',
      rawFile({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8)),
      /8 bytes for shape \[3\]/,
    ],
    ['range', rawFile({ a: { dtype: 'F32', shape: [4], data_offsets: [4, 20] } }, new Uint8Array(16)), /past the end/],
    [
      'overlap',
      rawFile(
        {
          a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
          b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
        },
        new Uint8Array(12),
      ),
      /overlap/,
    ],
    ['gap', rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, new Uint8Array(8)), /gap/],
    [
      'tail',
      rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(8)),
      /4 bytes after the last tensor/,
    ],
    ['meta', rawFile({ __metadata__: { x: 1 } }, new Uint8Array(0)), /not a string/],
    ['shape', rawFile({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, new Uint8Array(4)), /bad shape/],
  ];
  for (const [name, bytes, re] of cases) {
    assert.throws(
      () => decodeSafetensors(bytes, `/x/${name}.safetensors`),
      (e: unknown) => {
        assert.ok(e instanceof UserError, `${name}: ${String(e)}`);
        assert.match(e.message, new RegExp(`^/x/${name}\\.safetensors: `));
        assert.match(e.message, re, name);
        return true;
      },
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'st-'));
  try {
    const p = join(dir, 'cut.safetensors');
    writeFileSync(p, good.subarray(0, 40));
    assert.throws(() => readSafetensors(p), /cut\.safetensors: .*past the end/);
    assert.throws(() => readSafetensors(join(dir, 'missing.safetensors')), /missing\.safetensors: file not found/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('encode refuses inconsistent tensors', () => {
  assert.throws(
    () => encodeSafetensors({ a: { dtype: 'F32', shape: [3], data: new Float32Array(2) } }),
    /2 values for shape/,
  );
  assert.throws(() => encodeSafetensors({ a: { dtype: 'I32', shape: [2], data: new Float32Array(2) } }), /must be I32/);
});

test('a NaN or ±Infinity in an F32 tensor is refused naming the file, the tensor and the first bad index', () => {
  const w = new Float32Array(6).fill(0.5);
  w[4] = NaN;
  w[5] = Infinity;
  const bytes = encodeSafetensors({
    ok: { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) },
    'item_embedding.weight': { dtype: 'F32', shape: [3, 2], data: w },
  });
  assert.throws(
    () => decodeSafetensors(bytes, '/x/model.safetensors'),
    (e: unknown) =>
      e instanceof UserError &&
      e.message ===
        '/x/model.safetensors: tensor item_embedding.weight: index [2, 0]: expected a finite number, got NaN',
  );
  const inf = encodeSafetensors({ b: { dtype: 'F32', shape: [3], data: new Float32Array([0, -Infinity, 1]) } });
  assert.throws(
    () => decodeSafetensors(inf, 'f'),
    /^UserError: f: tensor b: index \[1\]: expected a finite number, got -Infinity$/,
  );
  // I32 tensors hold ids and counts: any value is a number
  const ints = encodeSafetensors({ i: { dtype: 'I32', shape: [2], data: new Int32Array([-5, 2 ** 31 - 1]) } });
  assert.deepEqual([...decodeSafetensors(ints).tensors.get('i')!.data], [-5, 2 ** 31 - 1]);
});
