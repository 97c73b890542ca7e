/**
 * A chunked line scanner for large text files. The file is read in 8 MiB chunks and scanned
 * character by character; a line's fields become offsets into the chunk's text, so the caller
 * turns into strings only the fields it keeps.
 */
import { closeSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { isAscii } from 'node:buffer';
import { UserError } from '../util/errors.js';
import { binaryFileError, openRegularFile } from '../util/input-files.js';

const CHUNK = 8 << 20;

/** One line's fields as offsets into `text` (reused between lines: copy what you keep). */
export interface LineView {
  /** The text the offsets point into (a chunk, not just the line). */
  text: string;
  /** 1-based physical line number, blank lines counted. */
  lineNo: number;
  /** Number of fields on the line. */
  count: number;
  /** Start offset of field k in text (entries past count are stale). */
  starts: Int32Array;
  /** End offset (exclusive) of field k in text. */
  ends: Int32Array;
  /** Entry k is true when field k was quoted with doubled quotes inside (needs unescaping). */
  escaped: boolean[];
}

/** How lines split into fields. */
export interface ScanOptions {
  /** The field separator, one or more characters. */
  sep: string;
  /** Strip spaces around each field. */
  trim: boolean;
  /** A field may be "quoted" (with "" for a quote inside); the separator inside quotes is text. */
  quotes: boolean;
}

/** Field k of the line, with the doubled quotes of an escaped quoted field undone. */
export function field(v: LineView, k: number): string {
  const s = v.text.slice(v.starts[k]!, v.ends[k]!);
  return v.escaped[k] ? s.replace(/""/g, '"') : s;
}

/**
 * Calls onLine for every non-blank line of the file at `path`. Returns the number of physical
 * lines. Throws UserError (with the path) when the file cannot be opened or is not a regular
 * file, and with the line number for an unterminated quoted field or a NUL byte (binary input).
 */
export function scanLines(path: string, opt: ScanOptions, onLine: (v: LineView) => void): number {
  const fd = openRegularFile(path);
  const splitter = new LineSplitter(path, opt, onLine);
  const chunks = new ChunkDecoder(fd);
  try {
    let carry = '';
    for (;;) {
      const { text: decoded, atEnd } = chunks.next();
      const text = carry + decoded;
      // Mid-file only complete lines are scanned; the partial last one waits for the next chunk.
      const last = atEnd ? text.length - 1 : text.lastIndexOf('\n');
      splitter.scanText(text, last, atEnd);
      if (atEnd) break;
      carry = text.slice(last + 1);
    }
  } finally {
    closeSync(fd);
  }
  return splitter.lineNo;
}

/**
 * Successive chunks of an open file as text. ASCII chunks decode as latin1 (the fast path);
 * from the first non-ASCII chunk on, a streaming UTF-8 decoder takes over so that characters
 * split across chunks survive. A leading byte-order mark is dropped.
 */
class ChunkDecoder {
  private readonly decoder = new StringDecoder('utf8');
  private readonly buf = Buffer.allocUnsafe(CHUNK);
  private utf8Seen = false;
  private first = true;

  constructor(private readonly fd: number) {}

  next(): { text: string; atEnd: boolean } {
    const n = readSync(this.fd, this.buf, 0, CHUNK, null);
    let text: string;
    if (n === 0) text = this.utf8Seen ? this.decoder.end() : '';
    else if (!this.utf8Seen && isAscii(this.buf.subarray(0, n))) text = this.buf.toString('latin1', 0, n);
    else {
      this.utf8Seen = true;
      text = this.decoder.write(this.buf.subarray(0, n));
    }
    if (this.first && text.length > 0) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      this.first = false;
    }
    return { text, atEnd: n === 0 };
  }
}

function isBlank(text: string, s: number, e: number): boolean {
  for (let i = s; i < e; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13) return false;
  }
  return true;
}

/** Returned by LineSplitter.quotedField when the field at hand is not quoted. */
const NOT_QUOTED = -1;
/** Returned by LineSplitter.quotedField when the quoted field was the line's last. */
const LINE_DONE = -2;

