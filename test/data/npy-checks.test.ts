/** .npy reading refuses a malformed shape and non-finite float matrices, naming the file and index. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeNpy, parseNpy, readNpyMatrixF32, writeNpy } from '../../src/data/npy.js';
import { isUserError } from '../../src/util/errors.js';

test('a float matrix with a NaN is refused naming the file and the first bad [row, column]', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'calitune-npy-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const p = join(dir, 'item_emb.npy');
  const data = new Float32Array(6 * 4).fill(0.25);
  writeNpy(p, '<f4', [6, 4], data);
  assert.equal(readNpyMatrixF32(p).rows, 6);
  data[4 * 4 + 1] = NaN;
  data[5 * 4] = Infinity;
  writeNpy(p, '<f4', [6, 4], data);
  assert.throws(
    () => readNpyMatrixF32(p),
    (e) => isUserError(e) && e.message === `${p}: array: index [4, 1]: expected a finite number, got NaN`,
  );
});

test('a shape with a negative or fractional dimension is refused', () => {
  const good = Buffer.from(encodeNpy('<i4', [2], new Int32Array([1, 2])));
  for (const bad of ['(-2,)', '(1.5,)']) {
    const bytes = Buffer.from(good.toString('latin1').replace('(2,)', bad.padEnd(4, ' ')), 'latin1');
    assert.throws(
      () => parseNpy(bytes, 'x.npy'),
      (e) => isUserError(e) && /^x\.npy: \.npy shape \(.*\): dimension 0 is not a whole number$/.test(e.message),
      bad,
    );
  }
});
