// Builds the OpenBLAS binding with npm's bundled node-gyp. A failed build is not an error:
// the project then runs on the TypeScript GEMM fallback, and `calitune doctor` says so.
// Set CALITUNE_REQUIRE_NATIVE=1 (CI does) to make a failed build fail the command.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(root, 'native');
const out = join(nativeDir, 'build', 'Release', 'calitune_blas.node');
const hasHeader = [
  '/usr/include/cblas.h',
  '/usr/include/x86_64-linux-gnu/cblas.h',
  '/usr/include/openblas/cblas.h',
  '/usr/include/aarch64-linux-gnu/cblas.h',
].some((p) => existsSync(p));
const required = process.env.CALITUNE_REQUIRE_NATIVE === '1';

if (!hasHeader) {
  const msg = 'build:native: cblas.h not found (install libopenblas-dev); using the TypeScript GEMM fallback';
  console.warn(msg);
  process.exit(required ? 1 : 0);
}
// Prefer the node-gyp that npm puts on PATH for scripts; else npm's bundled copy.
const npmGyp = process.env.npm_config_node_gyp;
const cmd = npmGyp ? process.execPath : 'node-gyp';
const args = npmGyp ? [npmGyp, 'rebuild'] : ['rebuild'];
const r = spawnSync(cmd, args, { cwd: nativeDir, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
if (r.status !== 0 || !existsSync(out)) {
  console.warn(
    `build:native: node-gyp failed; using the TypeScript GEMM fallback\n${r.stdout ?? ''}${r.stderr ?? r.error ?? ''}`,
  );
  process.exit(required ? 1 : 0);
}
console.log(`build:native: built ${out}`);
