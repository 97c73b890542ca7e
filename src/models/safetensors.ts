/**
 * safetensors read/write (https://github.com/huggingface/safetensors, format spec):
 *   8 bytes   N, little-endian u64: header size
 *   N bytes   UTF-8 JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}
 *             (we pad it with spaces so the data starts at a multiple of 8)
 *   rest      the tensors' bytes, little-endian, row-major; offsets relative to this section
 * We write F32 and I32 tensors packed in the given order without gaps, which Python's
 * safetensors loads as is. Reading validates everything — the header, the offsets, and that
 * every F32 value is finite — and reports problems as UserError naming the file (and the
 * tensor and the first bad index).
 */
import { readFileSync } from 'node:fs';
import { UserError } from '../util/errors.js';
import { checkFinite } from '../util/checks.js';
import { writeFileAtomic } from '../util/atomic.js';

/** The tensor dtypes we read and write. */
export type SafeDtype = 'F32' | 'I32';

/** One tensor: dtype, shape and its values in row-major order. */
export interface SafeTensor {
  dtype: SafeDtype;
  shape: number[];
  data: Float32Array | Int32Array;
}

/** The content of a safetensors file: tensors by name, in file order, and the string metadata. */
export interface SafeTensorsFile {
  tensors: Map<string, SafeTensor>;
  metadata: Record<string, string>;
}

/** Header sizes above this are refused (the reference implementation's limit is 100 MB). */
const MAX_HEADER = 100_000_000;

function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * Encodes tensors (in iteration order) and string metadata into safetensors bytes. `alloc`
 * gives the output of the size asked for (default a new Uint8Array; a writer may pass a view
 * of a buffer it reuses — every byte of it is written).
 */
export function encodeSafetensors(
  tensors: ReadonlyMap<string, SafeTensor> | Record<string, SafeTensor>,
  metadata: Record<string, string> = {},
  alloc: (size: number) => Uint8Array = (size) => new Uint8Array(size),
): Uint8Array {
  const entries: [string, SafeTensor][] =
    tensors instanceof Map
      ? [...(tensors as ReadonlyMap<string, SafeTensor>).entries()]
      : Object.entries(tensors as Record<string, SafeTensor>);
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new TypeError(`safetensors metadata ${k} must be a string`);
    }
    header.__metadata__ = metadata;
  }
  let offset = 0;
  for (const [name, t] of entries) {
    if (name === '__metadata__') throw new TypeError('safetensors: a tensor cannot be called __metadata__');
    const okType =
      (t.dtype === 'F32' && t.data instanceof Float32Array) || (t.dtype === 'I32' && t.data instanceof Int32Array);
    if (!okType) throw new TypeError(`safetensors: tensor ${name} must be ${t.dtype} data`);
    if (!t.shape.every((d) => Number.isInteger(d) && d >= 0))
      throw new TypeError(`safetensors: tensor ${name} has a bad shape`);
    if (numel(t.shape) !== t.data.length) {
      throw new TypeError(`safetensors: tensor ${name} has ${t.data.length} values for shape [${t.shape.join(', ')}]`);
    }
    const bytes = t.data.length * 4;
    header[name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) json = Buffer.concat([json, Buffer.alloc(padded - json.length, 0x20)]);
  const out = alloc(8 + json.length + offset);
  if (out.length !== 8 + json.length + offset) throw new RangeError('safetensors: the output has the wrong size');
  const dv = new DataView(out.buffer, out.byteOffset, 8);
  dv.setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let pos = 8 + json.length;
  const le = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  for (const [, t] of entries) {
    const src = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.length * 4);
    out.set(src, pos);
    if (!le) swap4(out, pos, t.data.length);
    pos += t.data.length * 4;
  }
  return out;
}

function swap4(b: Uint8Array, off: number, n: number): void {
  for (let i = 0; i < n; i++) {
    const p = off + 4 * i;
    const a0 = b[p]!,
      a1 = b[p + 1]!;
    b[p] = b[p + 3]!;
    b[p + 1] = b[p + 2]!;
    b[p + 2] = a1;
    b[p + 3] = a0;
  }
}

