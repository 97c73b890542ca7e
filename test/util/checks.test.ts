/** The shared array checks: the first bad index, its multi-dimensional form and the message. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkFinite, checkRange, firstNonFinite, firstOutOfRange, formatIndex } from '../../src/util/checks.js';
import { isUserError } from '../../src/util/errors.js';

test('firstNonFinite: −1 when all finite, else the first NaN or ±Infinity', () => {
  assert.equal(firstNonFinite(new Float64Array([0, -1, 3.5, Number.MAX_VALUE])), -1);
  assert.equal(firstNonFinite(new Float32Array([0, 1, NaN, Infinity])), 2);
  assert.equal(firstNonFinite(new Float64Array([0, -Infinity, NaN])), 1);
  assert.equal(firstNonFinite([]), -1);
});

test('firstOutOfRange: bounds inclusive, allowed extras, NaN always out', () => {
  assert.equal(firstOutOfRange(new Int32Array([0, 1, 2]), 0, 2), -1);
  assert.equal(firstOutOfRange(new Int32Array([0, 3, 9]), 0, 2), 1);
  assert.equal(firstOutOfRange(new Int32Array([-1, 1, -2]), 0, 5, [-1]), 2);
  assert.equal(firstOutOfRange(new Float64Array([0.5, NaN]), 0, 1), 1);
});

test('formatIndex: row-major multi-dimensional index', () => {
  assert.equal(formatIndex(7, [7 + 1]), '[7]');
  assert.equal(formatIndex(5, [2, 3]), '[1, 2]');
  assert.equal(formatIndex(0, [2, 3]), '[0, 0]');
  assert.equal(formatIndex(13, [2, 3, 4]), '[1, 0, 1]');
  assert.equal(formatIndex(99, [2, 3]), '[99]');
});

test('checkFinite / checkRange: UserError naming file, array, index, expectation and value', () => {
  const data = new Float32Array(1682 * 64);
  checkFinite(data, { what: 'tensor item_embedding.weight', shape: [1682, 64], file: 'm.safetensors' });
  data[12 * 64 + 3] = NaN;
  assert.throws(
    () => checkFinite(data, { what: 'tensor item_embedding.weight', shape: [1682, 64], file: 'm.safetensors' }),
    (e) =>
      isUserError(e) &&
      (e as Error).message ===
        'm.safetensors: tensor item_embedding.weight: index [12, 3]: expected a finite number, got NaN',
  );
  const groups = new Int32Array([-1, 0, 1, 2, 9]);
  assert.throws(
    () =>
      checkRange(
        groups,
        { what: 'popularity groups', shape: [5], file: 'g.npy' },
        {
          min: 0,
          max: 2,
          allowed: [-1],
          expected: 'a group in 0..2',
        },
      ),
    (e) =>
      isUserError(e) && (e as Error).message === 'g.npy: popularity groups: index [4]: expected a group in 0..2, got 9',
  );
});

test('a finite-check over a 1682×64 Float32Array takes well under a millisecond', () => {
  const data = new Float32Array(1682 * 64).map((_, i) => i * 1e-3);
  firstNonFinite(data); // warm up
  const reps = 50;
  const t0 = performance.now();
  for (let r = 0; r < reps; r++) assert.equal(firstNonFinite(data), -1);
  const perCheck = (performance.now() - t0) / reps;
  assert.ok(perCheck < 5, `${perCheck} ms per check`);
});
