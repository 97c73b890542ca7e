/**
 * Row-wise top-k without a full sort: a size-k min-heap per row, O(n log k).
 * Order: higher score first; ties broken by lower item index first (deterministic).
 * −Infinity entries (masked items) are never returned; NaN is treated as −Infinity.
 * A row with fewer than k finite scores is padded with −1.
 */
export function topkRow(scores: Float32Array, offset: number, n: number, k: number, outIdx: Int32Array, outOff: number): void {
  // heap arrays of (score, index); heap[0] is the worst kept element.
  const hs = new Float64Array(k);
  const hi = new Int32Array(k);
  let size = 0;
  const worse = (sa: number, ia: number, sb: number, ib: number) => sa < sb || (sa === sb && ia > ib);
  for (let j = 0; j < n; j++) {
    const s = scores[offset + j]!;
    if (!(s > -Infinity)) continue; // −Inf and NaN
    if (size < k) {
      // sift up
      let c = size++;
      while (c > 0) {
        const p = (c - 1) >> 1;
        if (worse(s, j, hs[p]!, hi[p]!)) { hs[c] = hs[p]!; hi[c] = hi[p]!; c = p; } else break;
      }
      hs[c] = s; hi[c] = j;
    } else if (worse(hs[0]!, hi[0]!, s, j)) {
      // replace root, sift down
      let c = 0;
      for (;;) {
        const l = 2 * c + 1;
        if (l >= k) break;
        const r = l + 1;
        let m = l;
        if (r < k && worse(hs[r]!, hi[r]!, hs[l]!, hi[l]!)) m = r;
        if (worse(hs[m]!, hi[m]!, s, j)) { hs[c] = hs[m]!; hi[c] = hi[m]!; c = m; } else break;
      }
      hs[c] = s; hi[c] = j;
    }
  }
  // pop in worst-first order into the back of the output
  for (let pos = k - 1; pos >= 0; pos--) {
    if (pos >= size) { outIdx[outOff + pos] = -1; continue; }
    // extract root
    const rootI = hi[0]!;
    const lastS = hs[size - 1]!, lastI = hi[size - 1]!;
    size--;
    let c = 0;
    for (;;) {
      const l = 2 * c + 1;
      if (l >= size) break;
      const r = l + 1;
      let m = l;
      if (r < size && worse(hs[r]!, hi[r]!, hs[l]!, hi[l]!)) m = r;
      if (worse(hs[m]!, hi[m]!, lastS, lastI)) { hs[c] = hs[m]!; hi[c] = hi[m]!; c = m; } else break;
    }
    hs[c] = lastS; hi[c] = lastI;
    outIdx[outOff + pos] = rootI;
  }
}

/** Top-k of every row of a rows × n score matrix → rows × k indices. */
export function topkRows(scores: Float32Array, rows: number, n: number, k: number, out?: Int32Array): Int32Array {
  const res = out ?? new Int32Array(rows * k);
  for (let r = 0; r < rows; r++) topkRow(scores, r * n, n, k, res, r * k);
  return res;
}
