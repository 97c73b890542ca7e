import { convergenceSentence } from '../../train/convergence.js';
import { runPaths } from '../../store/run.js';
import { train, type TrainResult } from '../../pipeline/train.js';
import type { Reporter } from '../../pipeline/reporter.js';
import { requireStr, str } from '../args.js';
import { readTrainSettings, trainOptions, trainOptionsHelp, TRAIN_USAGE } from '../train-flags.js';
import { DATA_HELP, DATA_OPTIONS, readOptionsFrom } from '../data-options.js';
import type { Command } from '../command.js';

/** Prints where the model went and its valid and test NDCG@10. */
export function printTrain(r: TrainResult, out: Reporter): void {
  out.info(`model saved in ${runPaths(r.run).model}`);
  // Two averages of one metric: over every user (the reference's evaluation, used everywhere else) and over
  // the users with valid items (RecBole's, which early stopping follows).
  out.info(
    `valid NDCG@10 ${r.valid.ndcg.toFixed(5)} over all users ` +
      `(${r.valid.ndcg_users_with_items.toFixed(5)} over users with valid items: the early-stopping metric)`,
  );
  out.info(`test NDCG@10  ${r.test.ndcg.toFixed(5)} over all users`);
  if (r.convergence) out.info(convergenceSentence(r.convergence));
}

/** `calitune train`: trains a backbone, creating the run from an interaction file when needed. */
export const trainCommand: Command = {
  name: 'train',
  summary:
    'Train a backbone (BPR, DMF, MultiVAE; or build MostPop / Random) ' +
    'with early stopping on validation NDCG@10, then evaluate it',
  usage: TRAIN_USAGE,
  options: { ...DATA_OPTIONS, ...trainOptions(), force: { type: 'boolean' } },
  help: `${trainOptionsHelp()}
${DATA_HELP}
  --force              replace a backbone that has a CP set or experiments derived from it
                       (they become stale: evaluate refuses them until renewed)

Writes RUN/model/{model.safetensors,model.json,training_log.jsonl}, RUN/lists/base_{valid,test}.npy
and RUN/results/base_model.json.

Example:
  calitune train --data ../shared/data/ml-100k --run runs/ml-100k --model bpr`,
  async run(v, _pos, ctx) {
    const { model, config, seed, splitSeed } = readTrainSettings(v);
    const data = str(v, 'data');
    const r = await train(
      {
        run: requireStr(v, 'run'),
        model,
        seed,
        splitSeed,
        hyperparameters: config,
        data,
        read: data !== undefined ? readOptionsFrom(v) : undefined,
        force: v.force === true,
      },
      ctx,
    );
    printTrain(r, ctx);
    return r;
  },
};
