import { randomSplit } from '../../data/split.js';
import { createRun } from '../../experiments/run-dir.js';
import { UserError } from '../../util/errors.js';
import { bool, positiveInt, str } from '../args.js';
import type { Command } from '../command.js';
import { defaultDataset } from '../default-dataset.js';
import { trainCommand } from './train.js';
import { gemmBackend } from '../../math/gemm.js';

export const demoCommand: Command = {
  name: 'demo',
  summary: 'The main job on the built-in default dataset: train BPR and evaluate it',
  usage: 'demo [--run DIR] [--epochs N] [--no-download]',
  options: { run: { type: 'string' }, epochs: { type: 'string' }, 'no-download': { type: 'boolean' } },
  help: `Options:
  --run DIR        run directory (default runs/demo)
  --epochs N       cap the backbone's epochs (default 300, early stopping applies)
  --no-download    do not try GroupLens when MovieLens-100K is not found locally

Dataset: MovieLens-100K from ../shared/data when present, else data/ml-100k, else a
download from GroupLens, else a bundled synthetic ML-100K-like dataset.

Example:
  calitune demo`,
  async run(v, _pos, ctx) {
    const run = str(v, 'run') ?? 'runs/demo';
    const epochs = positiveInt(v, 'epochs');
    const data = await defaultDataset(ctx.warn, { allowDownload: !bool(v, 'no-download') });
    ctx.log(`dataset: ${data.description}`);
    ctx.log(`GEMM: ${gemmBackend().name} (${gemmBackend().detail})`);
    const seed = 920;
    const ds = randomSplit(data.log, seed);
    try {
      createRun(run, ds, data.kind === 'file' ? { kind: 'file', path: data.path!, format: 'auto' } : { kind: 'synthetic' }, seed);
    } catch (e) {
      if (e instanceof UserError) throw new UserError(`${e.message} (or delete ${run})`);
      throw e;
    }
    const trainArgs: Record<string, string | boolean> = { run, model: 'bpr', seed: String(seed) };
    if (epochs !== undefined) trainArgs.epochs = String(epochs);
    const trained = await trainCommand.run(trainArgs, [], ctx);
    ctx.log(`\nrun directory: ${run}`);
    return { dataset: data.description, gemm: gemmBackend().name, ...(trained as object) };
  },
};
