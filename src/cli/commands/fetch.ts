import { DATASETS } from '../../data/fetch.js';
import { fetchDataset } from '../../pipeline/fetch-dataset.js';
import { UserError } from '../../util/errors.js';
import { bool, requireStr, str } from '../args.js';
import type { Command } from '../command.js';

/** `calitune fetch`: downloads and verifies a MovieLens dataset. */
export const fetchCommand: Command = {
  name: 'fetch',
  summary: 'Download a MovieLens dataset from GroupLens, verify its pinned SHA-256, extract atomically',
  usage: 'fetch ml-100k|ml-1m --out DIR [--base-url URL] [--force]',
  positionals: true,
  options: { out: { type: 'string' }, 'base-url': { type: 'string' }, force: { type: 'boolean' } },
  optionFlags: { outDir: 'out', overwrite: 'force' },
  help: `Arguments:
  NAME             ${Object.keys(DATASETS).join(' | ')}
Options:
  --out DIR        destination folder (must not exist, unless --force)
  --base-url URL   fetch NAME.zip from this base URL instead of GroupLens (mirrors, tests)
  --force          replace an existing destination folder

The archive's size and SHA-256 are checked against pinned values before anything is
extracted; on any failure nothing is left behind.

Example:
  calitune fetch ml-100k --out data/ml-100k`,
  async run(v, pos, ctx) {
    if (pos.length !== 1) throw new UserError(`give exactly one dataset name (${Object.keys(DATASETS).join(', ')})`);
    const name = pos[0]!;
    const r = await fetchDataset(
      { name, outDir: requireStr(v, 'out'), baseUrl: str(v, 'base-url'), overwrite: bool(v, 'force') },
      ctx,
    );
    ctx.info(`${name}: ${r.bytes} bytes, sha256 ${r.sha256} verified`);
    ctx.info(`extracted ${r.files.length} files into ${r.dir}; interactions: ${r.interactions}`);
    return r;
  },
};
