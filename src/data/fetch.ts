/**
 * `calitune fetch`: downloads a GroupLens archive, verifies its pinned size and SHA-256
 * (DESIGN §5b), extracts it next to the destination and renames it into place. On any failure
 * nothing is left behind: no temp file, no partial destination folder.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { unzipSync } from 'fflate';
import { InputError, UserError } from '../util/errors.js';

export type DatasetName = 'ml-100k' | 'ml-1m';

export interface DatasetInfo {
  url: string;
  bytes: number;
  sha256: string;
  /** The interaction file inside the extracted folder. */
  interactions: string;
}

export const DEFAULT_BASE_URL = 'https://files.grouplens.org/datasets/movielens';

/** Pinned as by TensorFlow Datasets (DESIGN §5b). */
export const DATASETS: Readonly<Record<DatasetName, DatasetInfo>> = {
  'ml-100k': {
    url: `${DEFAULT_BASE_URL}/ml-100k.zip`,
    bytes: 4_924_029,
    sha256: '50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229',
    interactions: 'u.data',
  },
  'ml-1m': {
    url: `${DEFAULT_BASE_URL}/ml-1m.zip`,
    bytes: 5_917_549,
    sha256: 'a6898adb50b9ca05aa231689da44c217cb524e7ebd39d264c56e2832f2c54e20',
    interactions: 'ratings.dat',
  },
};

export interface FetchOptions {
  /** Replaces the GroupLens base URL; the archive is fetched from `${baseUrl}/${name}.zip`. */
  baseUrl?: string;
  /** Called as bytes arrive; total is the expected size. */
  onProgress?: (received: number, total: number) => void;
  /** Overrides the pinned checksum and size (tests serve their own archive). */
  expectedSha256?: string;
  expectedBytes?: number;
  /** Replace an existing destination folder (default: refuse). */
  overwrite?: boolean;
  /** Per-request inactivity timeout in ms (default 30 000). */
  timeoutMs?: number;
  /** Maximum number of redirects followed (default 5). */
  maxRedirects?: number;
}

export interface FetchResult {
  name: DatasetName;
  url: string;
  dir: string;
  /** Path of the interaction file (u.data, ratings.dat). */
  interactions: string;
  files: string[];
  bytes: number;
  sha256: string;
}

export function isDatasetName(s: string): s is DatasetName {
  return Object.prototype.hasOwnProperty.call(DATASETS, s);
}

/** Streams url to `dest` while hashing; follows redirects. Resolves with the size and hex digest. */
function download(
  url: string,
  dest: string,
  expectedBytes: number,
  opts: FetchOptions,
  redirectsLeft: number,
): Promise<{ bytes: number; sha256: string }> {
  return new Promise((resolveP, rejectP) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      rejectP(new UserError(`bad URL '${url}'`));
      return;
    }
    const mod = u.protocol === 'https:' ? https : u.protocol === 'http:' ? http : undefined;
    if (!mod) {
      rejectP(new UserError(`unsupported URL scheme '${u.protocol}' in ${url}`));
      return;
    }
    const req = mod.get(u, { headers: { 'user-agent': 'calitune-fetch' } }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        if (redirectsLeft <= 0) {
          rejectP(new Error(`download failed: too many redirects (last: ${url})`));
          return;
        }
        const next = new URL(res.headers.location, u).toString();
        download(next, dest, expectedBytes, opts, redirectsLeft - 1).then(resolveP, rejectP);
        return;
      }
      if (status !== 200) {
        res.resume();
        rejectP(new Error(`download failed: HTTP ${status}${res.statusMessage ? ' ' + res.statusMessage : ''} for ${url}`));
        return;
      }
      const declared = Number(res.headers['content-length']);
      if (res.headers['content-length'] !== undefined && Number.isFinite(declared) && declared !== expectedBytes) {
        res.resume();
        rejectP(new Error(`download of ${url} announces ${declared} bytes, expected ${expectedBytes}: refusing it`));
        return;
      }
      const hash = createHash('sha256');
      const out = createWriteStream(dest, { flags: 'wx' });
      let received = 0;
      let failed = false;
      let ended = false;
      const fail = (e: Error): void => {
        if (failed) return;
        failed = true;
        res.destroy();
        out.destroy();
        // Reject only once the file is closed, so the caller's cleanup really removes it.
        if (out.closed) rejectP(e);
        else out.once('close', () => rejectP(e));
      };
      res.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > expectedBytes) {
          fail(new Error(`download failed: ${url} is larger than the expected ${expectedBytes} bytes`));
          return;
        }
        hash.update(chunk);
        if (!out.write(chunk)) {
          res.pause();
          out.once('drain', () => res.resume());
        }
        opts.onProgress?.(received, expectedBytes);
      });
      res.on('error', (e) => fail(new Error(`download failed: ${e.message} (${url})`)));
      res.on('aborted', () => fail(new Error(`download failed: connection closed early (${url})`)));
      out.on('error', (e) => fail(new Error(`cannot write ${dest}: ${e.message}`)));
      res.on('close', () => {
        if (!ended) fail(new Error(`download failed: connection closed early after ${received} bytes (${url})`));
      });
      res.on('end', () => {
        ended = true;
        if (failed) return;
        out.end(() => {
          if (failed) return;
          resolveP({ bytes: received, sha256: hash.digest('hex') });
        });
      });
    });
    req.setTimeout(opts.timeoutMs ?? 30_000, () => {
      req.destroy(new Error(`no data for ${(opts.timeoutMs ?? 30_000) / 1000} s`));
    });
    req.on('error', (e) => rejectP(new Error(`download failed: ${e.message} (${url})`)));
  });
}

