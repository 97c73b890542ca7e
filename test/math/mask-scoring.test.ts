/**
 * Masking of score blocks and the blocked score → mask → top-k loop.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Csr } from '../../src/math/csr.js';
import { maskBlock } from '../../src/math/mask.js';
import { scoreTopK, scoreTopKWith } from '../../src/math/scoring.js';
import { matrix, type Matrix } from '../../src/math/matrix.js';
import { gemmBackend, setGemmBackend } from '../../src/math/gemm.js';
import { loadNativeBlas } from '../../src/math/native.js';
import { Rng } from '../../src/math/rng.js';

/** A CSR from per-row item lists (sorted here, as the data layer guarantees). */
function csr(rows: number[][], nCols: number): Csr {
  const indptr = new Int32Array(rows.length + 1);
  const flat: number[] = [];
  rows.forEach((r, i) => {
    flat.push(...[...r].sort((a, b) => a - b));
    indptr[i + 1] = flat.length;
  });
  return { nRows: rows.length, nCols, indptr, indices: Int32Array.from(flat) };
}

describe('maskBlock', () => {
  const train = csr([[], [1, 3], [2], [4, 5]], 6);
  const valid = csr([[], [5], [], [1]], 6);

  it("sets the users' train and valid items and item 0 to −Infinity, nothing else", () => {
    const users = Int32Array.of(3, 1);
    const s = new Float32Array(12).fill(1);
    maskBlock(s, users, 6, [train, valid]);
    const I = -Infinity;
    assert.deepEqual([...s], [I, I, 1, 1, I, I, /* user 1 */ I, I, 1, I, 1, I]);
  });

  it('respects ld (padding columns untouched) and padding: false', () => {
    const s = new Float32Array(2 * 8).fill(2);
    maskBlock(s, Int32Array.of(2, 0), 6, [train], { ld: 8, padding: false });
    assert.deepEqual([...s], [2, 2, -Infinity, 2, 2, 2, 2, 2, /* user 0: nothing */ 2, 2, 2, 2, 2, 2, 2, 2]);
  });

  it('rejects users outside the mask, short blocks and masks from a larger item space', () => {
    assert.throws(() => maskBlock(new Float32Array(6), Int32Array.of(4), 6, [train]), RangeError);
    assert.throws(() => maskBlock(new Float32Array(6), Int32Array.of(-1), 6, [train]), RangeError);
    assert.throws(() => maskBlock(new Float32Array(11), Int32Array.of(1, 2), 6, [train]), RangeError);
    assert.throws(() => maskBlock(new Float32Array(10), Int32Array.of(1, 2), 5, [train]), RangeError);
  });
});

/** Reference: full float64 scores, mask, sort by (score desc, index asc). */
function refTopK(U: Matrix, V: Matrix, users: Int32Array, k: number, masks: Csr[], padding = true): number[] {
  const out: number[] = [];
  for (const u of users) {
    const cand: Array<[number, number]> = [];
    for (let i = 0; i < V.rows; i++) {
      if (padding && i === 0) continue;
      if (masks.some((m) => m.indices.subarray(m.indptr[u]!, m.indptr[u + 1]!).includes(i))) continue;
      let s = 0;
      for (let d = 0; d < U.cols; d++) s += U.data[u * U.cols + d]! * V.data[i * V.cols + d]!;
      cand.push([s, i]);
    }
    cand.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    for (let j = 0; j < k; j++) out.push(j < cand.length ? cand[j]![1] : -1);
  }
  return out;
}

/** Small-integer embeddings: dot products are exact in float32, so ties are real ties. */
function intMatrix(rng: Rng, rows: number, cols: number): Matrix {
  const m = matrix(rows, cols);
  for (let i = 0; i < m.data.length; i++) m.data[i] = rng.nextInt(5) - 2;
  return m;
}

