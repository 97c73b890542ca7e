/** A growable Int32Array: the typed-array counterpart of `number[]` for millions of ids. */

/** An Int32Array that doubles its capacity as values are pushed. */
export class GrowInt32 {
  /** The values, valid up to `length` (capacity beyond). */
  data = new Int32Array(1 << 16);
  /** How many values were pushed. */
  length = 0;

  /** Appends one value. */
  push(v: number): void {
    if (this.length === this.data.length) {
      const n = new Int32Array(this.data.length * 2);
      n.set(this.data);
      this.data = n;
    }
    this.data[this.length++] = v;
  }

  /** The values pushed (a view, no copy). */
  values(): Int32Array {
    return this.data.subarray(0, this.length);
  }
}
