/**
 * bench:reference — the PyTorch side of the side-by-side measurement: runs our plain-PyTorch
 * re-implementations of the reference's training loops (bench/reference/bpr_epoch.py: BPR as
 * RecBole trains it; bench/reference/calitune_epoch.py: the reference's CaliTune epoch) with 1
 * and 2 torch threads, on ML-100K (the oracle's split and backbone) and, for BPR, on the
 * 610 × 9,724-item synthetic size of bench:scaling. Their output (per-epoch seconds and
 * `RESULT torch_… <s> s` lines, median then `_min`) goes straight to stdout.
 * Skipped, with a message saying so, when `python3 -c "import torch"` fails. Not run in CI.
 *
 *   node dist/bench/reference.js [--threads 1,2] [--epochs 5] [--warmup 1] [--oracle DIR]
 *                                [--parts bpr,bpr10k,frozen,trainable]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomSplit } from '../src/data/split.js';
import { writeSplitTsv } from '../src/data/split-io.js';
import { generateSynthetic } from '../src/data/synthetic.js';
import { projectRoot } from '../src/math/native.js';
import { DEFAULT_SEED } from '../src/util/seed.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : def;
}

const python = process.env.PYTHON ?? 'python3';
const scripts = join(projectRoot(), 'bench', 'reference');
const shared = process.env.CALITUNE_SHARED ?? join(process.cwd(), '..', 'shared');
const oracle = arg('oracle', join(shared, 'oracle', 'ml-100k-bpr'));
const threads = arg('threads', '1,2').split(',');
const parts = new Set(arg('parts', 'bpr,bpr10k,frozen,trainable').split(','));
const timing = ['--epochs', arg('epochs', '5'), '--warmup', arg('warmup', '1')];

/** The torch version python3 imports, or why it cannot. */
function torchVersion(): { ok: true; version: string } | { ok: false; why: string } {
  const r = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  if (r.status === 0) return { ok: true, version: r.stdout.trim() };
  const why = r.error ? r.error.message : (r.stderr.trim().split('\n').pop() ?? `exit code ${r.status}`);
  return { ok: false, why };
}

/** Runs one script with its arguments, output inherited; false when it failed. */
function runScript(script: string, args: string[]): boolean {
  const r = spawnSync(python, [join(scripts, script), ...args], { cwd: scripts, stdio: 'inherit' });
  if (r.status !== 0) console.error(`bench:reference: ${script} ${args.join(' ')} failed (exit code ${r.status})`);
  return r.status === 0;
}

/** The 10k-item synthetic size of bench:scaling, written as split TSVs; returns its folder and sizes. */
function syntheticTenK(dir: string): { dir: string; nUsers: number; nItems: number } {
  const ds = randomSplit(generateSynthetic({ users: 610, items: 9724, interactions: 100_836, seed: 42 }), DEFAULT_SEED);
  mkdirSync(join(dir, 'splits'), { recursive: true });
  writeSplitTsv(join(dir, 'splits', 'train_split.tsv'), ds.train);
  writeSplitTsv(join(dir, 'splits', 'valid_split.tsv'), ds.valid);
  writeSplitTsv(join(dir, 'splits', 'test_split.tsv'), ds.test);
  return { dir, nUsers: ds.nUsers, nItems: ds.nItems };
}

const torch = torchVersion();
if (!torch.ok) {
  console.log(`bench:reference: SKIPPED — ${python} cannot import torch (${torch.why}).`);
  console.log('Install PyTorch for python3 (Debian: apt-get install python3-torch) to run the PyTorch reference.');
  process.exit(0);
}
console.log(`bench:reference: torch ${torch.version}; scripts in ${scripts}; oracle ${oracle}`);
console.log(
  `load average: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')} on ${cpus().length} cores`,
);
let ok = true;
const tmp = mkdtempSync(join(tmpdir(), 'calitune-bench-ref-'));
try {
  const tenK = parts.has('bpr10k') ? syntheticTenK(tmp) : undefined;
  for (const t of threads) {
    const th = ['--threads', t];
    if (parts.has('bpr'))
      ok = runScript('bpr_epoch.py', ['--data', oracle, '--label', 'ml-100k', ...th, ...timing]) && ok;
    if (tenK) {
      const size = ['--n-users', String(tenK.nUsers), '--n-items', String(tenK.nItems)];
      ok = runScript('bpr_epoch.py', ['--data', tenK.dir, '--label', '10k-item', ...size, ...th, ...timing]) && ok;
    }
    if (parts.has('frozen')) ok = runScript('calitune_epoch.py', ['--oracle', oracle, ...th, ...timing]) && ok;
    if (parts.has('trainable'))
      ok = runScript('calitune_epoch.py', ['--oracle', oracle, '--trainable', ...th, ...timing]) && ok;
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
process.exit(ok ? 0 : 1);
