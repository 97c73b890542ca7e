// Builds the explorer page (web/explorer) into dist/web: type-checks it (web/tsconfig.json, DOM
// types), bundles main.ts with its dependencies (vega-embed) into one ES module with esbuild, and
// copies index.html. `calitune serve` serves the result at / (nothing is fetched from the network).
import { copyFileSync, mkdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { build } from 'esbuild';

const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'web/tsconfig.json'], {
  stdio: 'inherit',
});
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
mkdirSync('dist/web', { recursive: true });
await build({
  entryPoints: ['web/explorer/main.ts'],
  outfile: 'dist/web/explorer.js',
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
});
copyFileSync('web/explorer/index.html', 'dist/web/index.html');
console.log('build:web: dist/web/index.html, dist/web/explorer.js');
