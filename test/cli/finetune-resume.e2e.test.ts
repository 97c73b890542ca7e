/**
 * Kill -9 during `calitune finetune`, then `--resume`: the resumed run
 * finishes, no log line or checkpoint is lost or duplicated, and everything but timings equals
 * an uninterrupted run with the same seed (the resume state holds weights, optimizer moments,
 * LR schedule, RNG state and candidates). Runs on the oracle's ML-100K backbone, unfrozen item
 * embeddings (both tensors in the resume state), 14 epochs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, runCli } from './run-cli.js';
import { ORACLE_DIR, requireShared } from '../helpers/shared.js';

const CONFIG = join(process.cwd(), 'examples', 'ml-100k-finetune.yaml');
const EPOCHS = 14;
const SETS = [
  '--set',
  `num_epochs=${EPOCHS}`,
  '--set',
  'freeze_item_emb=false',
  '--set',
  'combined_mode_alpha=0.5',
  '--keep',
  'all',
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function logLines(dir: string): string[] {
  const p = join(dir, 'log.jsonl');
  return existsSync(p)
    ? readFileSync(p, 'utf8')
        .split('\n')
        .filter((l) => l.length > 0)
    : [];
}

/** A log record without its timings (they differ between runs). */
function strip(line: string): Record<string, unknown> {
  const r = JSON.parse(line) as Record<string, unknown>;
  delete r.train_s;
  delete r.regen_s;
  delete r.valid_s;
  return r;
}

function checkpointFiles(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const root = join(dir, 'checkpoints');
  for (const e of readdirSync(root).sort()) {
    if (!e.startsWith('epoch_')) continue;
    for (const f of readdirSync(join(root, e)).sort()) out.set(`${e}/${f}`, readFileSync(join(root, e, f)));
  }
  return out;
}

test('kill -9 mid fine-tuning, then --resume: same log, checkpoints and summary as an uninterrupted run', async (t) => {
  if (!requireShared(t, ORACLE_DIR)) return;
  const tmp = mkdtempSync(join(tmpdir(), 'calitune-resume-'));
  try {
    const run = join(tmp, 'oracle');
    assert.equal(runCli(['import', '--from', ORACLE_DIR, '--run', run]).status, 0);
    assert.equal(runCli(['prepare', '--run', run, '--popularity-source', 'all']).status, 0);

    // Uninterrupted reference run.
    const ref = runCli(['finetune', '--run', run, '--config', CONFIG, '--name', 'ref', '--json', ...SETS]);
    assert.equal(ref.status, 0, ref.stderr);
    const refDir = join(run, 'experiments', 'ref');

    // Interrupted run: SIGKILL once a few epochs are logged.
    const dir = join(run, 'experiments', 'killed');
    const child = spawn(
      process.execPath,
      [CLI, 'finetune', '--run', run, '--config', CONFIG, '--name', 'killed', ...SETS],
      {
        env: { ...process.env, CALITUNE_QUIET: '1' },
        stdio: 'ignore',
      },
    );
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
      child.on('exit', (code, signal) => res({ code, signal })),
    );
    let killedAt = -1;
    for (let i = 0; i < 3000; i++) {
      const n = logLines(dir).length;
      if (n >= 5) {
        child.kill('SIGKILL');
        killedAt = n - 1;
        break;
      }
      await sleep(5);
    }
    const ex = await exited;
    assert.equal(ex.signal, 'SIGKILL', `the child was not killed mid-run (exit ${ex.code})`);
    assert.ok(killedAt >= 4 && killedAt < EPOCHS, `killed after epoch ${killedAt}`);
    assert.ok(!existsSync(join(dir, 'summary.json')), 'a killed run has no summary');
    const before = logLines(dir).length;
    console.log(`killed after ${before - 1} logged epochs (of ${EPOCHS})`);

    const res = runCli([
      'finetune',
      '--run',
      run,
      '--config',
      CONFIG,
      '--name',
      'killed',
      '--resume',
      '--json',
      ...SETS,
    ]);
    assert.equal(res.status, 0, res.stderr);

    // Log: epochs 0..EPOCHS once each, equal to the reference's line by line (timings aside).
    const a = logLines(refDir),
      b = logLines(dir);
    assert.deepEqual(
      b.map((l) => JSON.parse(l).epoch),
      Array.from({ length: EPOCHS + 1 }, (_, i) => i),
    );
    assert.deepEqual(b.map(strip), a.map(strip));
    // Checkpoints: the same epochs, byte-identical weights, lists and metrics.
    const ca = checkpointFiles(refDir),
      cb = checkpointFiles(dir);
    assert.ok(ca.size > 0, 'the reference run saved checkpoints (else there is nothing to compare)');
    assert.deepEqual([...cb.keys()], [...ca.keys()]);
    for (const [k, buf] of ca) assert.ok(buf.equals(cb.get(k)!), `${k} differs`);
    assert.deepEqual(
      JSON.parse(readFileSync(join(dir, 'checkpoints', 'checkpoints.json'), 'utf8')),
      JSON.parse(readFileSync(join(refDir, 'checkpoints', 'checkpoints.json'), 'utf8')),
    );
    // Summary and final metrics.
    const sa = JSON.parse(ref.stdout),
      sb = JSON.parse(res.stdout);
    for (const k of [
      'epochsRun',
      'stopReason',
      'initial',
      'final',
      'selected',
      'checkpointEpochs',
      'trainableTensors',
    ]) {
      assert.deepEqual(sb[k], sa[k], k);
    }
    // No stray temp files from the kill (atomic writes leave .tmp files only if killed mid-write;
    // those never replace the real file, and the resumed run's own files are complete).
    assert.ok(readFileSync(join(dir, 'resume.safetensors')).equals(readFileSync(join(refDir, 'resume.safetensors'))));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
