/**
 * A SHA-256 fingerprint of a SplitDataset — sizes, id maps and the three matrices — written
 * into model sidecars so a model is never evaluated against a different split by accident.
 */
import { createHash, type Hash } from 'node:crypto';
import type { Csr } from '../math/csr.js';
import type { IdMap, SplitDataset } from './types.js';

const VERSION = 'calitune-split-v1';

function littleEndianBytes(a: Int32Array): Uint8Array {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  if (new Uint8Array(new Uint32Array([1]).buffer)[0] === 1) return bytes;
  const out = new Uint8Array(a.length * 4);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < a.length; i++) dv.setInt32(i * 4, a[i]!, true);
  return out;
}

function hashCsr(h: Hash, name: string, m: Csr): void {
  const nnz = m.indptr[m.nRows]!;
  h.update(`${name}\t${m.nRows}\t${m.nCols}\t${nnz}\n`);
  h.update(littleEndianBytes(m.indptr.subarray(0, m.nRows + 1)));
  h.update(littleEndianBytes(m.indices.subarray(0, nnz)));
}

function hashMap(h: Hash, m: IdMap): void {
  h.update(`${m.field}\t${m.tokens.length}\n`);
  // Length-prefixed so that no two token lists hash alike.
  for (const t of m.tokens) h.update(`${t.length}:${t}`);
  h.update('\n');
}

/** Hex SHA-256 over the sizes, the id maps and train/valid/test (row order and contents). */
export function fingerprintSplit(ds: SplitDataset): string {
  const h = createHash('sha256');
  h.update(`${VERSION}\n${ds.nUsers}\t${ds.nItems}\n`);
  hashMap(h, ds.userMap);
  hashMap(h, ds.itemMap);
  hashCsr(h, 'train', ds.train);
  hashCsr(h, 'valid', ds.valid);
  hashCsr(h, 'test', ds.test);
  return h.digest('hex');
}
