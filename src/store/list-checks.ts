/**
 * The values of a stored recommendation list matrix (base, CP and checkpoint lists), checked on
 * load: every entry an item id 1..nItems−1 or −1, an empty slot (docs/numeric-contract.md §5:
 * item 0 is the padding item and is never recommended). An id out of range (65536, −2) would
 * otherwise be scored as a miss, or read past the end of a per-item array.
 */
import { checkRange } from '../util/checks.js';

/** The empty slot of a list (fewer than k items had a finite score). */
export const EMPTY_SLOT = -1;

/** Checks a rows × cols list matrix read from `file` against a catalogue of `nItems` ids (padding included). */
export function checkListItems(
  lists: Int32Array,
  shape: readonly [number, number],
  nItems: number,
  file: string,
): void {
  checkRange(
    lists,
    { what: 'recommendation lists', shape, file },
    { min: 1, max: nItems - 1, allowed: [EMPTY_SLOT], expected: `an item id 1..${nItems - 1} or -1 (an empty slot)` },
  );
}
