import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync, strToU8 } from 'fflate';
import { fetchDataset } from '../../src/data/fetch.js';
import { readInteractions } from '../../src/data/readers.js';
import { UserError } from '../../src/util/errors.js';

const zip = zipSync({
  'ml-100k/u.data': strToU8('196\t242\t3\t881250949\n186\t302\t3\t891717742\n22\t377\t1\t878887116\n'),
  'ml-100k/README': strToU8('test archive\n'),
});
const sha = createHash('sha256').update(zip).digest('hex');
const corrupt = zip.slice();
corrupt.fill(0x55, 30, corrupt.length - 30);
const corruptSha = createHash('sha256').update(corrupt).digest('hex');
const noData = zipSync({ 'ml-100k/README': strToU8('no u.data here\n') });
const noDataSha = createHash('sha256').update(noData).digest('hex');

let server: http.Server;
let base = '';
const root = mkdtempSync(join(tmpdir(), 'calitune-fetch-'));

test.before(async () => {
  server = http.createServer((req, res) => {
    const url = req.url ?? '';
    if (url === '/ok/ml-100k.zip') {
      res.writeHead(200, { 'content-type': 'application/zip', 'content-length': zip.length });
      res.end(zip);
    } else if (url === '/redirect/ml-100k.zip') {
      res.writeHead(302, { location: '/ok/ml-100k.zip' });
      res.end();
    } else if (url === '/corrupt/ml-100k.zip') {
      res.writeHead(200, { 'content-length': corrupt.length });
      res.end(corrupt);
    } else if (url === '/nodata/ml-100k.zip') {
      res.writeHead(200, { 'content-length': noData.length });
      res.end(noData);
    } else if (url === '/loop/ml-100k.zip') {
      res.writeHead(301, { location: '/loop/ml-100k.zip' });
      res.end();
    } else if (url === '/long/ml-100k.zip') {
      // Announces nothing and sends more than expected.
      res.writeHead(200);
      res.end(Buffer.concat([zip, Buffer.alloc(10)]));
    } else if (url === '/short/ml-100k.zip') {
      // Announces nothing, sends half, then closes.
      res.writeHead(200);
      res.end(zip.subarray(0, zip.length >> 1));
    } else {
      res.writeHead(404);
      res.end('not found');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
test.after(() => {
  server.close();
  rmSync(root, { recursive: true, force: true });
});

/** Options that fetch the test archive from `${base}/${route}` and expect exactly it. */
function served(route: string): { baseUrl: string; expectedSha256: string; expectedBytes: number } {
  return { baseUrl: `${base}/${route}`, expectedSha256: sha, expectedBytes: zip.length };
}

/** The destination's parent holds nothing but what we expect (no temp leftovers). */
function entries(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

test('success: downloads, verifies, extracts into place (top folder stripped), via a redirect', async () => {
  const parent = join(root, 'a');
  const progress: number[] = [];
  const r = await fetchDataset('ml-100k', join(parent, 'ml-100k'), {
    baseUrl: `${base}/redirect/`,
    expectedSha256: sha,
    expectedBytes: zip.length,
    onProgress: (got) => progress.push(got),
  });
  assert.equal(r.sha256, sha);
  assert.equal(r.bytes, zip.length);
  assert.deepEqual(r.files, ['README', 'u.data']);
  assert.deepEqual(entries(parent), ['ml-100k']);
  assert.equal(progress.at(-1), zip.length);
  const log = readInteractions(join(parent, 'ml-100k'));
  assert.equal(log.users.length, 3);
  assert.equal(readFileSync(r.interactions, 'utf8').split('\n')[0], '196\t242\t3\t881250949');
  // A second fetch into the same place refuses, unless asked to overwrite.
  await assert.rejects(
    fetchDataset('ml-100k', join(parent, 'ml-100k'), served('ok')),
    (e: unknown) => e instanceof UserError && /already exists/.test(e.message),
  );
  await fetchDataset('ml-100k', join(parent, 'ml-100k'), { ...served('ok'), overwrite: true });
  assert.deepEqual(entries(parent), ['ml-100k']);
});

test('wrong checksum: clear error, nothing left behind', async () => {
  const parent = join(root, 'b');
  mkdirSync(parent);
  await assert.rejects(
    fetchDataset('ml-100k', join(parent, 'ml-100k'), { ...served('ok'), expectedSha256: '0'.repeat(64) }),
    /checksum mismatch .*SHA-256 [0-9a-f]{64}, expected 0{64}/,
  );
  assert.deepEqual(entries(parent), []);
  // The pinned GroupLens size and checksum reject the test archive too.
  await assert.rejects(
    fetchDataset('ml-100k', join(parent, 'ml-100k'), { baseUrl: `${base}/ok` }),
    /announces \d+ bytes, expected 4924029/,
  );
  assert.deepEqual(entries(parent), []);
});

test('corrupt zip: clear error, nothing left behind', async () => {
  const parent = join(root, 'c');
  mkdirSync(parent);
  await assert.rejects(
    fetchDataset('ml-100k', join(parent, 'ml-100k'), {
      baseUrl: `${base}/corrupt`,
      expectedSha256: corruptSha,
      expectedBytes: corrupt.length,
    }),
    /corrupt zip archive/,
  );
  assert.deepEqual(entries(parent), []);
});

test('HTTP 404, truncated download and unknown names: clear errors, nothing left behind', async () => {
  const parent = join(root, 'd');
  mkdirSync(parent);
  await assert.rejects(fetchDataset('ml-100k', join(parent, 'x'), { baseUrl: `${base}/missing` }), /HTTP 404/);
  assert.deepEqual(entries(parent), []);
  await assert.rejects(
    fetchDataset('ml-100k', join(parent, 'x'), served('short')),
    /has \d+ bytes, expected \d+|closed early/,
  );
  assert.deepEqual(entries(parent), []);
  await assert.rejects(
    fetchDataset('ml-25m', join(parent, 'x')),
    (e: unknown) => e instanceof UserError && /unknown dataset 'ml-25m'/.test(e.message),
  );
  writeFileSync(join(parent, 'keep'), 'x');
  assert.deepEqual(entries(parent), ['keep']);
});

test('redirect loop, oversized body, archive without u.data: clear errors, old data kept', async () => {
  const parent = join(root, 'e');
  mkdirSync(parent);
  await assert.rejects(
    fetchDataset('ml-100k', join(parent, 'x'), { ...served('loop'), maxRedirects: 2 }),
    /^Error: download failed: too many redirects \(last: http:\/\/127\.0\.0\.1:\d+\/loop\/ml-100k\.zip\)$/,
  );
  await assert.rejects(
    fetchDataset('ml-100k', join(parent, 'x'), served('long')),
    /download failed: .*\/long\/ml-100k\.zip is larger than the expected \d+ bytes$/,
  );
  assert.deepEqual(entries(parent), []);
  const dest = join(parent, 'ml-100k');
  mkdirSync(dest);
  writeFileSync(join(dest, 'old'), 'kept');
  await assert.rejects(
    fetchDataset('ml-100k', dest, {
      baseUrl: `${base}/nodata`,
      expectedSha256: noDataSha,
      expectedBytes: noData.length,
      overwrite: true,
    }),
    /^Error: the archive has no u\.data \(found: README\)$/,
  );
  assert.deepEqual(entries(parent), ['ml-100k']);
  assert.deepEqual(entries(dest), ['old']);
});
