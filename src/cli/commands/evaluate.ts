import { loadRunData, runPaths } from '../../experiments/run-dir.js';
import { loadModel } from '../../models/model-file.js';
import { evaluateBase } from '../../eval/base-eval.js';
import { UserError } from '../../util/errors.js';
import { positiveInt, requireStr } from '../args.js';
import { saveBaseEvaluation } from '../base-output.js';
import type { Command } from '../command.js';

export const evaluateCommand: Command = {
  name: 'evaluate',
  summary: 'Evaluate the run\'s backbone: valid and test NDCG@10 and the top-10 lists',
  usage: 'evaluate --run RUN [--k 10]',
  options: { run: { type: 'string' }, k: { type: 'string' } },
  help: `Options:
  --run DIR   run directory with a trained or imported model
  --k N       list length (default 10)

Lists: item 0 and the user's train items are masked; test-time lists also mask valid items.
NDCG@k is averaged over every user (a user without relevant items scores 0, as the
reference does); the RecBole-style mean over users with items is reported alongside.
Writes RUN/lists/base_{valid,test}.npy and RUN/results/base.json.

Example:
  calitune evaluate --run runs/ml-100k`,
  async run(v, _pos, ctx) {
    const run = requireStr(v, 'run');
    const k = positiveInt(v, 'k') ?? 10;
    const { info, ds } = loadRunData(run);
    const { model, sidecar } = loadModel(runPaths(run).model);
    if (sidecar.data_fingerprint !== undefined && sidecar.data_fingerprint !== info.fingerprint) {
      throw new UserError(`the model in ${runPaths(run).model} was trained on other data than this run's split`);
    }
    if (model.nUsers !== ds.nUsers || model.nItems !== ds.nItems) {
      throw new UserError(`model has ${model.nUsers}×${model.nItems} users×items, the run ${ds.nUsers}×${ds.nItems}`);
    }
    if (k >= ds.nItems) throw new UserError(`--k ${k} must be smaller than the number of items (${ds.nItems - 1})`);
    const e = evaluateBase(model, ds, k);
    const summary = saveBaseEvaluation(run, e, sidecar.model_type);
    ctx.log(`${sidecar.model_type} on ${run}: ${ds.nUsers - 1} users, ${ds.nItems - 1} items`);
    ctx.log(`valid NDCG@${k} ${e.valid.ndcg.toFixed(5)}   test NDCG@${k} ${e.test.ndcg.toFixed(5)}`);
    ctx.log(`lists: ${summary.lists.valid}, ${summary.lists.test}`);
    return { run, ...summary };
  },
};
