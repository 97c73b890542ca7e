/**
 * Loads the oracle's split (internal ids) and id maps for the evaluation / calibration / CP
 * tests. Self-contained on purpose (a tiny TSV reader), cached per process.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Csr } from '../../src/math/csr.js';
import { ORACLE_DIR } from '../helpers/shared.js';

export const ORACLE_N_USERS = 944;
export const ORACLE_N_ITEMS = 1683;
export const ORACLE_LAMBDAS = ['0.1', '0.2', '0.3', '0.4', '0.5', '0.6', '0.7', '0.8', '0.9'] as const;

export function oraclePath(...parts: string[]): string {
  return join(ORACLE_DIR, ...parts);
}

/** Reads `user_id\titem_id` rows into a CSR with sorted, deduplicated rows. */
export function loadPairsCsr(path: string, nRows: number, nCols: number): Csr {
  const lines = readFileSync(path, 'utf8').split('\n');
  const rows: number[] = [],
    cols: number[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const tab = line.indexOf('\t');
    rows.push(Number(line.slice(0, tab)));
    cols.push(Number(line.slice(tab + 1)));
  }
  const indptr = new Int32Array(nRows + 1);
  for (const r of rows) indptr[r + 1]!++;
  for (let r = 0; r < nRows; r++) indptr[r + 1]! += indptr[r]!;
  const fill = indptr.slice(0, nRows);
  const indices = new Int32Array(rows.length);
  for (let k = 0; k < rows.length; k++) indices[fill[rows[k]!]!++] = cols[k]!;
  // sort and dedupe each row
  const outIdx: number[] = [];
  const outPtr = new Int32Array(nRows + 1);
  for (let r = 0; r < nRows; r++) {
    const row = Array.from(indices.subarray(indptr[r]!, indptr[r + 1]!)).sort((a, b) => a - b);
    for (let j = 0; j < row.length; j++) if (j === 0 || row[j] !== row[j - 1]) outIdx.push(row[j]!);
    outPtr[r + 1] = outIdx.length;
  }
  return { nRows, nCols, indptr: outPtr, indices: Int32Array.from(outIdx) };
}

export interface OracleSplit {
  train: Csr;
  valid: Csr;
  test: Csr;
  nUsers: number;
  nItems: number;
}

let cached: OracleSplit | undefined;
export function oracleSplit(): OracleSplit {
  if (cached) return cached;
  const f = (name: string) => loadPairsCsr(oraclePath('splits', `${name}_split.tsv`), ORACLE_N_USERS, ORACLE_N_ITEMS);
  cached = { train: f('train'), valid: f('valid'), test: f('test'), nUsers: ORACLE_N_USERS, nItems: ORACLE_N_ITEMS };
  return cached;
}

/** External tokens by internal id (index 0 = '[PAD]') from a `token\tinternal_id` map. */
export function oracleTokens(file: 'user_id_map.tsv' | 'item_id_map.tsv'): string[] {
  const lines = readFileSync(oraclePath(file), 'utf8').split('\n');
  const tokens: string[] = ['[PAD]'];
  for (let i = 1; i < lines.length; i++) {
    if (lines[i] === '') continue;
    const [tok, id] = lines[i]!.split('\t') as [string, string];
    tokens[Number(id)] = tok;
  }
  return tokens;
}

export type RefRecord = Record<string, number>;
export interface OracleResults {
  base_recommendations: RefRecord;
  postprocessed: Record<string, RefRecord>;
  finetuned: Record<string, RefRecord>;
}
export function oracleResults(run = 'c0.5_unfrozen'): OracleResults {
  return JSON.parse(readFileSync(oraclePath('results', `${run}_result_test.json`), 'utf8')) as OracleResults;
}
