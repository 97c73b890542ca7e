/**
 * bench:scale — wall seconds and peak RSS of each stage of the pipeline at MovieLens size, each
 * stage a separate process on one fresh run directory, as a user runs them:
 *   read_split          read the interaction file, split 80/10/10, write the split files
 *                       (dist/bench/scale-read-split.js: the CLI has no read-only command)
 *   bpr_epoch           calitune train --epochs 1 (read, split, one BPR epoch, its validation,
 *                       the base lists and their evaluation)
 *   prepare             calitune prepare
 *   cp_one_lambda       calitune postprocess --lambdas 0.5 (both splits)
 *   finetune_frozen     calitune finetune, 1 epoch (--finetune-epochs), item embeddings frozen
 *   finetune_trainable  the same with item embeddings trained
 *   evaluate            calitune evaluate --experiment frozen (backbone, CP λ, stored epochs)
 *   report              calitune report
 * Peak RSS is the child's getrusage maximum (all threads), written at exit with its CPU seconds
 * by dist/bench/scale-rss-hook.js (on a shared machine the CPU seconds are the steadier figure).
 * The data is the preset's synthetic log (`calitune data synth`, default seed) unless --data
 * names a file.
 *
 *   npm run bench:scale -- --preset ml-100k|ml-1m|ml-20m [--data FILE] [--keep DIR] [--run DIR]
 *       [--skip stage,…] [--only stage,…] [--dim N] [--batch-size N] [--finetune-epochs N] [--no-png]
 * --keep DIR keeps the work folder (data, run, logs) in DIR; --run DIR works on an existing run
 * with a trained backbone (read_split and bpr_epoch are skipped; the later stages write into it).
 * --dim and --batch-size go to `train` (a large batch gives a backbone of the right shape quickly
 * when the BPR epoch itself is not what is measured).
 * Prints `RESULT <preset>_<stage>_seconds X`, `RESULT <preset>_<stage>_cpu_seconds C` and
 * `RESULT <preset>_<stage>_peak_rss_mb Y` per stage, for the fine-tuning stages also
 * `RESULT <preset>_<stage>_epoch_seconds E` (the last epoch's training, candidates and
 * validation from the epoch log, wall seconds), and a Markdown table.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'bin', 'calitune.js');
const hook = join(root, 'dist', 'bench', 'scale-rss-hook.js');
const readSplitScript = join(root, 'dist', 'bench', 'scale-read-split.js');

const STAGES = [
  'read_split',
  'bpr_epoch',
  'prepare',
  'cp_one_lambda',
  'finetune_frozen',
  'finetune_trainable',
  'evaluate',
  'report',
] as const;
type Stage = (typeof STAGES)[number];
const PRESETS = ['ml-100k', 'ml-1m', 'ml-20m'] as const;

/** The command line of the bench. */
interface BenchArgs {
  preset: (typeof PRESETS)[number];
  data: string | undefined;
  keep: string | undefined;
  run: string | undefined;
  stages: Stage[];
  dim: number | undefined;
  batchSize: number | undefined;
  finetuneEpochs: number;
  png: boolean;
}

function fail(message: string): never {
  console.error(`bench:scale: ${message}`);
  process.exit(2);
}

function stageList(text: string): Stage[] {
  const names = text.split(',').filter((s) => s !== '');
  for (const n of names) if (!(STAGES as readonly string[]).includes(n)) fail(`unknown stage '${n}'`);
  return names as Stage[];
}

function parseArgs(argv: readonly string[]): BenchArgs {
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    if (i < 0) return undefined;
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) fail(`--${name} needs a value`);
    return v;
  };
  const preset = value('preset') ?? 'ml-1m';
  if (!(PRESETS as readonly string[]).includes(preset)) fail(`--preset must be one of ${PRESETS.join(', ')}`);
  const int = (name: string): number | undefined => {
    const v = value(name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) fail(`--${name} must be a positive integer, got ${v}`);
    return n;
  };
  const run = value('run');
  const skip = stageList(value('skip') ?? '');
  let stages = value('only') !== undefined ? stageList(value('only')!) : [...STAGES];
  if (run !== undefined) skip.push('read_split', 'bpr_epoch');
  stages = stages.filter((s) => !skip.includes(s));
  return {
    preset: preset as BenchArgs['preset'],
    data: value('data'),
    keep: value('keep'),
    run: run === undefined ? undefined : resolve(run),
    stages,
    dim: int('dim'),
    batchSize: int('batch-size'),
    finetuneEpochs: int('finetune-epochs') ?? 1,
    png: !argv.includes('--no-png'),
  };
}