/** Cuts text into lines and lines into fields, counting lines across chunks. */
class LineSplitter {
  /** Physical lines seen so far. */
  lineNo = 0;
  private readonly view: LineView = {
    text: '',
    lineNo: 0,
    count: 0,
    starts: new Int32Array(16),
    ends: new Int32Array(16),
    escaped: [],
  };
  private readonly sep: string;
  private readonly sepCode: number;
  private readonly sepLen: number;

  constructor(
    private readonly path: string,
    private readonly opt: ScanOptions,
    private readonly onLine: (v: LineView) => void,
  ) {
    this.sep = opt.sep;
    this.sepCode = opt.sep.length === 1 ? opt.sep.charCodeAt(0) : -1;
    this.sepLen = opt.sep.length;
  }

  /** Scans the lines of text[0, last]; at the end of the file the line may lack its newline. */
  scanText(text: string, last: number, atEnd: boolean): void {
    const view = this.view;
    view.text = text;
    // A text file has no NUL bytes: the line holding the first one is refused as binary input.
    const nul = text.indexOf('\u0000');
    let pos = 0;
    while (pos <= last) {
      let nl = text.indexOf('\n', pos);
      if (nl < 0 || nl > last) nl = atEnd ? text.length : last;
      this.lineNo++;
      if (nul >= pos && nul <= nl) throw binaryFileError(this.path, this.lineNo);
      let le = nl;
      if (le > pos && text.charCodeAt(le - 1) === 13) le--;
      if (!isBlank(text, pos, le)) {
        view.lineNo = this.lineNo;
        this.splitLine(text, pos, le);
        this.onLine(view);
      }
      pos = nl + 1;
    }
  }

  private splitLine(text: string, ls: number, le: number): void {
    this.view.count = 0;
    let s = ls;
    for (;;) {
      if (this.opt.quotes) {
        const next = this.quotedField(text, s, le);
        if (next === LINE_DONE) return;
        if (next !== NOT_QUOTED) {
          s = next;
          continue;
        }
      }
      let e: number;
      if (this.sepCode >= 0) {
        e = s;
        while (e < le && text.charCodeAt(e) !== this.sepCode) e++;
      } else {
        e = text.indexOf(this.sep, s);
        if (e < 0 || e > le) e = le;
      }
      this.push(s, e, false);
      if (e >= le) return;
      s = e + this.sepLen;
    }
  }

  /**
   * When the field starting at s is quoted (after optional spaces), pushes it and returns where
   * the next field starts, or LINE_DONE; otherwise returns NOT_QUOTED. Text between the closing
   * quote and the next separator is ignored.
   */
  private quotedField(text: string, s: number, le: number): number {
    let q = s;
    while (q < le && text.charCodeAt(q) === 32) q++;
    if (!(q < le && text.charCodeAt(q) === 34)) return NOT_QUOTED;
    // Up to the closing quote; "" is an escaped quote.
    let i = q + 1;
    let esc = false;
    for (;;) {
      const j = text.indexOf('"', i);
      if (j < 0 || j >= le) throw new UserError('unterminated quoted field', this.path, this.view.lineNo);
      if (j + 1 < le && text.charCodeAt(j + 1) === 34) {
        esc = true;
        i = j + 2;
        continue;
      }
      this.push(q + 1, j, esc);
      i = j + 1;
      break;
    }
    const next = text.indexOf(this.sep, i);
    if (next < 0 || next >= le) return LINE_DONE;
    return next + this.sepLen;
  }

  private push(s: number, e: number, esc: boolean): void {
    const view = this.view;
    if (view.count === view.starts.length) {
      const ns = new Int32Array(view.count * 2);
      ns.set(view.starts);
      view.starts = ns;
      const ne = new Int32Array(view.count * 2);
      ne.set(view.ends);
      view.ends = ne;
    }
    if (this.opt.trim) {
      while (s < e && view.text.charCodeAt(s) === 32) s++;
      while (e > s && view.text.charCodeAt(e - 1) === 32) e--;
    }
    view.starts[view.count] = s;
    view.ends[view.count] = e;
    view.escaped[view.count] = esc;
    view.count++;
  }
}
