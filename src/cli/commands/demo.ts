import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomSplit } from '../../data/split.js';
import { createRun } from '../../experiments/run-dir.js';
import { experimentPaths } from '../../experiments/experiment-dir.js';
import { UserError } from '../../util/errors.js';
import { bool, positiveInt, str } from '../args.js';
import type { Command, CommandContext, ParsedValues } from '../command.js';
import { defaultDataset } from '../default-dataset.js';
import { trainCommand } from './train.js';
import { prepareCommand } from './prepare.js';
import { postprocessCommand } from './postprocess.js';
import { finetuneCommand } from './finetune.js';
import { evaluateCommand } from './evaluate.js';
import { gemmBackend } from '../../math/gemm.js';
import { projectRoot } from '../../math/native.js';
import { writeReport } from '../../report/report.js';
import { cpNdcgAtJsd } from '../../report/findings.js';

const EXPERIMENT = 'calitune_a0.5';

interface Metrics { ndcg: number; jsd: number }


/** Runs another command in-process with the same context (progress and notes stay visible). */
async function step(ctx: CommandContext, label: string, cmd: Command, values: ParsedValues): Promise<unknown> {
  ctx.info(`\n== ${label}`);
  return cmd.run(values, [], ctx);
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'The whole pipeline on the built-in default dataset: backbone, CaliTune, CP, evaluation, report',
  usage: 'demo [--run DIR] [--epochs N] [--finetune-epochs N] [--no-download]',
  options: {
    run: { type: 'string' }, epochs: { type: 'string' }, 'finetune-epochs': { type: 'string' },
    'no-download': { type: 'boolean' },
  },
  help: `Options:
  --run DIR              run directory (default runs/demo; the demo's own files in it are replaced)
  --epochs N             cap the backbone's epochs (default 300, early stopping applies)
  --finetune-epochs N    CaliTune epochs (default 100)
  --no-download          do not try GroupLens when MovieLens-100K is not found locally

Steps: split 80/10/10 (seed 920) → train BPR → prepare popularity groups and user targets →
CP re-ranking (λ 0.1…0.9) → CaliTune fine-tuning (the reference's ML-100K configuration,
examples/ml-100k-finetune.yaml: α 0.5, item embeddings frozen, K 50) → evaluation on the
test split → HTML report. The summary compares CaliTune's validation-selected epoch with
CP's NDCG interpolated at the same JSD.
Dataset: MovieLens-100K from ../shared/data when present, else data/ml-100k, else a
download from GroupLens, else a bundled synthetic ML-100K-like dataset.

Example:
  calitune demo`,
  async run(v, _pos, ctx) {
    const run = str(v, 'run') ?? 'runs/demo';
    const epochs = positiveInt(v, 'epochs');
    const ftEpochs = positiveInt(v, 'finetune-epochs') ?? 100;
    const data = await defaultDataset(ctx.warn, { allowDownload: !bool(v, 'no-download') });
    ctx.info(`dataset: ${data.description}`);
    ctx.info(`GEMM: ${gemmBackend().name} (${gemmBackend().detail})`);
    const seed = 920;
    const ds = randomSplit(data.log, seed);
    try {
      createRun(run, ds, data.kind === 'file' ? { kind: 'file', path: data.path!, format: 'auto' } : { kind: 'synthetic' }, seed);
    } catch (e) {
      if (e instanceof UserError) throw new UserError(`${e.message} (or delete ${run})`);
      throw e;
    }
    const trainArgs: ParsedValues = { run, model: 'bpr', seed: String(seed) };
    if (epochs !== undefined) trainArgs.epochs = String(epochs);
    await step(ctx, 'backbone: BPR', trainCommand, trainArgs);
    await step(ctx, 'popularity groups and user targets', prepareCommand, { run });
    await step(ctx, 'CP re-ranking baseline', postprocessCommand, { run });
    // The demo owns its experiment folder: a previous demo's is replaced.
    rmSync(experimentPaths(run, EXPERIMENT).dir, { recursive: true, force: true });
    const config = join(projectRoot(), 'examples', 'ml-100k-finetune.yaml');
    if (!existsSync(config)) throw new Error(`missing ${config}`);
    await step(ctx, 'CaliTune fine-tuning', finetuneCommand, {
      run, config, name: EXPERIMENT,
      set: [`num_epochs=${ftEpochs}`],
    });
    await step(ctx, 'evaluation (test split)', evaluateCommand, { run, experiment: EXPERIMENT });
    ctx.info('\n== report');
    const report = await writeReport(run, join(run, 'report'), { log: (s: string) => ctx.warn(s) });

    // A three-line answer to "did it work": base, CaliTune (trade-off selected on validation), CP at a similar JSD.
    const results = JSON.parse(readFileSync(join(run, 'results', `${EXPERIMENT}.json`), 'utf8')) as {
      base_recommendations: Metrics;
      postprocessed: Record<string, Metrics>;
      calitune: { selected: Record<string, { epoch: number; test: Metrics } | null> };
    };
    const base = results.base_recommendations;
    const sel = results.calitune.selected.tradeoff ?? results.calitune.selected.any;
    const summary: Record<string, unknown> = { run, dataset: data.description, gemm: gemmBackend().name, base, report: report.index };
    ctx.info('\n== summary (test split, NDCG@10 higher is better, JSD@10 lower is better calibrated)');
    const line = (label: string, m: Metrics) => ctx.info(`  ${label.padEnd(47)} NDCG@10 ${m.ndcg.toFixed(4)}   JSD@10 ${m.jsd.toFixed(4)}`);
    line('backbone (BPR)', base);
    if (sel) {
      line(`CaliTune α 0.5, epoch ${sel.epoch} (selected on valid)`, sel.test);
      const cpCurve = Object.values(results.postprocessed).map((m) => [m.jsd, m.ndcg] as [number, number]);
      const cpAt = cpNdcgAtJsd([base.jsd, base.ndcg], cpCurve, sel.test.jsd).cpNdcg ?? undefined;
      if (cpAt !== undefined) {
        line(`CP at the same JSD (interpolated over λ)`, { ndcg: cpAt, jsd: sel.test.jsd });
        const d = sel.test.ndcg - cpAt;
        const verdict = Math.abs(d) < 5e-5 ? 'level with CP' : `${d > 0 ? 'ahead of' : 'behind'} CP by ${Math.abs(d).toFixed(4)} NDCG@10`;
        ctx.info(`  → CaliTune is ${verdict} at equal calibration, at the base model's inference cost`);
      }
      summary.calitune = { epoch: sel.epoch, ...sel.test };
      if (cpAt !== undefined) summary.cp_ndcg_at_same_jsd = cpAt;
    }
    ctx.info(`\nrun directory: ${run}`);
    ctx.info(`report: ${report.index}`);
    return summary;
  },
};
