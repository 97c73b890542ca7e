/** quantileSorted: NumPy's linear interpolation between order statistics, worked by hand. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { quantileSorted } from '../../src/math/quantile.js';

test('quantileSorted interpolates linearly between the order statistics around q·(n − 1)', () => {
  const s = [1, 2, 4, 8];
  // positions 0, 0.75, 1.5, 2.25, 3 → 1, 1 + 0.75·1, 2 + 0.5·2, 4 + 0.25·4, 8
  assert.equal(quantileSorted(s, 0), 1);
  assert.equal(quantileSorted(s, 0.25), 1.75);
  assert.equal(quantileSorted(s, 0.5), 3);
  assert.equal(quantileSorted(s, 0.75), 5);
  assert.equal(quantileSorted(s, 1), 8);
  // typed arrays too (the RBO summaries), one value, and an empty sample
  assert.equal(quantileSorted(Float64Array.from([0.5, 0.25, 1]).sort(), 0.5), 0.5);
  assert.equal(quantileSorted([7], 0.3), 7);
  assert.ok(Number.isNaN(quantileSorted([], 0.5)));
});
