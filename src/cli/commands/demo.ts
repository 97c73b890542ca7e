import { demo, type DemoStep } from '../../pipeline/demo.js';
import type { Reporter } from '../../pipeline/reporter.js';
import { bool, positiveInt, str } from '../args.js';
import type { Command } from '../command.js';
import { printTrain } from './train.js';
import { printPrepare } from './prepare.js';
import { printPostprocess } from './postprocess.js';
import { printFinetune } from './finetune.js';
import { printEvaluate } from './evaluate.js';
import { DEFAULT_SEED } from '../../util/seed.js';

/** Each step's result, printed as its own command prints it. */
function printStep(step: DemoStep, out: Reporter): void {
  switch (step.kind) {
    case 'train':
      printTrain(step.result, out);
      break;
    case 'prepare':
      printPrepare(step.result, out);
      break;
    case 'postprocess':
      printPostprocess(step.result, out);
      break;
    case 'finetune':
      printFinetune(step.result, out);
      break;
    case 'evaluate':
      printEvaluate(step.result, out);
      break;
  }
}

/** `calitune demo`: the whole pipeline on the default dataset, ending with a three-line answer. */
export const demoCommand: Command = {
  name: 'demo',
  summary: 'The whole pipeline on the built-in default dataset: backbone, CaliTune, CP, evaluation, report',
  usage: 'demo [--run DIR] [--epochs N] [--finetune-epochs N] [--no-download]',
  options: {
    run: { type: 'string' },
    epochs: { type: 'string' },
    'finetune-epochs': { type: 'string' },
    'no-download': { type: 'boolean' },
  },
  optionFlags: { backboneEpochs: 'epochs' },
  help: `Options:
  --run DIR              run directory (default runs/demo; the demo's own files in it are replaced)
  --epochs N             cap the backbone's epochs (default 300, early stopping applies)
  --finetune-epochs N    CaliTune epochs (default 100)
  --no-download          do not try GroupLens when MovieLens-100K is not found locally

Steps: split 80/10/10 (seed ${DEFAULT_SEED}) → train BPR → prepare popularity groups and user targets →
CP re-ranking (λ 0.1…0.9) → CaliTune fine-tuning (the reference's ML-100K configuration,
examples/ml-100k-finetune.yaml: α 0.5, item embeddings frozen, K 50) → evaluation on the
test split → HTML report. The summary compares CaliTune's validation-selected epoch with
CP's NDCG interpolated at the same JSD.
Dataset: MovieLens-100K from ../shared/data when present, else data/ml-100k, else a
download from GroupLens, else a bundled synthetic ML-100K-like dataset.

Example:
  calitune demo`,
  async run(v, _pos, ctx) {
    return demo(
      {
        run: str(v, 'run'),
        backboneEpochs: positiveInt(v, 'epochs'),
        finetuneEpochs: positiveInt(v, 'finetune-epochs'),
        allowDownload: !bool(v, 'no-download'),
      },
      ctx,
      (step) => printStep(step, ctx),
    );
  },
};
