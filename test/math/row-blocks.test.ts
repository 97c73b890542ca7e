/**
 * Row gathers and scatter-adds: the native kernels (native/rows.cc) and the TypeScript loops
 * give the same bits (signed zeros, NaN, repeated rows added in order), and bad arguments are
 * refused on both paths.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadNativeBlas } from '../../src/math/native.js';
import { Rng } from '../../src/math/rng.js';
import { gatherRows, scatterAddRows, useNativeRowKernels } from '../../src/math/row-blocks.js';
import { skipOrFailOnCi } from '../helpers/ci.js';

const bits = (a: Float32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** A table with signed zeros, a NaN and values of very different magnitudes. */
function table(rng: Rng, n: number, d: number): Float32Array {
  return Float32Array.from({ length: n * d }, (_, i) =>
    i % 13 === 0 ? -0 : i % 29 === 0 ? 0 : i === 77 ? NaN : rng.normal() * 10 ** ((i % 7) - 3),
  );
}

function run(native: boolean, rows: Int32Array, d: number): { gathered: Float32Array; summed: Float32Array } {
  assert.equal(useNativeRowKernels(native), native);
  const rng = new Rng(5);
  const src = table(rng, 40, d);
  const gathered = new Float32Array(rows.length * d).fill(7);
  gatherRows(src, d, rows, rows.length, gathered);
  const summed = table(rng, 40, d);
  scatterAddRows(summed, d, rows, rows.length, table(rng, rows.length, d));
  return { gathered, summed };
}

test('row blocks: gatherRows copies the listed rows and scatterAddRows adds in float32, rows in order', () => {
  useNativeRowKernels(false);
  const d = 3;
  const src = Float32Array.from({ length: 12 }, (_, i) => i);
  const out = new Float32Array(6);
  gatherRows(src, d, Int32Array.of(3, 1), 2, out);
  assert.deepEqual([...out], [9, 10, 11, 3, 4, 5]);
  const dst = new Float32Array(12);
  dst[3] = 2 ** 24;
  scatterAddRows(dst, d, Int32Array.of(1, 1), 2, Float32Array.of(1, 1, -0, 1, 0.5, 1));
  // 2^24 + 1 rounds back to 2^24 in float32 (each add rounds to float32), twice
  assert.deepEqual([...dst.subarray(3, 6)], [2 ** 24, 1.5, 1]);
  useNativeRowKernels(true);
});

test('row blocks: the native kernels give the TypeScript loops bits (odd width, repeated rows)', (t) => {
  const nb = loadNativeBlas();
  if (!nb.ok || typeof nb.blas.gatherRows !== 'function' || typeof nb.blas.scatterAddRows !== 'function') {
    skipOrFailOnCi(t, 'native binding without gatherRows / scatterAddRows (npm run build:native)');
    return;
  }
  for (const d of [1, 37, 256]) {
    const rows = Int32Array.of(5, 0, 39, 5, 12, 12, 12, 3);
    const ts = run(false, rows, d);
    const nat = run(true, rows, d);
    assert.deepEqual(bits(nat.gathered), bits(ts.gathered), `gather, d = ${d}`);
    assert.deepEqual(bits(nat.summed), bits(ts.summed), `scatter-add, d = ${d}`);
  }
  useNativeRowKernels(true);
});

test('row blocks: a row out of range, a short block or a bad width is refused on both paths', () => {
  for (const native of [false, true]) {
    useNativeRowKernels(native);
    const tableRows = new Float32Array(8);
    assert.throws(() => gatherRows(tableRows, 2, Int32Array.of(4), 1, new Float32Array(2)), RangeError);
    assert.throws(() => gatherRows(tableRows, 2, Int32Array.of(-1), 1, new Float32Array(2)), RangeError);
    assert.throws(() => scatterAddRows(tableRows, 2, Int32Array.of(1, 2), 2, new Float32Array(3)), RangeError);
    assert.throws(() => scatterAddRows(tableRows, 3, Int32Array.of(0), 1, new Float32Array(3)), RangeError);
    assert.throws(() => gatherRows(tableRows, 2, Int32Array.of(0), 2, new Float32Array(4)), RangeError);
  }
  useNativeRowKernels(true);
});
