/**
 * An HTTP(S) download to a new file, hashed on the way, with redirects, a size limit and an
 * inactivity timeout. It rejects only once the file is closed, so the caller's cleanup removes it.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import http from 'node:http';
import https from 'node:https';
import { UserError } from '../util/errors.js';

/** What a download needs beside its URL and destination. */
export interface DownloadOptions {
  /** The exact size expected: a larger body or a different announced size is refused. */
  expectedBytes: number;
  /** Called as bytes arrive; total is expectedBytes. */
  onProgress?: (received: number, total: number) => void;
  /** Per-request inactivity timeout in ms (default 30 000). */
  timeoutMs?: number;
  /** Redirects still allowed. */
  redirectsLeft: number;
}

/** The size and the SHA-256 (lower-case hex) of what was downloaded. */
export interface Downloaded {
  /** Bytes received. */
  bytes: number;
  /** Lower-case hex digest. */
  sha256: string;
}

/**
 * Streams `url` into the new file `dest` (which must not exist) while hashing; follows redirects.
 * Rejects with UserError for a bad URL or scheme and with Error for network, HTTP and size failures.
 */
export function download(url: string, dest: string, opts: DownloadOptions): Promise<Downloaded> {
  return new Promise((resolveP, rejectP) => {
    const target = requestTarget(url);
    if (target instanceof UserError) {
      rejectP(target);
      return;
    }
    const req = target.client.get(target.url, { headers: { 'user-agent': 'calitune-fetch' } }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        if (opts.redirectsLeft <= 0) {
          rejectP(new Error(`download failed: too many redirects (last: ${url})`));
          return;
        }
        const next = new URL(res.headers.location, target.url).toString();
        download(next, dest, { ...opts, redirectsLeft: opts.redirectsLeft - 1 }).then(resolveP, rejectP);
        return;
      }
      const refusal = refusedResponse(res, url, opts.expectedBytes);
      if (refusal !== null) {
        res.resume();
        rejectP(refusal);
        return;
      }
      saveBody(res, url, dest, opts, resolveP, rejectP);
    });
    req.setTimeout(opts.timeoutMs ?? 30_000, () => {
      req.destroy(new Error(`no data for ${(opts.timeoutMs ?? 30_000) / 1000} s`));
    });
    req.on('error', (e) => rejectP(new Error(`download failed: ${e.message} (${url})`)));
  });
}

/** The parsed URL and the client for its scheme, or the UserError that refuses it. */
function requestTarget(url: string): { url: URL; client: typeof http | typeof https } | UserError {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return new UserError(`bad URL '${url}'`);
  }
  const client = u.protocol === 'https:' ? https : u.protocol === 'http:' ? http : undefined;
  if (!client) return new UserError(`unsupported URL scheme '${u.protocol}' in ${url}`);
  return { url: u, client };
}

/** Why a non-redirect response is refused before its body is read (not 200, wrong announced size), or null. */
function refusedResponse(res: IncomingMessage, url: string, expectedBytes: number): Error | null {
  const status = res.statusCode ?? 0;
  if (status !== 200) {
    const reason = res.statusMessage ? ` ${res.statusMessage}` : '';
    return new Error(`download failed: HTTP ${status}${reason} for ${url}`);
  }
  const declared = Number(res.headers['content-length']);
  if (res.headers['content-length'] !== undefined && Number.isFinite(declared) && declared !== expectedBytes) {
    return new Error(`download of ${url} announces ${declared} bytes, expected ${expectedBytes}: refusing it`);
  }
  return null;
}

/** Writes the body of `res` to `dest` while hashing; settles through resolveP / rejectP exactly once. */
function saveBody(
  res: IncomingMessage,
  url: string,
  dest: string,
  opts: DownloadOptions,
  resolveP: (d: Downloaded) => void,
  rejectP: (e: Error) => void,
): void {
  const expectedBytes = opts.expectedBytes;
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
}
