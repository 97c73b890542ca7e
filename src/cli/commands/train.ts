import { existsSync, rmSync } from 'node:fs';
import { UserError } from '../../util/errors.js';
import { Progress } from '../../util/progress.js';
import { appendFileSync, mkdirSync } from 'node:fs';
import { randomSplit } from '../../data/split.js';
import { createRun, loadRunData, runPaths } from '../../experiments/run-dir.js';
import { trainBackbone } from '../../train/train-any.js';
import { saveModel } from '../../models/model-file.js';
import { requireStr, str } from '../args.js';
import { readTrainSettings, trainOptions, trainOptionsHelp, TRAIN_USAGE } from '../train-flags.js';
import { DATA_HELP, DATA_OPTIONS, readDataFrom } from '../data-options.js';
import type { Command } from '../command.js';
import { saveBaseEvaluation } from '../base-output.js';
import { evaluateBase } from '../../eval/base-eval.js';
import { resolveInteractionFile } from '../../data/readers.js';

export const trainCommand: Command = {
  name: 'train',
  summary: 'Train a backbone (BPR, DMF, MultiVAE; or build MostPop / Random) with early stopping on validation NDCG@10, then evaluate it',
  usage: TRAIN_USAGE,
  options: { ...DATA_OPTIONS, ...trainOptions() },
  help: `${trainOptionsHelp()}
${DATA_HELP}

Writes RUN/model/{model.safetensors,model.json,training_log.jsonl}, RUN/lists/base_{valid,test}.npy
and RUN/results/base_model.json.

Example:
  calitune train --data ../shared/data/ml-100k --run runs/ml-100k --model bpr`,
  async run(v, _pos, ctx) {
    const run = requireStr(v, 'run');
    const { model: modelName, config, splitSeed } = readTrainSettings(v);
    const dataPath = str(v, 'data');
    const p = runPaths(run);
    if (dataPath !== undefined) {
      const { log, options } = readDataFrom(dataPath, v);
      const ds = randomSplit(log, splitSeed);
      createRun(run, ds, { kind: 'file', path: resolveInteractionFile(dataPath), format: options.format ?? 'auto', options: { ...options } }, splitSeed);
      ctx.warn(`train: ${log.users.length} interactions of ${ds.nUsers - 1} users × ${ds.nItems - 1} items from ${log.source}; split seed ${splitSeed}`);
    } else if (!existsSync(p.info)) {
      throw new UserError(`${run} has no run yet: give --data PATH to create it`);
    }
    const { info, ds } = loadRunData(run);
    const progress = new Progress(`train ${modelName}`, config.epochs ?? 300, { silent: ctx.progressSilent });
    mkdirSync(p.model, { recursive: true });
    rmSync(p.trainingLog, { force: true });
    const result = trainBackbone(
      modelName,
      { nUsers: ds.nUsers, nItems: ds.nItems, train: ds.train, valid: ds.valid },
      config,
      {
        onEpoch: (e, total) => {
          appendFileSync(p.trainingLog, JSON.stringify({
            epoch: e.epoch, loss: e.loss, valid_ndcg: e.validNdcg, improved: e.improved,
            train_s: e.trainSeconds, eval_s: e.evalSeconds,
          }) + '\n');
          progress.update(e.epoch + 1, `loss ${e.loss.toFixed(4)} valid NDCG@10 ${e.validNdcg.toFixed(4)}`);
          void total;
        },
      },
    );
    progress.done(`best epoch ${result.bestEpoch} (valid NDCG@10 ${result.bestValidNdcg.toFixed(5)}), ${result.epochsRun} epochs in ${result.seconds.toFixed(1)}s${result.stoppedEarly ? ', stopped early' : ''}`);
    const evaluation = evaluateBase(result.model, ds);
    saveModel(p.model, result.model, {
      idMaps: { user: { field: ds.userMap.field, tokens: [...ds.userMap.tokens] }, item: { field: ds.itemMap.field, tokens: [...ds.itemMap.tokens] } },
      training: { ...result.config, best_epoch: result.bestEpoch, epochs_run: result.epochsRun, stopped_early: result.stoppedEarly, seconds: result.seconds },
      dataFingerprint: info.fingerprint,
      metrics: { valid_ndcg10: evaluation.valid.ndcg, test_ndcg10: evaluation.test.ndcg },
    });
    const summary = saveBaseEvaluation(run, evaluation, modelName);
    ctx.log(`model saved in ${p.model}`);
    ctx.log(`valid NDCG@10 ${evaluation.valid.ndcg.toFixed(5)}   test NDCG@10 ${evaluation.test.ndcg.toFixed(5)}`);
    return {
      run, model: modelName, best_epoch: result.bestEpoch, epochs_run: result.epochsRun,
      stopped_early: result.stoppedEarly, seconds: result.seconds, ...summary,
    };
  },
};
