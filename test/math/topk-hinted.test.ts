/**
 * Hinted row top-k (native/topk.cc topkRow): whatever the hint (previous lists, nonsense,
 * duplicates, out-of-range items), the lists are the TypeScript heap's; ±0 tie as the heap ties them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { topkRow, useNativeTopk } from '../../src/math/topk.js';
import { skipOrFailOnCi } from '../helpers/ci.js';
import { Rng } from '../../src/math/rng.js';

/** Rows with ties (±0 among them), −∞ (masked) and NaN entries, and a few with almost nothing finite. */
function hostileRows(rng: Rng, rows: number, n: number): Float32Array {
  const s = new Float32Array(rows * n);
  for (let r = 0; r < rows; r++) {
    const sparse = r % 7 === 3;
    for (let j = 0; j < n; j++) {
      const u = rng.nextFloat();
      let v = Math.round(rng.nextFloat() * 40) / 8; // coarse: many ties
      if (u < 0.05 || (sparse && u < 0.97)) v = -Infinity;
      else if (u < 0.07) v = NaN;
      else if (u < 0.072) v = Infinity;
      else if (u < 0.08) v = u < 0.076 ? -0 : 0; // −0 ties with +0
      s[r * n + j] = v;
    }
  }
  return s;
}

/** What the hint holds before the call: previous lists of a nearby row, nonsense, duplicates, out of range. */
function hintFor(kind: number, prev: Int32Array, r: number, k: number, n: number, rng: Rng): Int32Array {
  const h = new Int32Array(k);
  for (let c = 0; c < k; c++) {
    if (kind === 0) h[c] = prev[r * k + c]!;
    else if (kind === 1) h[c] = rng.nextInt(n);
    else if (kind === 2)
      h[c] = prev[r * k]!; // one item k times: its score may exceed the k-th best
    else h[c] = c === 0 ? n + 5 : c;
  }
  return h;
}

// Hints of every kind reach each path of the kernel: the heap (no or a bad hint), the rank count
// (few items at or above the bound) and the sort (more of them).
test('row top-k: the native kernel (with any hint) gives the TypeScript heap lists exactly', (t) => {
  if (!useNativeTopk(true)) return skipOrFailOnCi(t, 'the native binding has no topkRow');
  const rng = new Rng(7);
  for (const [n, k] of [
    [1682, 50],
    [2000, 100],
    [300, 10],
    [40, 40],
    [9, 1],
    [64, 63],
  ] as const) {
    const rows = 60;
    const s = hostileRows(rng, rows, n);
    const want = new Int32Array(rows * k);
    useNativeTopk(false); // the TypeScript heap
    for (let r = 0; r < rows; r++) topkRow(s, r * n, n, k, want, r * k);
    useNativeTopk(true);
    // previous lists: the top k of the same rows slightly moved
    const moved = s.map((v, i) => v + ((i * 2654435761) % 7) / 64);
    const prev = new Int32Array(rows * k);
    for (let r = 0; r < rows; r++) topkRow(moved, r * n, n, k, prev, r * k);
    for (let kind = -1; kind < 4; kind++) {
      const got = new Int32Array(rows * k);
      for (let r = 0; r < rows; r++) {
        if (kind >= 0) got.set(hintFor(kind, prev, r, k, n, rng), r * k);
        topkRow(s, r * n, n, k, got, r * k, kind >= 0);
      }
      assert.deepEqual(got, want, `n ${n}, k ${k}, hint kind ${kind}`);
    }
  }
  useNativeTopk(true);
});

test('row top-k: the TypeScript path ignores the hint and pads short rows with −1', () => {
  useNativeTopk(false);
  try {
    const s = new Float32Array([-Infinity, 3, NaN, 3, -Infinity, 1]);
    const out = new Int32Array([5, 5, 5, 5]);
    topkRow(s, 0, s.length, 4, out, 0, true);
    assert.deepEqual([...out], [1, 3, 5, -1]);
  } finally {
    useNativeTopk(true);
  }
});

test('row top-k: −0 and +0 tie (the lower item first), also where the hint settles the list', () => {
  const s = new Float32Array([-1, 0, -0, -0, 0, -2, 0.5, -0.25]);
  const want = new Int32Array(4);
  topkRow(s, 0, s.length, 4, want, 0);
  assert.deepEqual([...want], [6, 1, 2, 3]);
  for (const native of [true, false]) {
    useNativeTopk(native);
    const got = Int32Array.from([1, 2, 3, 4]); // a hint whose lowest score is 0: five items qualify
    topkRow(s, 0, s.length, 4, got, 0, true);
    assert.deepEqual([...got], [...want], native ? 'native' : 'TypeScript');
  }
  useNativeTopk(true);
});
