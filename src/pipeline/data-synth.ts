/**
 * The synthetic generator (src/data/synthetic.ts: Zipf item popularity, seeded) as a use-case:
 * a log of MovieLens size written as a RecBole `.inter` file (or a CSV) that `train` and
 * `data stats` read. The rows are streamed to a temp file in blocks and renamed into place, so
 * the text of a 17M-row file is never held in memory at once.
 */
import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { generateSynthetic, type SyntheticOptions } from '../data/synthetic.js';
import type { InteractionLog } from '../data/types.js';
import { writeFileAtomicStreamed } from '../util/atomic-stream.js';
import { InputError } from '../util/errors.js';
import { DEFAULT_SEED } from '../util/seed.js';
import { parseOptions } from './options.js';
import { silentReporter, type Reporter } from './reporter.js';

/** The sizes of each preset, shaped like the MovieLens dataset of the same name. */
export const DATA_SYNTH_PRESETS = {
  'ml-100k': { users: 943, items: 1682, interactions: 100_000 },
  'ml-1m': { users: 6040, items: 3706, interactions: 1_000_209 },
  'ml-20m': { users: 138_000, items: 27_000, interactions: 17_200_000 },
} as const satisfies Record<string, SyntheticOptions>;

/** The name of a {@link DATA_SYNTH_PRESETS} entry. */
export type DataSynthPreset = keyof typeof DATA_SYNTH_PRESETS;

/** The file formats {@link dataSynth} writes. */
export const DATA_SYNTH_FORMATS = ['inter', 'csv'] as const;

/** Options of {@link dataSynth}. */
export const dataSynthOptionsSchema = z
  .object({
    /** Which sizes to generate (users × items, rows). */
    preset: z.enum(['ml-100k', 'ml-1m', 'ml-20m'] as const satisfies readonly DataSynthPreset[]),
    /** The file to write (replaced atomically when it exists). */
    out: z.string().min(1),
    /** Seed of the generator: the same seed gives the same bytes. */
    seed: z.number().int().default(DEFAULT_SEED),
    /** `inter`: RecBole atomic file (tab, `user_id:token\titem_id:token` header); `csv`: `user_id,item_id`. */
    format: z.enum(DATA_SYNTH_FORMATS).default('inter'),
  })
  .strict();

/** What {@link dataSynth} takes. */
export type DataSynthOptions = z.input<typeof dataSynthOptionsSchema>;

/** What {@link dataSynth} wrote. */
export interface DataSynthResult {
  /** The file written. */
  out: string;
  /** Its format. */
  format: (typeof DATA_SYNTH_FORMATS)[number];
  /** Users, items and rows of the generated log. */
  users: number;
  /** See users. */
  items: number;
  /** See users. */
  interactions: number;
  /** The file's size in bytes. */
  bytes: number;
}

/** Rows per block written to the file: bounds the text held at once. */
const ROWS_PER_BLOCK = 65_536;

/**
 * Generates the preset's synthetic log with `seed` and writes it to `out` (atomically: temp
 * file in the same folder, fsync, rename). Bad options → InputError naming the field; a failed
 * write → WriteError naming `out`.
 */
export async function dataSynth(
  options: DataSynthOptions,
  reporter: Reporter = silentReporter,
): Promise<DataSynthResult> {
  const o = parseOptions(dataSynthOptionsSchema, options);
  checkOut(o.out);
  const sizes = DATA_SYNTH_PRESETS[o.preset];
  reporter.info(
    `data synth: generating ${o.preset} (${sizes.users} users × ${sizes.items} items, ` +
      `${sizes.interactions} rows, seed ${o.seed})`,
  );
  const log = generateSynthetic({ ...sizes, seed: o.seed });
  const bytes = writeLogStreamed(o.out, log, o.format, reporter);
  reporter.info(`data synth: wrote ${o.out} (${bytes} bytes)`);
  return {
    out: o.out,
    format: o.format,
    users: log.userMap.tokens.length - 1,
    items: log.itemMap.tokens.length - 1,
    interactions: log.users.length,
    bytes,
  };
}

/** `out` must not be a folder, and its folder must not be a file. */
function checkOut(out: string): void {
  const kind = (p: string) => {
    try {
      return statSync(p).isDirectory() ? 'folder' : 'file';
    } catch {
      return 'none';
    }
  };
  if (kind(out) === 'folder') {
    throw new InputError((n) => `${n.option('out')} is a folder, not a file: ${out}`, { field: 'out' });
  }
  if (kind(dirname(out)) === 'file') {
    throw new InputError((n) => `${n.option('out')} lies inside a file, not a folder: ${out}`, { field: 'out' });
  }
}

/** Writes the log block by block to a temp file beside `path`, then renames it; returns the byte count. */
function writeLogStreamed(
  path: string,
  log: InteractionLog,
  format: (typeof DATA_SYNTH_FORMATS)[number],
  reporter: Reporter,
): number {
  const sep = format === 'inter' ? '\t' : ',';
  const header = format === 'inter' ? 'user_id:token\titem_id:token\n' : 'user_id,item_id\n';
  const n = log.users.length;
  const progress = reporter.progress('data synth: writing rows', n);
  function* parts(): Generator<Uint8Array> {
    yield Buffer.from(header, 'utf8');
    for (let s = 0; s < n; s += ROWS_PER_BLOCK) {
      const e = Math.min(n, s + ROWS_PER_BLOCK);
      yield Buffer.from(rowsText(log, s, e, sep), 'utf8');
      progress.update(e);
    }
  }
  const bytes = writeFileAtomicStreamed(path, parts());
  progress.done();
  return bytes;
}

/** Rows [s, e) of the log as text, one `user<sep>item` line each. */
function rowsText(log: InteractionLog, s: number, e: number, sep: string): string {
  const ut = log.userMap.tokens;
  const it = log.itemMap.tokens;
  let chunk = '';
  for (let k = s; k < e; k++) chunk += `${ut[log.users[k]!]}${sep}${it[log.items[k]!]}\n`;
  return chunk;
}
