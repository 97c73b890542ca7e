/**
 * bench:scale's read+split stage as its own process (the CLI has no command that only reads and
 * splits): reads the interaction file, splits it 80/10/10 with the default seed and writes the
 * split files as `train` does when it creates a run, so the stage's peak RSS is that of reading
 * and splitting alone.
 *
 *   node dist/bench/scale-read-split.js DATA OUT_DIR
 * Prints one line: users, items and rows of each part.
 */
import { mkdirSync } from 'node:fs';
import { readInteractionFile } from '../src/data/readers.js';
import { randomSplit } from '../src/data/split.js';
import { writeSplitDir } from '../src/data/split-io.js';
import { DEFAULT_SEED } from '../src/util/seed.js';

const [data, out] = process.argv.slice(2);
if (data === undefined || out === undefined) {
  console.error('usage: node dist/bench/scale-read-split.js DATA OUT_DIR');
  process.exit(2);
}
const { log } = readInteractionFile(data);
const ds = randomSplit(log, DEFAULT_SEED);
mkdirSync(out, { recursive: true });
writeSplitDir(out, ds);
const nnz = (p: 'train' | 'valid' | 'test') => ds[p].indptr[ds[p].nRows]!;
console.log(
  `${ds.nUsers - 1} users × ${ds.nItems - 1} items; train ${nnz('train')}, valid ${nnz('valid')}, test ${nnz('test')}`,
);
