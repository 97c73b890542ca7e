/**
 * The built-in default dataset, in order of preference: MovieLens-100K from ../shared (beside
 * the project), a previously fetched copy in data/ml-100k, a fresh download from GroupLens,
 * and finally a bundled synthetic ML-100K-like dataset generated on the spot.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { projectRoot } from '../math/native.js';
import { fetchDataset } from '../data/fetch.js';
import { generateSynthetic, SYNTHETIC_PRESETS } from '../data/synthetic.js';
import { readInteractions } from '../data/readers.js';
import type { InteractionLog } from '../data/types.js';
import { DEFAULT_SEED } from '../util/seed.js';

/** The demo's dataset: the interaction log, whether it came from a file or the generator, and where from. */
export interface DefaultDataset {
  log: InteractionLog;
  kind: 'file' | 'synthetic';
  description: string;
  path?: string;
}

/**
 * The demo's dataset: MovieLens-100K when found or downloadable, else the synthetic ML-100K-like log;
 * `warn` gets a line for each fallback taken.
 */
export async function defaultDataset(
  warn: (s: string) => void,
  opts: { allowDownload?: boolean } = {},
): Promise<DefaultDataset> {
  const root = projectRoot();
  const candidates = [
    process.env.CALITUNE_DATA,
    join(root, '..', 'shared', 'data', 'ml-100k', 'ml-100k.inter'),
    join(root, 'data', 'ml-100k'),
  ].filter((p): p is string => typeof p === 'string' && p.length > 0);
  for (const p of candidates) {
    if (existsSync(p)) {
      const path = resolve(p);
      return { log: readInteractions(path), kind: 'file', description: `MovieLens-100K (${path})`, path };
    }
  }
  if (opts.allowDownload ?? true) {
    const dir = join(root, 'data', 'ml-100k');
    try {
      warn('demo: MovieLens-100K not found locally; downloading it from GroupLens…');
      const r = await fetchDataset('ml-100k', dir, { timeoutMs: 15000 });
      return {
        log: readInteractions(r.interactions),
        kind: 'file',
        description: `MovieLens-100K (downloaded to ${dir})`,
        path: r.interactions,
      };
    } catch (e) {
      warn(`demo: download failed (${(e as Error).message}); using the synthetic ML-100K-like dataset instead`);
    }
  }
  const log = generateSynthetic({ ...SYNTHETIC_PRESETS['ml-100k-like'], seed: DEFAULT_SEED });
  return {
    log,
    kind: 'synthetic',
    description: `synthetic ML-100K-like data (943 users × 1,682 items, seed ${DEFAULT_SEED})`,
  };
}
