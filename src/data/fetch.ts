/**
 * `calitune fetch`: downloads a GroupLens archive, verifies its pinned size and SHA-256,
 * extracts it next to the destination and renames it into place. On any failure nothing is left
 * behind: no temp file, no partial destination folder.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { InputError, UserError } from '../util/errors.js';
import { type Downloaded, download } from './download.js';
import { extractZip } from './zip-extract.js';

export { extractZip } from './zip-extract.js';

/** The datasets `fetchDataset` knows. */
export type DatasetName = 'ml-100k' | 'ml-1m';

/** Where a dataset's archive is and what it must be. */
export interface DatasetInfo {
  /** The archive's default location. */
  url: string;
  /** Pinned archive size in bytes. */
  bytes: number;
  /** Pinned archive SHA-256, lower-case hex. */
  sha256: string;
  /** The interaction file inside the extracted folder. */
  interactions: string;
}

/** The GroupLens folder the archives are fetched from by default. */
export const DEFAULT_BASE_URL = 'https://files.grouplens.org/datasets/movielens';

/** The known datasets; sizes and checksums pinned as by TensorFlow Datasets. */
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

/** How fetchDataset downloads and where it may write; every field is optional. */
export interface FetchOptions {
  /** Replaces the GroupLens base URL; the archive is fetched from `${baseUrl}/${name}.zip`. */
  baseUrl?: string;
  /** Called as bytes arrive; total is the expected size. */
  onProgress?: (received: number, total: number) => void;
  /** Overrides the pinned checksum (tests serve their own archive). */
  expectedSha256?: string;
  /** Overrides the pinned size (tests serve their own archive). */
  expectedBytes?: number;
  /** Replace an existing destination folder (default: refuse). */
  overwrite?: boolean;
  /** Per-request inactivity timeout in ms (default 30 000). */
  timeoutMs?: number;
  /** Maximum number of redirects followed (default 5). */
  maxRedirects?: number;
}

/** A fetched dataset: where it came from, where it is, and what was verified. */
export interface FetchResult {
  name: DatasetName;
  /** Where the archive was fetched from. */
  url: string;
  /** The absolute destination folder. */
  dir: string;
  /** Path of the interaction file (u.data, ratings.dat). */
  interactions: string;
  /** The extracted files, relative to dir, sorted. */
  files: string[];
  /** Size of the downloaded archive. */
  bytes: number;
  /** SHA-256 of the downloaded archive, lower-case hex. */
  sha256: string;
}

/** Whether `s` names a known dataset. */
export function isDatasetName(s: string): s is DatasetName {
  return Object.hasOwn(DATASETS, s);
}

let tmpCounter = 0;

/** The temp paths of one fetch, beside the destination so that renames stay on one file system. */
interface TempPaths {
  zip: string;
  extract: string;
  /** Where an overwritten destination waits until the new one is in place. */
  old: string;
}

function tempPaths(dir: string): TempPaths {
  const parent = dirname(dir);
  const tag = `${process.pid}-${Date.now().toString(36)}-${++tmpCounter}`;
  return {
    zip: join(parent, `.${basename(dir)}.download-${tag}.zip`),
    extract: join(parent, `.${basename(dir)}.extract-${tag}`),
    old: join(parent, `.${basename(dir)}.old-${tag}`),
  };
}

/** Refuses an existing, non-empty destination unless overwriting (an unreadable one counts as non-empty). */
function checkDestination(dir: string, outDir: string, overwrite: boolean): void {
  if (!existsSync(dir) || overwrite) return;
  let empty: boolean;
  try {
    empty = readdirSync(dir).length === 0;
  } catch {
    empty = false;
  }
  if (!empty) {
    throw new InputError((n) => `${outDir} already exists; remove it or choose another ${n.option('outDir')}`, {
      field: 'outDir',
    });
  }
}

/** Throws unless the download has the expected size and checksum. */
function verifyDownload(got: Downloaded, url: string, expectedBytes: number, expectedSha: string): void {
  if (got.bytes !== expectedBytes) {
    throw new Error(`download of ${url} has ${got.bytes} bytes, expected ${expectedBytes}: refusing it`);
  }
  if (got.sha256 !== expectedSha) {
    throw new Error(`checksum mismatch for ${url}: SHA-256 ${got.sha256}, expected ${expectedSha}: refusing it`);
  }
}

/** Renames the extracted folder to `dir`, replacing an existing one only once the rename succeeded. */
function moveIntoPlace(tmp: TempPaths, dir: string): void {
  if (existsSync(dir)) renameSync(dir, tmp.old);
  try {
    renameSync(tmp.extract, dir);
  } catch (e) {
    if (existsSync(tmp.old)) renameSync(tmp.old, dir);
    throw e;
  }
  rmSync(tmp.old, { recursive: true, force: true });
}

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
  checkDestination(dir, outDir, Boolean(opts.overwrite));
  mkdirSync(dirname(dir), { recursive: true });
  const url = opts.baseUrl !== undefined ? `${opts.baseUrl.replace(/\/+$/, '')}/${name}.zip` : info.url;
  const expectedBytes = opts.expectedBytes ?? info.bytes;
  const expectedSha = (opts.expectedSha256 ?? info.sha256).toLowerCase();
  const tmp = tempPaths(dir);
  try {
    const got = await download(url, tmp.zip, {
      expectedBytes,
      onProgress: opts.onProgress,
      timeoutMs: opts.timeoutMs,
      redirectsLeft: opts.maxRedirects ?? 5,
    });
    verifyDownload(got, url, expectedBytes, expectedSha);
    const files = extractZip(tmp.zip, tmp.extract);
    if (!files.includes(info.interactions)) {
      throw new Error(`the archive has no ${info.interactions} (found: ${files.slice(0, 10).join(', ')})`);
    }
    rmSync(tmp.zip, { force: true });
    moveIntoPlace(tmp, dir);
    return { name, url, dir, interactions: join(dir, info.interactions), files, bytes: got.bytes, sha256: got.sha256 };
  } catch (e) {
    rmSync(tmp.zip, { force: true });
    rmSync(tmp.extract, { recursive: true, force: true });
    throw e;
  }
}