describe('scoreTopK', () => {
  const initial = gemmBackend().name;
  after(() => {
    setGemmBackend(initial);
  });
  const backends: Array<'typescript' | 'openblas'> = loadNativeBlas().ok ? ['typescript', 'openblas'] : ['typescript'];

  it('hand example: dot scores, train masked, padding item never returned', () => {
    // Items 0..3 with 2-d embeddings; user 1 = (1, 0) scores items by their first coordinate.
    const U = matrix(2, 2, Float32Array.of(0, 0, 1, 0));
    const V = matrix(4, 2, Float32Array.of(9, 9, 3, 1, 5, 0, 4, 7));
    const train = csr([[], [2]], 4);
    assert.deepEqual([...scoreTopK(U, V, Int32Array.of(1), 2, [train])], [3, 1]);
    assert.deepEqual([...scoreTopK(U, V, Int32Array.of(1), 2, [])], [2, 3]);
    assert.deepEqual([...scoreTopK(U, V, Int32Array.of(1), 2, [], { maskPadding: false })], [0, 2]);
    // Only items 1 and 3 remain: the rest is padded with −1.
    assert.deepEqual([...scoreTopK(U, V, Int32Array.of(1), 3, [train])], [3, 1, -1]);
  });

  for (const backend of backends) {
    it(`matches a full-sort reference across uneven blocks (${backend})`, () => {
      setGemmBackend(backend);
      const rng = new Rng(11);
      const nUsers = 23,
        nItems = 41,
        dim = 6;
      const U = intMatrix(rng, nUsers, dim),
        V = intMatrix(rng, nItems, dim);
      const rows = (p: number) =>
        Array.from({ length: nUsers }, () => {
          const r: number[] = [];
          for (let i = 1; i < nItems; i++) if (rng.nextFloat() < p) r.push(i);
          return r;
        });
      const train = csr(rows(0.3), nItems),
        valid = csr(rows(0.1), nItems);
      const users = Int32Array.from({ length: 17 }, (_, i) => (i * 7 + 3) % nUsers);
      const want = refTopK(U, V, users, 10, [train, valid]);
      for (const blockRows of [1, 4, 5, 256]) {
        assert.deepEqual(
          [...scoreTopK(U, V, users, 10, [train, valid], { blockRows })],
          want,
          `blockRows ${blockRows}`,
        );
      }
    });
  }

  it('rejects mismatched dimensions, bad k and bad block sizes', () => {
    const U = matrix(2, 3),
      V = matrix(4, 2);
    assert.throws(() => scoreTopK(U, V, Int32Array.of(0), 1, []), RangeError);
    const W = matrix(4, 3);
    assert.throws(() => scoreTopK(U, W, Int32Array.of(5), 1, []), RangeError);
    assert.throws(() => scoreTopK(U, W, Int32Array.of(0), -1, []), RangeError);
    assert.throws(() => scoreTopK(U, W, Int32Array.of(0), 1, [], { blockRows: 0 }), RangeError);
  });
});

describe('scoreTopKWith (generic block scorer)', () => {
  it('runs any scorer through the same blocks and reports each block', () => {
    const nItems = 8;
    // Score of item i for user u: −|i − u| (closest items first; ties → lower index).
    const calls: number[] = [];
    const scorer = (ub: Int32Array, out: Float32Array) => {
      calls.push(ub.length);
      for (let r = 0; r < ub.length; r++) for (let i = 0; i < nItems; i++) out[r * nItems + i] = -Math.abs(i - ub[r]!);
    };
    const train = csr([[], [], [], [2, 3], [], [5], [], []], nItems);
    const users = Int32Array.of(3, 5, 7);
    const seen: number[] = [];
    const top = scoreTopKWith(scorer, nItems, users, 3, [train], {
      blockRows: 2,
      onBlock: (ub, scores, t, first) => {
        seen.push(first, ub.length);
        assert.equal(scores.length, ub.length * nItems);
        assert.equal(scores[0], -Infinity); // padding item masked before the hook
        assert.equal(t.length, ub.length * 3);
      },
    });
    // user 3: items 2,3 masked → 4 (−1), 1 (−2), 5 (−2); user 5: 5 masked → 4, 6, 3;
    // user 7: 7, 6, 5.
    assert.deepEqual([...top], [4, 1, 5, 4, 6, 3, 7, 6, 5]);
    assert.deepEqual(calls, [2, 1]);
    assert.deepEqual(seen, [0, 2, 2, 1]);
  });

  it('handles no users', () => {
    const top = scoreTopKWith(
      () => {
        throw new Error('not called');
      },
      5,
      new Int32Array(0),
      3,
      [],
    );
    assert.equal(top.length, 0);
  });
});