/** One stage's cost. */
interface Measured {
  stage: Stage;
  seconds: number;
  /** CPU seconds of the child (user + system, all threads). */
  cpuSeconds: number;
  peakRssMb: number;
  /** Fine-tuning stages: the last epoch's seconds from the epoch log (training + candidates + validation). */
  epochSeconds?: number;
}

/** The experiment a fine-tuning stage writes. */
const FINETUNE_EXPERIMENT: Partial<Record<Stage, string>> = {
  finetune_frozen: 'frozen',
  finetune_trainable: 'trainable',
};

/**
 * The last epoch's wall seconds in an experiment's log.jsonl (train_s + regen_s + valid_s: one
 * epoch without loading the run or epoch 0's validation), or undefined without a trained epoch.
 */
function lastEpochSeconds(run: string, experiment: string): number | undefined {
  const log = join(run, 'experiments', experiment, 'log.jsonl');
  if (!existsSync(log)) return undefined;
  const lines = readFileSync(log, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
  const last = JSON.parse(lines[lines.length - 1] ?? '{}') as Record<string, number>;
  if (!(last.epoch! >= 1)) return undefined;
  return (last.train_s ?? 0) + (last.regen_s ?? 0) + (last.valid_s ?? 0);
}

/**
 * Runs `node [--import hook] script args` with its output in `logs/<stage>.log`; returns the
 * wall seconds and the child's peak RSS. A failed child ends the bench with its log's tail.
 */
function runStage(stage: Stage, work: string, script: string, args: readonly string[]): Measured {
  const rssFile = join(work, 'logs', `${stage}.rss`);
  const logFile = join(work, 'logs', `${stage}.log`);
  rmSync(rssFile, { force: true });
  rmSync(`${rssFile}.cpu`, { force: true });
  process.stdout.write(`${stage}: ${[script === cli ? 'calitune' : script, ...args].join(' ')}\n`);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', hook, script, ...args], {
    env: { ...process.env, CALITUNE_BENCH_RSS_FILE: rssFile },
    encoding: 'utf8',
    maxBuffer: 256 << 20,
  });
  const seconds = (performance.now() - t0) / 1000;
  writeFileSync(logFile, `${r.stdout ?? ''}${r.stderr ?? ''}`);
  if (r.status !== 0) {
    const tail = `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n').slice(-30).join('\n');
    fail(`stage ${stage} failed (exit ${r.status ?? r.signal}; log ${logFile}):\n${tail}`);
  }
  const read = (f: string) => (existsSync(f) ? Number(readFileSync(f, 'utf8')) : NaN);
  const peakRssMb = read(rssFile) / 1024;
  const cpuSeconds = read(`${rssFile}.cpu`);
  console.log(`  ${seconds.toFixed(2)} s (CPU ${cpuSeconds.toFixed(2)} s), peak RSS ${peakRssMb.toFixed(0)} MB`);
  return { stage, seconds, cpuSeconds, peakRssMb };
}

/** The preset's synthetic data in the work folder, generated once (not a measured stage). */
function ensureData(a: BenchArgs, work: string): string {
  if (a.data !== undefined) return resolve(a.data);
  const data = join(work, `synth-${a.preset}.inter`);
  if (!existsSync(data)) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [cli, 'data', 'synth', '--preset', a.preset, '--out', data], {
      stdio: 'inherit',
    });
    if (r.status !== 0) fail(`data synth failed (exit ${r.status})`);
    console.log(`generated ${data} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  return data;
}

