/**
 * bench:evaluate — `calitune evaluate --experiment` over 300 stored epochs on ML-100K
 * (the oracle's BPR run): base lists recomputed from the model, 9 CP λ, 300 fine-tuning
 * epochs (test lists scored, valid lists read for the validation selection, which is
 * recomputed from the lists because no epoch log is given — the slower path), RBO, the
 * results JSON and the per-user TSV (943 × 310 rows).
 *
 * The 300 epochs are synthetic when RUN/experiments/NAME does not exist: epoch e mixes, per
 * user, the base list and a CP list (λ growing with e), so metrics move like a fine-tuning.
 * Setup (import, prepare, postprocess, writing the epochs) is not timed.
 *
 *   node dist/bench/evaluate.js [--reps N] [--epochs N] [--run DIR] [--oracle DIR]
 * Last line: `RESULT evaluate_300_epochs <s> s` (median over reps; target ≤ 3 s).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCaptured } from '../src/cli/run-captured.js';
import { readNpyMatrixI32, writeNpy } from '../src/data/npy.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : def;
}

const shared = process.env.CALITUNE_SHARED ?? join(process.cwd(), '..', 'shared');
const oracle = arg('oracle', join(shared, 'oracle', 'ml-100k-bpr'));
const reps = Math.max(1, Number(arg('reps', '3')));
const nEpochs = Math.max(1, Number(arg('epochs', '300')));
const given = arg('run', '');
const name = 'bench300';
process.env.CALITUNE_QUIET = '1';

const quiet = runCaptured;

async function must(args: string[]): Promise<string> {
  const r = await quiet(args);
  if (r.code !== 0) throw new Error(`calitune ${args.join(' ')} failed (${r.code}): ${r.err}`);
  return r.out;
}

const tmp = given ? '' : mkdtempSync(join(tmpdir(), 'calitune-bench-eval-'));
const R = given || join(tmp, 'run');
try {
  const tSetup = performance.now();
  if (!given) {
    if (!existsSync(oracle)) throw new Error(`oracle folder ${oracle} not found (set CALITUNE_SHARED)`);
    await must(['import', '--from', oracle, '--run', R]);
    await must(['prepare', '--run', R, '--popularity-source', 'all']);
    await must(['postprocess', '--run', R]);
  }
  const E = join(R, 'experiments', name);
  if (!existsSync(E)) {
    // synthetic epochs: per user, with probability e/nEpochs take the CP list of a λ growing with e
    const lambdas = ['0.1', '0.2', '0.3', '0.4', '0.5', '0.6', '0.7', '0.8', '0.9'];
    for (const split of ['test', 'valid'] as const) {
      const base = readNpyMatrixI32(join(R, 'lists', `base_${split}.npy`));
      const cps = lambdas.map((l) => readNpyMatrixI32(join(R, 'postprocess', `cp_${l}_${split}.npy`)).data);
      const k = base.cols;
      let seed = 12345;
      const rand = () => {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        return seed / 4294967296;
      };
      for (let e = 1; e <= nEpochs; e++) {
        const out = Int32Array.from(base.data);
        const cp = cps[Math.min(lambdas.length - 1, Math.floor((e / nEpochs) * lambdas.length))]!;
        for (let u = 1; u < base.rows; u++) if (rand() < e / nEpochs) out.set(cp.subarray(u * k, (u + 1) * k), u * k);
        writeNpy(join(E, 'checkpoints', `epoch_${e}`, `${split}_lists.npy`), '<i4', [base.rows, k], out);
      }
    }
  }
  console.log(
    `setup (import, prepare, CP, ${nEpochs} synthetic epochs): ` +
      `${((performance.now() - tSetup) / 1000).toFixed(2)} s — not timed`,
  );
  const times: number[] = [];
  let last: Record<string, unknown> = {};
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    const out = await must(['evaluate', '--run', R, '--experiment', name, '--json']);
    times.push((performance.now() - t0) / 1000);
    last = JSON.parse(out) as Record<string, unknown>;
  }
  const c = last.calitune as {
    seconds: Record<string, number>;
    experiment: { epochs: number[] };
    selected: Record<string, { epoch: number } | null>;
  };
  const ms = (s: number | undefined) => `${((s ?? 0) * 1000).toFixed(0)} ms`;
  console.log(
    `evaluated ${c.experiment.epochs.length} epochs + ` +
      `${Object.keys((last.postprocessed as object) ?? {}).length} CP λ + base on ${R}`,
  );
  console.log(
    `last run: base lists ${ms(c.seconds.base_lists)}, CP ${ms(c.seconds.postprocessed)}, ` +
      `epochs ${ms(c.seconds.finetuned)}, per-user TSV ${ms(c.seconds.per_user_table)}`,
  );
  console.log(
    `selected epochs: ${Object.entries(c.selected)
      .map(([m, s]) => `${m} ${s?.epoch ?? '-'}`)
      .join(', ')}`,
  );
  console.log(`wall times: ${times.map((t) => t.toFixed(3)).join(', ')} s`);
  console.log('reference: 14 s to build lists + 5 s to score 375 epochs');
  const med = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
  console.log(`RESULT evaluate_300_epochs ${med.toFixed(3)} s`);
} finally {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}
