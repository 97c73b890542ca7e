/**
 * The whole pipeline on the built-in default dataset: split, BPR backbone, prepare, CP,
 * CaliTune fine-tuning (the reference's ML-100K configuration), evaluation on the test split
 * and the HTML report, then a three-line answer to "did it work". Step headings and the
 * answer go to the reporter; each step's result to `onStep`.
 */
import { runUnderTrainedWarning } from '../store/backbone-convergence.js';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { randomSplit } from '../data/split.js';
import { createRun } from '../store/run.js';
import { experimentPaths } from '../store/experiment-files.js';
import { gemmBackend } from '../math/gemm.js';
import { projectRoot } from '../math/native.js';
import { writeReport } from '../report/report.js';
import { marginInline } from '../report/margins.js';
import type { MarginsAtTargets } from '../selection/margins.js';
import type { StoredCpVerdict } from '../eval/cp-verdicts.js';
import { UserError } from '../util/errors.js';
import { defaultDataset } from './default-dataset.js';
import { evaluate, type EvaluateResult } from './evaluate.js';
import { finetune, type FinetuneResult } from './finetune.js';
import { postprocess, type PostprocessResult } from './postprocess.js';
import { prepare, type PrepareResult } from './prepare.js';
import { silentReporter, type Reporter } from './reporter.js';
import { DEFAULT_SEED } from '../util/seed.js';
import { train, type TrainResult } from './train.js';
import { parseOptions } from './options.js';

const EXPERIMENT = 'calitune_a0.5';

/** Options of {@link demo}: the run directory, epoch caps of both trainings, and whether to download. */
export const demoOptionsSchema = z
  .object({
    /** Run directory; the demo's own files in it are replaced. */
    run: z.string().min(1).default('runs/demo'),
    /** Cap on the backbone's epochs (default: the trainer's; early stopping applies). */
    backboneEpochs: z.number().int().min(1).optional(),
    /** CaliTune epochs. */
    finetuneEpochs: z.number().int().min(1).default(100),
    /** Try GroupLens when MovieLens-100K is not found locally. */
    allowDownload: z.boolean().default(true),
  })
  .strict();

/** What {@link demo} takes; every field has a default. */
export type DemoOptions = z.input<typeof demoOptionsSchema>;

/** One finished step of {@link demo} with that step's result, in pipeline order. */
export type DemoStep =
  | { kind: 'train'; result: TrainResult }
  | { kind: 'prepare'; result: PrepareResult }
  | { kind: 'postprocess'; result: PostprocessResult }
  | { kind: 'finetune'; result: FinetuneResult }
  | { kind: 'evaluate'; result: EvaluateResult };

interface Metrics {
  ndcg: number;
  jsd: number;
}

/**
 * The demo's answer: dataset, GEMM backend, report path, and test NDCG@10 / JSD@10 of the backbone,
 * of CaliTune's validation-selected epoch and of CP at that epoch's JSD.
 */
export interface DemoResult {
  run: string;
  dataset: string;
  gemm: string;
  /** The backbone on the test split. */
  base: Metrics;
  report: string;
  /** CaliTune's epoch selected on validation (trade-off, else any) and its test metrics. */
  calitune?: { epoch: number } & Metrics;
  /** CP's NDCG interpolated at CaliTune's JSD. */
  cp_ndcg_at_same_jsd?: number;
  /** The margin over CP at fixed calibration levels (the report's table). */
  margins?: MarginsAtTargets;
}

type Options = z.output<typeof demoOptionsSchema>;

/** The five pipeline steps, each under a heading. */
async function runSteps(o: Options, reporter: Reporter, onStep: (s: DemoStep) => void): Promise<EvaluateResult> {
  const { run } = o;
  const heading = (label: string) => reporter.info(`\n== ${label}`);
  heading('backbone: BPR');
  const hyperparameters = o.backboneEpochs !== undefined ? { epochs: o.backboneEpochs } : {};
  // The demo owns its run and renews every step, so a previous demo's CP set and experiment may be replaced.
  const trainOptions = { run, model: 'bpr', seed: DEFAULT_SEED, hyperparameters, force: true };
  onStep({ kind: 'train', result: await train(trainOptions, reporter) });
  heading('popularity groups and user targets');
  onStep({ kind: 'prepare', result: await prepare({ run }, reporter) });
  heading('CP re-ranking baseline');
  onStep({ kind: 'postprocess', result: await postprocess({ run }, reporter) });
  // The demo owns its experiment folder: a previous demo's is replaced.
  rmSync(experimentPaths(run, EXPERIMENT).dir, { recursive: true, force: true });
  const configFile = join(projectRoot(), 'examples', 'ml-100k-finetune.yaml');
  if (!existsSync(configFile)) throw new Error(`missing ${configFile}`);
  heading('CaliTune fine-tuning');
  const overrides = [`num_epochs=${o.finetuneEpochs}`];
  onStep({
    kind: 'finetune',
    result: await finetune({ run, configFile, experiment: EXPERIMENT, overrides }, reporter),
  });
  heading('evaluation (test split)');
  const evaluated = await evaluate({ run, experiment: EXPERIMENT }, reporter);
  onStep({ kind: 'evaluate', result: evaluated });
  return evaluated;
}

