import { DATA_SYNTH_FORMATS, DATA_SYNTH_PRESETS, dataSynth, type DataSynthPreset } from '../../pipeline/data-synth.js';
import { choice, int, requireStr } from '../args.js';
import { UserError } from '../../util/errors.js';
import type { Command } from '../command.js';
import { DEFAULT_SEED } from '../../util/seed.js';

/** `calitune data synth`: a seeded synthetic log of MovieLens size, written as a file `train` reads. */
export const dataSynthCommand: Command = {
  name: 'data synth',
  summary: 'Write a seeded synthetic log (Zipf item popularity) of MovieLens size as an .inter or CSV file',
  usage: 'data synth --preset ml-100k|ml-1m|ml-20m --out FILE [--seed N] [--format inter|csv]',
  options: {
    preset: { type: 'string' },
    out: { type: 'string' },
    seed: { type: 'string' },
    format: { type: 'string' },
  },
  help: `Options:
  --preset NAME    sizes: ${Object.entries(DATA_SYNTH_PRESETS)
    .map(([k, s]) => `${k} (${s.users} users × ${s.items} items, ${s.interactions} rows)`)
    .join(',\n                   ')}
  --out FILE       the file to write (replaced atomically)
  --seed N         seed of the generator (default ${DEFAULT_SEED}); the same seed gives the same bytes
  --format F       inter (RecBole atomic file, default) | csv (user_id,item_id)

Example:
  calitune data synth --preset ml-1m --out data/synth-ml-1m.inter
  calitune train --data data/synth-ml-1m.inter --run runs/synth-ml-1m`,
  async run(v, _pos, ctx) {
    const presets = Object.keys(DATA_SYNTH_PRESETS) as DataSynthPreset[];
    const preset = choice(v, 'preset', presets);
    if (preset === undefined) throw new UserError(`--preset is required (one of ${presets.join(', ')})`);
    const r = await dataSynth(
      {
        preset,
        out: requireStr(v, 'out'),
        seed: int(v, 'seed'),
        format: choice(v, 'format', DATA_SYNTH_FORMATS),
      },
      ctx,
    );
    ctx.info(`${r.users} users, ${r.items} items, ${r.interactions} rows (${r.format})`);
    return r;
  },
};
