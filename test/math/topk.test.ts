/**
 * Row-wise top-k: against a full sort, tie and masking rules, padding, and a property test.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { topkRow, topkRows, useNativeTopk } from '../../src/math/topk.js';
import { skipOrFailOnCi } from '../helpers/ci.js';

/** Reference: full sort by (score desc, index asc) over finite-or-+Inf scores, padded with −1. */
function refTopk(row: ArrayLike<number>, k: number): number[] {
  const idx: number[] = [];
  for (let j = 0; j < row.length; j++) if (row[j]! > -Infinity) idx.push(j);
  idx.sort((a, b) => row[b]! - row[a]! || a - b);
  const out = idx.slice(0, k);
  while (out.length < k) out.push(-1);
  return out;
}

describe('topkRow / topkRows', () => {
  it('picks the k largest, best first (hand example)', () => {
    const s = Float32Array.of(0.1, 0.9, 0.3, 0.7, 0.5);
    const out = new Int32Array(3);
    topkRow(s, 0, 5, 3, out, 0);
    assert.deepEqual([...out], [1, 3, 4]);
  });

  it('breaks ties by lower index, also across the heap threshold', () => {
    const s = Float32Array.of(1, 2, 2, 1, 2, 3, 1, 2);
    assert.deepEqual([...topkRows(s, 1, 8, 4)], [5, 1, 2, 4]);
    // All equal: the first k indices in order.
    assert.deepEqual([...topkRows(new Float32Array(9).fill(0.5), 1, 9, 3)], [0, 1, 2]);
  });

  it('never returns −Infinity or NaN entries; +Infinity ranks first', () => {
    const s = Float32Array.of(-Infinity, NaN, 0.2, Infinity, -Infinity, NaN, -5);
    assert.deepEqual([...topkRows(s, 1, 7, 3)], [3, 2, 6]);
  });

  it('pads with −1 when a row has fewer than k finite scores', () => {
    const s = Float32Array.of(-Infinity, 4, NaN, -Infinity, 3, -Infinity);
    assert.deepEqual([...topkRows(s, 1, 6, 4)], [1, 4, -1, -1]);
    assert.deepEqual([...topkRows(new Float32Array(3).fill(-Infinity), 1, 3, 2)], [-1, -1]);
    // k larger than the row.
    assert.deepEqual([...topkRows(Float32Array.of(1, 2), 1, 2, 4)], [1, 0, -1, -1]);
  });

  it('handles several rows, offsets into larger buffers and k = 0', () => {
    const s = Float32Array.of(3, 1, 2, 0, 0, 0, 5, -Infinity, -1, -2, -3, -4);
    assert.deepEqual([...topkRows(s, 3, 4, 2)], [0, 2, 2, 0, 0, 1]);
    const out = new Int32Array(7).fill(99);
    topkRow(s, 4, 4, 2, out, 3);
    assert.deepEqual([...out], [99, 99, 99, 2, 0, 99, 99]);
    assert.deepEqual([...topkRows(s, 3, 4, 0)], []);
  });

  it('rejects bad k and short buffers', () => {
    assert.throws(() => topkRows(new Float32Array(4), 1, 4, -1), RangeError);
    assert.throws(() => topkRows(new Float32Array(4), 1, 4, 1.5), RangeError);
    assert.throws(() => topkRows(new Float32Array(4), 2, 4, 1), RangeError);
    assert.throws(() => topkRows(new Float32Array(8), 2, 4, 2, new Int32Array(3)), RangeError);
  });

  it('property: equals a full sort on random rows with ties, −Inf and NaN', () => {
    const value = fc.oneof(
      { weight: 6, arbitrary: fc.integer({ min: -4, max: 4 }).map((v) => v / 2) }, // many ties
      { weight: 3, arbitrary: fc.float({ min: -100, max: 100, noNaN: true }) },
      { weight: 1, arbitrary: fc.constantFrom(-Infinity, NaN, Infinity) },
    );
    fc.assert(
      fc.property(
        fc.array(fc.array(value, { minLength: 0, maxLength: 60 }), { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 1, max: 15 }),
        (rowsArr, k) => {
          const n = Math.max(...rowsArr.map((r) => r.length));
          const s = new Float32Array(rowsArr.length * n).fill(-Infinity);
          for (const [i, r] of rowsArr.entries()) s.set(r, i * n);
          const got = topkRows(s, rowsArr.length, n, k);
          for (let i = 0; i < rowsArr.length; i++) {
            const want = refTopk(s.subarray(i * n, (i + 1) * n), k);
            assert.deepEqual([...got.subarray(i * k, (i + 1) * k)], want);
          }
        },
      ),
      { numRuns: 400, seed: 7 },
    );
  });
});

describe('topkRows at MovieLens-1M size', () => {
  it('is fast on 6,040 × 3,706 scores (k = 10) and agrees with a sort on sampled rows', () => {
    const rows = 6040,
      n = 3706,
      k = 10;
    const s = new Float32Array(rows * n);
    let x = 12345;
    for (let i = 0; i < s.length; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      s[i] = x / 4294967296;
    }
    const t0 = performance.now();
    const out = topkRows(s, rows, n, k);
    const ms = performance.now() - t0;
    // Measured ~32 ms; the bound only catches a regression to a full sort (seconds).
    assert.ok(ms < 1500, `top-k took ${ms.toFixed(0)} ms`);
    for (const r of [0, 1, 777, 6039]) {
      assert.deepEqual([...out.subarray(r * k, (r + 1) * k)], refTopk(s.subarray(r * n, (r + 1) * n), k));
    }
  });
});

describe('native top-k (native/topk.cc)', () => {
  /** Rows of n scores with many ties, −Inf and NaN (a fixed LCG stream). */
  function tiedRows(rows: number, n: number, seed: number): Float32Array {
    const s = new Float32Array(rows * n);
    let x = seed;
    for (let i = 0; i < s.length; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      const r = x % 1000;
      s[i] = r < 30 ? -Infinity : r < 40 ? Number.NaN : r < 42 ? Infinity : Math.floor(r / 25);
    }
    return s;
  }

  it('gives the lists of the TypeScript loop and of a full sort (ties, −Inf, NaN, two threads)', (t) => {
    if (!useNativeTopk(true)) return skipOrFailOnCi(t, 'native binding without topkRows');
    try {
      // 4 × 300: one thread; 120 × 1,200 (≥ 2¹⁷ scores): rows split over two threads
      for (const [rows, n, k] of [
        [4, 300, 7],
        [120, 1200, 10],
        [3, 500, 50],
        [2, 130, 200],
      ] as const) {
        const s = tiedRows(rows, n, rows * n + k);
        const nat = topkRows(s, rows, n, k);
        useNativeTopk(false);
        const ts = topkRows(s, rows, n, k);
        useNativeTopk(true);
        assert.deepEqual(nat, ts, `${rows} × ${n}, k ${k}`);
        for (const r of [0, rows - 1]) {
          assert.deepEqual([...nat.subarray(r * k, (r + 1) * k)], refTopk(s.subarray(r * n, (r + 1) * n), k));
        }
      }
      // one row at an offset, written at an offset (topkRow), and a row that runs short of finite scores
      const s = tiedRows(3, 400, 9);
      s.fill(-Infinity, 400, 795);
      const out = new Int32Array(12).fill(99);
      topkRow(s, 400, 400, 8, out, 2);
      assert.deepEqual([...out.subarray(2, 10)], refTopk(s.subarray(400, 800), 8));
      assert.deepEqual([out[0], out[1], out[10], out[11]], [99, 99, 99, 99]);
    } finally {
      useNativeTopk(true);
    }
  });
});
