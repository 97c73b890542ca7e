/** Download a MovieLens dataset from GroupLens, verify its pinned size and SHA-256, extract it atomically. */
import { z } from 'zod';
import { fetchDataset as download, type FetchResult } from '../data/fetch.js';
import { parseOptions } from './options.js';
import { silentReporter, type ProgressHandle, type Reporter } from './reporter.js';

/** Options of {@link fetchDataset}: dataset name, destination folder, mirror URL and overwrite. */
export const fetchDatasetOptionsSchema = z
  .object({
    /** ml-100k or ml-1m. */
    name: z.string().min(1),
    /** Destination folder (must not exist, unless `overwrite`). */
    outDir: z.string().min(1),
    /** Fetch NAME.zip from this base URL instead of GroupLens (mirrors, tests). */
    baseUrl: z.string().min(1).optional(),
    /** Replace an existing destination folder. */
    overwrite: z.boolean().default(false),
  })
  .strict();

/** What {@link fetchDataset} takes: `name` (ml-100k or ml-1m) and `outDir`, optionally `baseUrl`, `overwrite`. */
export type FetchDatasetOptions = z.input<typeof fetchDatasetOptionsSchema>;
/** Where the fetched dataset went: its folder, its interaction file and files, with the archive's size and SHA-256. */
export type FetchDatasetResult = FetchResult;

/** Downloads a MovieLens dataset, checks its pinned SHA-256 and unpacks it, reporting download progress. */
export async function fetchDataset(
  options: FetchDatasetOptions,
  reporter: Reporter = silentReporter,
): Promise<FetchDatasetResult> {
  const o = parseOptions(fetchDatasetOptionsSchema, options);
  let progress: ProgressHandle | undefined;
  const r = await download(o.name, o.outDir, {
    ...(o.baseUrl !== undefined ? { baseUrl: o.baseUrl } : {}),
    overwrite: o.overwrite,
    onProgress: (got, total) => {
      progress ??= reporter.progress(`fetch ${o.name}`, Math.max(1, Math.round(total / 1024)));
      progress.update(Math.round(got / 1024), 'KiB');
    },
  });
  progress?.done();
  return r;
}