/** The parts of the results file the answer reads. */
interface DemoResults {
  base_recommendations: Metrics;
  calitune: {
    selected: Record<string, { epoch: number; test: Metrics } | null>;
    vs_cp?: Record<string, StoredCpVerdict | null>;
  };
}

/** A three-line answer: base, CaliTune (trade-off selected on validation), CP at a similar JSD. */
function answer(results: DemoResults, summary: DemoResult, reporter: Reporter): void {
  const base = results.base_recommendations;
  const mode = results.calitune.selected.tradeoff ? 'tradeoff' : 'any';
  const sel = results.calitune.selected[mode];
  reporter.info('\n== summary (test split, NDCG@10 higher is better, JSD@10 lower is better calibrated)');
  const line = (label: string, m: Metrics) =>
    reporter.info(`  ${label.padEnd(47)} NDCG@10 ${m.ndcg.toFixed(4)}   JSD@10 ${m.jsd.toFixed(4)}`);
  line('backbone (BPR)', base);
  if (!sel) return;
  line(`CaliTune α 0.5, epoch ${sel.epoch} (selected on valid)`, sel.test);
  // evaluate stored the verdict (src/selection's rule): the demo says what compare and the report say
  const vsCp = results.calitune.vs_cp?.[mode];
  const cpAt = vsCp?.cp_ndcg ?? undefined;
  if (vsCp && cpAt !== undefined && vsCp.delta !== null) {
    line(`CP at the same JSD (interpolated over λ)`, { ndcg: cpAt, jsd: sel.test.jsd });
    const by = `${Math.abs(vsCp.delta).toFixed(4)} NDCG@10`;
    const verdict =
      vsCp.verdict === 'level'
        ? `level with CP (within ${by})`
        : `${vsCp.verdict === 'ahead' ? 'ahead of' : 'behind'} CP by ${by}`;
    reporter.info(`  → CaliTune is ${verdict} at equal calibration, at the base model's inference cost`);
  }
  summary.calitune = { epoch: sel.epoch, ...sel.test };
  if (cpAt !== undefined) summary.cp_ndcg_at_same_jsd = cpAt;
}

/**
 * The whole pipeline on the default dataset (train, prepare, postprocess, finetune, evaluate, report),
 * replacing the demo's own files in `run`; `onStep` receives each step's result.
 */
export async function demo(
  options: DemoOptions = {},
  reporter: Reporter = silentReporter,
  onStep: (step: DemoStep) => void = () => {},
): Promise<DemoResult> {
  const o = parseOptions(demoOptionsSchema, options);
  const { run } = o;
  const data = await defaultDataset(reporter.warn, { allowDownload: o.allowDownload });
  reporter.info(`dataset: ${data.description}`);
  reporter.info(`GEMM: ${gemmBackend().name} (${gemmBackend().detail})`);
  const ds = randomSplit(data.log, DEFAULT_SEED);
  try {
    createRun(
      run,
      ds,
      data.kind === 'file' ? { kind: 'file', path: data.path!, format: 'auto' } : { kind: 'synthetic' },
      DEFAULT_SEED,
    );
  } catch (e) {
    if (e instanceof UserError) throw new UserError(`${e.message} (or delete ${run})`);
    throw e;
  }
  const evaluated = await runSteps(o, reporter, onStep);
  reporter.info('\n== report');
  const written = await writeReport(run, join(run, 'report'), { log: (s: string) => reporter.warn(s) });
  const results = JSON.parse(readFileSync(evaluated.results, 'utf8')) as DemoResults;
  const summary: DemoResult = {
    run,
    dataset: data.description,
    gemm: gemmBackend().name,
    base: results.base_recommendations,
    report: written.index,
  };
  answer(results, summary, reporter);
  const underTrained = runUnderTrainedWarning(run);
  if (underTrained) reporter.warn(underTrained);
  if (written.margins) {
    summary.margins = written.margins;
    reporter.info(`  margin over CP at fixed JSD@10 (front's NDCG@10 − CP's): ${marginInline(written.margins)}`);
  }
  reporter.info(`\nrun directory: ${run}`);
  reporter.info(`report: ${written.index}`);
  return summary;
}
