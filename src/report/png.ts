/**
 * A small PNG decoder (node:zlib) for checking exported charts: 8-bit grey / grey+alpha / RGB /
 * RGBA / palette, non-interlaced — what resvg writes. Returns RGBA pixels.
 */
import { inflateSync } from 'node:zlib';
import { UserError } from '../util/errors.js';

/** A decoded PNG: size and RGBA pixels, row-major. */
export interface DecodedPng {
  width: number;
  height: number;
  rgba: Uint8Array;
}

const SIG = [137, 80, 78, 71, 13, 10, 26, 10];

/** Decodes a non-interlaced 8-bit PNG to RGBA (UserError naming `file` otherwise). */
export function decodePng(buf: Uint8Array, file = '<png>'): DecodedPng {
  if (buf.length < 8 || SIG.some((b, i) => buf[i] !== b)) throw new UserError('not a PNG file (bad signature)', file);
  const { width, height, depth, colour, interlace, palette, trns, idat } = readChunks(buf);
  if (!width || !height) throw new UserError('PNG without IHDR', file);
  if (depth !== 8 || interlace !== 0)
    throw new UserError(`unsupported PNG (bit depth ${depth}, interlace ${interlace})`, file);
  const channels = ({ 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as Record<number, number>)[colour];
  if (!channels) throw new UserError(`unsupported PNG colour type ${colour}`, file);
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  if (raw.length < height * (stride + 1)) throw new UserError('truncated PNG data', file);
  const px = unfilterScanlines(raw, height, stride, channels, file);
  const rgba = toRgba(px, width * height, colour, palette, trns);
  return { width, height, rgba };
}

/** The chunks a decoder needs: the IHDR fields, PLTE, tRNS and the IDAT pieces (up to IEND). */
interface PngChunks {
  width: number;
  height: number;
  depth: number;
  colour: number;
  interlace: number;
  palette: Uint8Array | undefined;
  trns: Uint8Array | undefined;
  idat: Uint8Array[];
}

/** Walks the chunk list after the signature (zeros for a missing IHDR; CRCs are not checked). */
function readChunks(buf: Uint8Array): PngChunks {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: PngChunks = {
    width: 0,
    height: 0,
    depth: 0,
    colour: 0,
    interlace: 0,
    palette: undefined,
    trns: undefined,
    idat: [],
  };
  let off = 8;
  while (off + 8 <= buf.length) {
    const len = dv.getUint32(off);
    const type = String.fromCharCode(buf[off + 4]!, buf[off + 5]!, buf[off + 6]!, buf[off + 7]!);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      out.width = dv.getUint32(off + 8);
      out.height = dv.getUint32(off + 12);
      out.depth = buf[off + 16]!;
      out.colour = buf[off + 17]!;
      out.interlace = buf[off + 20]!;
    } else if (type === 'PLTE') out.palette = data;
    else if (type === 'tRNS') out.trns = data;
    else if (type === 'IDAT') out.idat.push(data);
    else if (type === 'IEND') break;
    off += 12 + len;
  }
  return out;
}

/** Undoes the per-row filters (none, sub, up, average, Paeth) of the inflated IDAT stream. */
function unfilterScanlines(
  raw: Uint8Array,
  height: number,
  stride: number,
  channels: number,
  file: string,
): Uint8Array {
  const px = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)]!;
    const src = y * (stride + 1) + 1,
      dst = y * stride;
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? px[dst + x - channels]! : 0;
      const b = y > 0 ? px[dst - stride + x]! : 0;
      const c = x >= channels && y > 0 ? px[dst - stride + x - channels]! : 0;
      let v = raw[src + x]!;
      switch (f) {
        case 0:
          break;
        case 1:
          v += a;
          break;
        case 2:
          v += b;
          break;
        case 3:
          v += (a + b) >> 1;
          break;
        case 4: {
          const p = a + b - c,
            pa = Math.abs(p - a),
            pb = Math.abs(p - b),
            pc = Math.abs(p - c);
          v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default:
          throw new UserError(`bad PNG filter ${f} in row ${y}`, file);
      }
      px[dst + x] = v & 255;
    }
  }
  return px;
}

/** Expands unfiltered pixels of the given colour type to RGBA (palette entries missing → black, opaque). */
function toRgba(
  px: Uint8Array,
  pixels: number,
  colour: number,
  palette: Uint8Array | undefined,
  trns: Uint8Array | undefined,
): Uint8Array {
  const rgba = new Uint8Array(pixels * 4);
  for (let i = 0; i < pixels; i++) {
    let r: number,
      g: number,
      bl: number,
      al = 255;
    if (colour === 0) {
      r = g = bl = px[i]!;
    } else if (colour === 4) {
      r = g = bl = px[2 * i]!;
      al = px[2 * i + 1]!;
    } else if (colour === 2) {
      r = px[3 * i]!;
      g = px[3 * i + 1]!;
      bl = px[3 * i + 2]!;
    } else if (colour === 6) {
      r = px[4 * i]!;
      g = px[4 * i + 1]!;
      bl = px[4 * i + 2]!;
      al = px[4 * i + 3]!;
    } else {
      const p = px[i]!;
      r = palette?.[3 * p] ?? 0;
      g = palette?.[3 * p + 1] ?? 0;
      bl = palette?.[3 * p + 2] ?? 0;
      al = trns?.[p] ?? 255;
    }
    rgba[4 * i] = r;
    rgba[4 * i + 1] = g;
    rgba[4 * i + 2] = bl;
    rgba[4 * i + 3] = al;
  }
  return rgba;
}

/** Pixel statistics: how many distinct colours and how many pixels differ from the top-left one. */
export function pngInk(p: DecodedPng): { distinctColours: number; nonBackground: number; share: number } {
  const { rgba } = p;
  const n = p.width * p.height;
  const bg = [rgba[0]!, rgba[1]!, rgba[2]!, rgba[3]!];
  const colours = new Set<number>();
  let diff = 0;
  for (let i = 0; i < n; i++) {
    const o = 4 * i;
    if (colours.size < 4096) colours.add(((rgba[o]! << 16) | (rgba[o + 1]! << 8) | rgba[o + 2]!) * 256 + rgba[o + 3]!);
    if (
      Math.abs(rgba[o]! - bg[0]!) +
        Math.abs(rgba[o + 1]! - bg[1]!) +
        Math.abs(rgba[o + 2]! - bg[2]!) +
        Math.abs(rgba[o + 3]! - bg[3]!) >
      24
    )
      diff++;
  }
  return { distinctColours: colours.size, nonBackground: diff, share: diff / n };
}
