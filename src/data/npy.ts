/**
 * NumPy .npy reader/writer (format versions 1.0–3.0, little-endian, C order) for the dtypes the
 * reference writes: float32, float64, int32, int64. Used to import the oracle's embeddings and lists.
 */
import { UserError } from '../util/errors.js';
import { readRegularFile } from '../util/input-files.js';
import { checkFinite } from '../util/checks.js';
import { writeFileAtomic } from '../util/atomic.js';

/** The typed arrays a .npy file is read into, one per supported dtype. */
export type NpyData = Float32Array | Float64Array | Int32Array | BigInt64Array;
/** A decoded .npy array: little-endian dtype, shape, and the values in C (row-major) order. */
export interface NpyArray {
  dtype: '<f4' | '<f8' | '<i4' | '<i8';
  shape: number[];
  data: NpyData;
}

const MAGIC = '\x93NUMPY';

/** Decodes .npy bytes (C order; dtypes <f4, <f8, <i4, <i8); a UserError naming `file` otherwise. */
export function parseNpy(buf: Uint8Array, file = '<buffer>'): NpyArray {
  if (buf.length < 10 || Buffer.from(buf.subarray(0, 6)).toString('latin1') !== MAGIC) {
    throw new UserError('not a .npy file (bad magic)', file);
  }
  const major = buf[6]!;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const hlen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const hstart = major === 1 ? 10 : 12;
  if (hstart + hlen > buf.length) throw new UserError('truncated .npy header', file);
  const header = Buffer.from(buf.subarray(hstart, hstart + hlen)).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeTxt = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeTxt === undefined)
    throw new UserError(`unparsable .npy header: ${header.trim()}`, file);
  if (fortran === 'True') throw new UserError('Fortran-order .npy arrays are not supported', file);
  const shape = shapeTxt
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  const badDim = shape.findIndex((d) => !Number.isSafeInteger(d) || d < 0);
  if (badDim >= 0)
    throw new UserError(`.npy shape (${shapeTxt.trim()}): dimension ${badDim} is not a whole number`, file);
  const n = shape.reduce((a, b) => a * b, 1);
  const off = hstart + hlen;
  const sizes: Record<string, number> = { '<f4': 4, '<f8': 8, '<i4': 4, '<i8': 8 };
  const size = sizes[descr];
  if (!size) throw new UserError(`unsupported .npy dtype ${descr} (need <f4, <f8, <i4 or <i8)`, file);
  if (buf.length - off < n * size)
    throw new UserError(`truncated .npy data: need ${n * size} bytes, have ${buf.length - off}`, file);
  // Copy into an aligned buffer (the data offset is not guaranteed to be aligned for the view).
  const raw = new Uint8Array(buf.subarray(off, off + n * size)); // a copy (Buffer.slice would alias the pool)
  const ab = raw.buffer;
  const data =
    descr === '<f4'
      ? new Float32Array(ab, 0, n)
      : descr === '<f8'
        ? new Float64Array(ab, 0, n)
        : descr === '<i4'
          ? new Int32Array(ab, 0, n)
          : new BigInt64Array(ab, 0, n);
  return { dtype: descr as NpyArray['dtype'], shape, data };
}

/** Reads and decodes a .npy file (UserError naming the file when it cannot be read or parsed). */
export function readNpy(path: string): NpyArray {
  return parseNpy(readRegularFile(path), path);
}

/** Reads a 2-D float array as Float32 (float64 is narrowed); every value must be finite (first bad index named). */
export function readNpyMatrixF32(path: string): { rows: number; cols: number; data: Float32Array } {
  const a = readNpy(path);
  if (a.shape.length !== 2) throw new UserError(`expected a 2-D array, got shape (${a.shape.join(', ')})`, path);
  if (a.dtype !== '<f4' && a.dtype !== '<f8') throw new UserError(`expected float32/float64, got ${a.dtype}`, path);
  const data = a.data instanceof Float32Array ? a.data : Float32Array.from(a.data as Float64Array);
  checkFinite(data, { what: 'array', shape: a.shape, file: path });
  return { rows: a.shape[0]!, cols: a.shape[1]!, data };
}

/** Reads a 2-D integer array as Int32 (int64 values must fit). */
export function readNpyMatrixI32(path: string): { rows: number; cols: number; data: Int32Array } {
  const a = readNpy(path);
  if (a.shape.length !== 2) throw new UserError(`expected a 2-D array, got shape (${a.shape.join(', ')})`, path);
  if (a.dtype !== '<i4' && a.dtype !== '<i8') throw new UserError(`expected int32/int64, got ${a.dtype}`, path);
  const data = a.data instanceof Int32Array ? a.data : Int32Array.from(a.data as BigInt64Array, (v) => Number(v));
  return { rows: a.shape[0]!, cols: a.shape[1]!, data };
}

/** Encodes an array as .npy format 1.0 bytes, C order, header padded to a multiple of 64 bytes. */
export function encodeNpy(dtype: '<f4' | '<i4', shape: number[], data: Float32Array | Int32Array): Uint8Array {
  const shapeText = `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;
  let header = `{'descr': '${dtype}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(Buffer.from(MAGIC, 'latin1'), 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(Buffer.from(header, 'latin1'), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}

/** Writes an array as a .npy file, atomically. */
export function writeNpy(path: string, dtype: '<f4' | '<i4', shape: number[], data: Float32Array | Int32Array): void {
  writeFileAtomic(path, encodeNpy(dtype, shape, data));
}
