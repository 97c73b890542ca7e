import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  csrColCounts,
  csrContains,
  csrFromCoo,
  csrNnz,
  csrRow,
  csrRowLength,
  csrRowLengths,
  csrToCoo,
  csrTranspose,
  csrUnion,
  sortedContains,
} from '../../src/math/csr.js';

test('csrFromCoo sorts rows and drops duplicates', () => {
  const m = csrFromCoo([2, 0, 2, 2, 0, 3], [5, 1, 1, 5, 0, 2], 4, 6);
  assert.deepEqual([...m.indptr], [0, 2, 2, 4, 5]);
  assert.deepEqual([...m.indices], [0, 1, 1, 5, 2]);
  assert.equal(csrNnz(m), 5);
  assert.deepEqual([...csrRow(m, 2)], [1, 5]);
  assert.equal(csrRowLength(m, 1), 0);
  assert.deepEqual([...csrRowLengths(m)], [2, 0, 2, 1]);
  assert.deepEqual([...csrColCounts(m)], [1, 2, 1, 0, 0, 1]);
  assert.ok(csrContains(m, 2, 5));
  assert.ok(csrContains(m, 0, 0));
  assert.ok(!csrContains(m, 2, 2));
  assert.ok(!csrContains(m, 1, 0));
  assert.ok(!csrContains(m, 9, 0));
});

test('csrFromCoo rejects entries outside the shape', () => {
  assert.throws(() => csrFromCoo([0, 4], [0, 0], 4, 2), RangeError);
  assert.throws(() => csrFromCoo([0], [2], 4, 2), RangeError);
  assert.throws(() => csrFromCoo([0], [0, 1], 4, 2), RangeError);
});

test('transpose and union', () => {
  const m = csrFromCoo([0, 0, 1, 2], [1, 3, 1, 0], 3, 4);
  const t = csrTranspose(m);
  assert.equal(t.nRows, 4);
  assert.equal(t.nCols, 3);
  assert.deepEqual([...t.indptr], [0, 1, 3, 3, 4]);
  assert.deepEqual([...t.indices], [2, 0, 1, 0]);
  const b = csrFromCoo([0, 2, 2], [1, 0, 3], 3, 4);
  const u = csrUnion(m, b);
  assert.deepEqual([...u.indptr], [0, 2, 3, 5]);
  assert.deepEqual([...u.indices], [1, 3, 1, 0, 3]);
  assert.throws(() => csrUnion(m, t), RangeError);
});

test('property: CSR round-trips the set of pairs; transpose twice is identity', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 12 }),
      fc.integer({ min: 1, max: 12 }),
      fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 80 }),
      (nr, nc, pairs) => {
        const rows = pairs.map(([r]) => r % nr);
        const cols = pairs.map(([, c]) => c % nc);
        const m = csrFromCoo(rows, cols, nr, nc);
        const want = new Set(rows.map((r, k) => r * nc + cols[k]!));
        const { rows: rr, cols: cc } = csrToCoo(m);
        const got = [...rr].map((r, k) => r * nc + cc[k]!);
        assert.deepEqual(
          got,
          [...want].sort((a, b) => a - b),
        );
        for (const key of want) assert.ok(csrContains(m, Math.floor(key / nc), key % nc));
        const tt = csrTranspose(csrTranspose(m));
        assert.deepEqual([...tt.indptr], [...m.indptr]);
        assert.deepEqual([...tt.indices], [...m.indices]);
      },
    ),
    { numRuns: 200 },
  );
});

test('sortedContains finds exactly the values of a sorted slice [lo, hi)', () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.integer({ min: 0, max: 40 }), { maxLength: 20 }),
      fc.nat(),
      fc.nat(),
      fc.integer({ min: -1, max: 41 }),
      (values, a, b, x) => {
        const arr = Int32Array.from(values.sort((p, q) => p - q));
        const lo = arr.length ? a % (arr.length + 1) : 0;
        const hi = lo + (arr.length ? b % (arr.length - lo + 1) : 0);
        assert.equal(sortedContains(arr, lo, hi, x), [...arr.subarray(lo, hi)].includes(x));
      },
    ),
    { numRuns: 300 },
  );
});