/** Decodes safetensors bytes; `name` is used in error messages. */
export function decodeSafetensors(bytes: Uint8Array, name = 'safetensors'): SafeTensorsFile {
  const fail = (msg: string): never => {
    throw new UserError(`not a valid safetensors file: ${msg}`, name);
  };
  if (bytes.length < 8) fail(`truncated (${bytes.length} bytes, the header length alone needs 8)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = dv.getBigUint64(0, true);
  if (n64 > BigInt(bytes.length - 8))
    fail(`header length ${n64} runs past the end of the file (${bytes.length} bytes)`);
  const n = Number(n64);
  if (n > MAX_HEADER) fail(`header length ${n} is too large`);
  if (n < 2) fail(`header length ${n} is too small`);
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, n).toString('utf8'));
  } catch (e) {
    fail(`header is not JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header is not a JSON object');
  const dataStart = 8 + n;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, SafeTensor>();
  const spans: [number, number, string][] = [];
  for (const [key, raw] of Object.entries(header as Record<string, unknown>)) {
    if (key === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('__metadata__ is not an object');
      for (const [mk, mv] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof mv !== 'string') fail(`__metadata__.${mk} is not a string`);
        metadata[mk] = mv as string;
      }
      continue;
    }
    if (typeof raw !== 'object' || raw === null) fail(`entry ${key} is not an object`);
    const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (info.dtype !== 'F32' && info.dtype !== 'I32')
      fail(`tensor ${key} has dtype ${JSON.stringify(info.dtype)} (only F32 and I32 are supported)`);
    const shape = info.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0))
      fail(`tensor ${key} has a bad shape`);
    const offs = info.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isInteger(o) && o >= 0)) {
      fail(`tensor ${key} has bad data_offsets`);
    }
    const [b, e] = offs as [number, number];
    if (e < b) fail(`tensor ${key}: data_offsets [${b}, ${e}] are reversed`);
    if (e > dataLen)
      fail(`tensor ${key}: data_offsets [${b}, ${e}] past the end of the data (${dataLen} bytes; truncated file?)`);
    const count = numel(shape as number[]);
    if (e - b !== count * 4)
      fail(`tensor ${key}: ${e - b} bytes for shape [${(shape as number[]).join(', ')}] of ${info.dtype}`);
    spans.push([b, e, key]);
    const buf = new ArrayBuffer(count * 4);
    new Uint8Array(buf).set(bytes.subarray(dataStart + b, dataStart + e));
    const le = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
    if (!le) swap4(new Uint8Array(buf), 0, count);
    const data = info.dtype === 'F32' ? new Float32Array(buf) : new Int32Array(buf);
    // every value of a stored weight is finite: a NaN would silently drop items from top-k lists
    if (data instanceof Float32Array)
      checkFinite(data, { what: `tensor ${key}`, shape: shape as number[], file: name });
    tensors.set(key, { dtype: info.dtype as SafeDtype, shape: [...(shape as number[])], data });
  }
  spans.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  // like the reference loader: tensors tile the data section exactly (no overlap, gap or tail)
  let end = 0;
  for (let i = 0; i < spans.length; i++) {
    const [b, e, key] = spans[i]!;
    if (b < end) fail(`tensors ${spans[i - 1]![2]} and ${key} overlap`);
    if (b > end) fail(`gap in the data before tensor ${key} (offset ${b}, expected ${end})`);
    end = e;
  }
  if (end !== dataLen) fail(`${dataLen - end} bytes after the last tensor`);
  return { tensors, metadata };
}

/** Reads and validates a safetensors file (UserError naming the file otherwise). */
export function readSafetensors(path: string): SafeTensorsFile {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(code === 'ENOENT' ? 'file not found' : `cannot read (${(e as Error).message})`, path);
  }
  return decodeSafetensors(bytes, path);
}

/** Writes atomically (temp file, fsync, rename). */
export function writeSafetensors(
  path: string,
  tensors: ReadonlyMap<string, SafeTensor> | Record<string, SafeTensor>,
  metadata: Record<string, string> = {},
): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}
