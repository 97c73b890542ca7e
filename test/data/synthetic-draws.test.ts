import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/math/rng.js';
import { coverAllItems, distributeActivity, FenwickSampler } from '../../src/data/synthetic-draws.js';

test('FenwickSampler: finds by prefix sum, never returns a removed item, drains every item once', () => {
  const w = new Float64Array([1, 0, 2, 3]);
  const s = new FenwickSampler(w);
  assert.equal(s.build(), 6);
  assert.equal(s.find(0), 0);
  assert.equal(s.find(0.999), 0);
  assert.equal(s.find(1), 2); // item 1 has no weight
  assert.equal(s.find(2.999), 2);
  assert.equal(s.find(3), 3);
  assert.equal(s.find(6), 3); // rounding past the end: the last item
  assert.equal(s.remove(2), 2);
  assert.equal(w[2], 0);
  assert.equal(s.find(1.5), 3);
  assert.equal(s.remove(3), 3);
  // Only item 0 is left; a target past it lands on a removed item and moves to the nearest live one.
  assert.equal(s.find(3.5), 0);
  const rng = new Rng(7);
  const v = new Float64Array(37).map((_, i) => 1 + (i % 5));
  const t = new FenwickSampler(v);
  let mass = t.build();
  const seen = new Set<number>();
  for (let k = 0; k < 37; k++) {
    const item = t.find(rng.nextFloat() * mass);
    assert.ok(!seen.has(item), `item ${item} drawn twice`);
    seen.add(item);
    mass -= t.remove(item);
  }
  assert.equal(seen.size, 37);
});

test('distributeActivity sums exactly and respects the cap; coverAllItems makes every item appear', () => {
  const rng = new Rng(3);
  const act = new Float64Array([0.1, 5, 1, 1, 20]);
  const out = distributeActivity(rng, act, 40, 12);
  let sum = 0;
  for (const c of out) sum += c;
  assert.equal(sum, 40);
  assert.ok(Math.max(...out) <= 12);
  assert.ok(out[4]! >= out[1]! && out[1]! >= out[2]!);
  const raw = new Int32Array([0, 0, 0, 1, 1, 2, 0, 1]);
  coverAllItems(rng, raw, 5);
  const cnt = new Int32Array(5);
  for (const i of raw) cnt[i]!++;
  assert.ok(Math.min(...cnt) >= 1, `counts ${[...cnt]}`);
  assert.equal(raw.length, 8);
});