/** The command of each stage (script and arguments). */
function stageCommand(stage: Stage, a: BenchArgs, data: string, run: string, work: string): [string, string[]] {
  const config = join(root, 'examples', 'ml-100k-finetune.yaml');
  const finetune = (name: string, frozen: boolean): string[] => [
    'finetune',
    '--run',
    run,
    '--config',
    config,
    '--name',
    name,
    '--set',
    `num_epochs=${a.finetuneEpochs}`,
    '--set',
    'accuracy_floor=0',
    '--set',
    `freeze_item_emb=${frozen}`,
  ];
  switch (stage) {
    case 'read_split':
      return [readSplitScript, [data, join(work, 'read-split')]];
    case 'bpr_epoch': {
      const dim = a.dim === undefined ? [] : ['--dim', String(a.dim)];
      const batch = a.batchSize === undefined ? [] : ['--batch-size', String(a.batchSize)];
      return [cli, ['train', '--data', data, '--run', run, '--epochs', '1', ...dim, ...batch]];
    }
    case 'prepare':
      return [cli, ['prepare', '--run', run]];
    case 'cp_one_lambda':
      return [cli, ['postprocess', '--run', run, '--lambdas', '0.5']];
    case 'finetune_frozen':
      return [cli, finetune('frozen', true)];
    case 'finetune_trainable':
      return [cli, finetune('trainable', false)];
    case 'evaluate':
      return [cli, ['evaluate', '--run', run, '--experiment', 'frozen']];
    case 'report':
      return [cli, ['report', '--run', run, ...(a.png ? [] : ['--no-png'])]];
  }
}

function printResults(a: BenchArgs, rows: readonly Measured[], data: string): void {
  const tag = a.preset.replace('-', '_');
  console.log('');
  for (const r of rows) {
    console.log(`RESULT ${tag}_${r.stage}_seconds ${r.seconds.toFixed(2)}`);
    console.log(`RESULT ${tag}_${r.stage}_cpu_seconds ${r.cpuSeconds.toFixed(2)}`);
    console.log(`RESULT ${tag}_${r.stage}_peak_rss_mb ${r.peakRssMb.toFixed(0)}`);
    if (r.epochSeconds !== undefined)
      console.log(`RESULT ${tag}_${r.stage}_epoch_seconds ${r.epochSeconds.toFixed(2)}`);
  }
  const mb = (statSync(data).size / 2 ** 20).toFixed(0);
  console.log(
    `\n${a.preset}: ${data} (${mb} MB); load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  console.log('\n| stage | seconds | CPU seconds | peak RSS (MB) | one epoch (s) |\n|---|---:|---:|---:|---:|');
  for (const r of rows) {
    const epoch = r.epochSeconds === undefined ? '' : r.epochSeconds.toFixed(2);
    const cells = [r.seconds.toFixed(2), r.cpuSeconds.toFixed(2), r.peakRssMb.toFixed(0), epoch];
    console.log(`| ${r.stage} | ${cells.join(' | ')} |`);
  }
}

function main(): void {
  const a = parseArgs(process.argv.slice(2));
  const work = a.keep !== undefined ? resolve(a.keep) : mkdtempSync(join(tmpdir(), 'calitune-bench-scale-'));
  mkdirSync(join(work, 'logs'), { recursive: true });
  console.log(`${cpus().length} cores; load average ${loadavg()[0]!.toFixed(2)}; work folder ${work}`);
  try {
    const data = ensureData(a, work);
    const run = a.run ?? join(work, 'run');
    if (a.run === undefined && a.stages.includes('bpr_epoch')) rmSync(run, { recursive: true, force: true });
    const rows: Measured[] = [];
    for (const stage of a.stages) {
      const [script, args] = stageCommand(stage, a, data, run, work);
      const m = runStage(stage, work, script, args);
      const experiment = FINETUNE_EXPERIMENT[stage];
      if (experiment !== undefined) m.epochSeconds = lastEpochSeconds(run, experiment);
      rows.push(m);
    }
    printResults(a, rows, data);
  } finally {
    if (a.keep === undefined) rmSync(work, { recursive: true, force: true });
  }
}

main();
