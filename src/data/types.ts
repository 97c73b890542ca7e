/**
 * Shared data types. Internal ids are 1..N in order of first appearance; id 0 is padding
 * (never recommended, trained on or evaluated), so every count below includes it.
 */
import type { Csr } from '../math/csr.js';

/** External token ↔ internal id. tokens[0] is '[PAD]'. */
export interface IdMap {
  readonly field: string;
  readonly tokens: readonly string[];
  readonly index: ReadonlyMap<string, number>;
}

/** A deduplicated positive-interaction log with internal ids, in file order. */
export interface InteractionLog {
  readonly users: Int32Array;
  readonly items: Int32Array;
  readonly userMap: IdMap;
  readonly itemMap: IdMap;
  /** Where it came from, for error messages and the data fingerprint. */
  readonly source: string;
}

/** The RS split of docs/numeric-contract.md §2. */
export interface SplitDataset {
  /** Users including padding user 0. */
  readonly nUsers: number;
  /** Items including padding item 0. */
  readonly nItems: number;
  readonly train: Csr;
  readonly valid: Csr;
  readonly test: Csr;
  readonly userMap: IdMap;
  readonly itemMap: IdMap;
}