/** Entry names must stay inside the destination. */
function safeEntry(name: string): boolean {
  if (name.length === 0 || isAbsolute(name) || name.includes('\\') || /^[a-zA-Z]:/.test(name)) return false;
  return !name.split('/').some((p) => p === '..');
}

/**
 * Extracts a zip archive into `dir` (created). A single top-level folder shared by every entry
 * (ml-100k/…) is stripped, so `dir` holds u.data etc. directly. Returns the relative file paths.
 */
export function extractZip(zipPath: string, dir: string): string[] {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(readFileSync(zipPath));
  } catch (e) {
    throw new Error(`corrupt zip archive ${basename(zipPath)}: ${(e as Error).message}`);
  }
  const names = Object.keys(entries);
  if (names.length === 0) throw new Error(`the zip archive ${basename(zipPath)} is empty`);
  for (const n of names) if (!safeEntry(n)) throw new Error(`unsafe path '${n}' in zip archive ${basename(zipPath)}`);
  const firsts = new Set(names.map((n) => n.split('/')[0]));
  const strip = firsts.size === 1 && names.every((n) => n.includes('/'));
  const files: string[] = [];
  mkdirSync(dir, { recursive: true });
  for (const n of names) {
    const rel = strip ? n.slice(n.indexOf('/') + 1) : n;
    if (rel.length === 0) continue;
    const target = join(dir, rel);
    if (rel.endsWith('/')) {
      mkdirSync(target, { recursive: true });
      continue;
    }
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, entries[n]!);
    files.push(rel);
  }
  return files.sort();
}

let tmpCounter = 0;

/**
 * Downloads, verifies and extracts a dataset into outDir. Throws UserError for bad usage
 * (unknown name, outDir exists) and Error for download, checksum or archive failures; either
 * way only a previously existing outDir remains.
 */
export async function fetchDataset(name: string, outDir: string, opts: FetchOptions = {}): Promise<FetchResult> {
  if (!isDatasetName(name)) {
    throw new UserError(`unknown dataset '${name}' (known: ${Object.keys(DATASETS).join(', ')})`);
  }
  const info = DATASETS[name];
  const dir = resolve(outDir);
  if (existsSync(dir) && !opts.overwrite) {
    const empty = (() => {
      try {
        return readdirSync(dir).length === 0;
      } catch {
        return false;
      }
    })();
    if (!empty) {
      throw new InputError((n) => `${outDir} already exists; remove it or choose another ${n.option('outDir')}`, { field: 'outDir' });
    }
  }
  const parent = dirname(dir);
  mkdirSync(parent, { recursive: true });
  const url = opts.baseUrl !== undefined ? `${opts.baseUrl.replace(/\/+$/, '')}/${name}.zip` : info.url;
  const expectedBytes = opts.expectedBytes ?? info.bytes;
  const expectedSha = (opts.expectedSha256 ?? info.sha256).toLowerCase();
  const tag = `${process.pid}-${Date.now().toString(36)}-${++tmpCounter}`;
  const zipTmp = join(parent, `.${basename(dir)}.download-${tag}.zip`);
  const extractTmp = join(parent, `.${basename(dir)}.extract-${tag}`);
  const oldTmp = join(parent, `.${basename(dir)}.old-${tag}`);
  try {
    const got = await download(url, zipTmp, expectedBytes, opts, opts.maxRedirects ?? 5);
    if (got.bytes !== expectedBytes) {
      throw new Error(`download of ${url} has ${got.bytes} bytes, expected ${expectedBytes}: refusing it`);
    }
    if (got.sha256 !== expectedSha) {
      throw new Error(`checksum mismatch for ${url}: SHA-256 ${got.sha256}, expected ${expectedSha}: refusing it`);
    }
    const files = extractZip(zipTmp, extractTmp);
    if (!files.includes(info.interactions)) {
      throw new Error(`the archive has no ${info.interactions} (found: ${files.slice(0, 10).join(', ')})`);
    }
    rmSync(zipTmp, { force: true });
    if (existsSync(dir)) renameSync(dir, oldTmp);
    try {
      renameSync(extractTmp, dir);
    } catch (e) {
      if (existsSync(oldTmp)) renameSync(oldTmp, dir);
      throw e;
    }
    rmSync(oldTmp, { recursive: true, force: true });
    return { name, url, dir, interactions: join(dir, info.interactions), files, bytes: got.bytes, sha256: got.sha256 };
  } catch (e) {
    rmSync(zipTmp, { force: true });
    rmSync(extractTmp, { recursive: true, force: true });
    throw e;
  }
}
