/**
 * Train a backbone (or build a MostPop / Random baseline) on a run's split with early stopping
 * on validation NDCG@10, then evaluate it; a run is created from an interaction file first
 * when one is given.
 */
import { backboneConvergence, type BackboneConvergence } from '../train/convergence.js';
import { appendFileSync, existsSync } from 'node:fs';
import { z } from 'zod';
import { randomSplit } from '../data/split.js';
import { requireMeasuredPart, splitWarnings } from '../data/split-checks.js';
import { readInteractionFile, resolveInteractionFile, type ReadOptions } from '../data/readers.js';
import { writeFailure } from '../util/write-errors.js';
import { createRun, loadRunData, runPaths } from '../store/run.js';
import { commitNewModel, newModelFolder } from '../store/model-files.js';
import { withRunLock } from '../store/run-locks.js';
import { knownModelTypes, saveModel } from '../models/model-file.js';
import { trainBackbone, type BackboneResult } from '../train/train-any.js';
import {
  BACKBONE_SPECS,
  configKeys,
  DEFAULT_MODEL,
  isModelType,
  MODEL_TYPES,
  parseBackboneConfig,
  type BackboneConfig,
  type ModelType,
} from '../train/configs/index.js';
import { DEFAULT_SEED } from '../util/seed.js';
import { evaluateBase } from '../eval/base-eval.js';
import type { SplitDataset } from '../data/types.js';
import { InputError } from '../util/errors.js';
import { writeBaseEvaluation } from '../store/base-files.js';
import { parseOptions } from './options.js';
import { noteStaleDerivedArtefacts, refuseToReplaceBackbone } from './stale-artefacts.js';
import { silentReporter, type Reporter } from './reporter.js';

const isObject = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Options of {@link train}: the run (created from `data` when given), read options, backbone, seeds and
 * the backbone's hyperparameters.
 */
export const trainOptionsSchema = z
  .object({
    /** Run directory: created from `data`, or reused when it exists. */
    run: z.string().min(1),
    /** Interaction file or dataset folder to create the run from. */
    data: z.string().min(1).optional(),
    /** How to read `data` (format, columns, separator, minimum rating, header). */
    read: z.custom<ReadOptions>(isObject, { message: 'must be an object of read options' }).default({}),
    /** Backbone: bpr, dmf, multivae, or the untrained baselines mostpop, random. */
    model: z.string().default(DEFAULT_MODEL),
    /** Training seed. */
    seed: z.number().int().default(DEFAULT_SEED),
    /** Seed of the 80/10/10 split when the run is created (default: seed). */
    splitSeed: z.number().int().optional(),
    /** The backbone's keys (src/train/configs: one schema per backbone); unset ones take its defaults. */
    hyperparameters: z
      .custom<BackboneConfig>(isObject, { message: 'must be an object of hyperparameters' })
      .default({}),
    /** Replace a backbone that has derived artefacts (CP set, experiments); they become stale. */
    force: z.boolean().default(false),
  })
  .strict();

/**
 * What {@link train} takes: `run`, optionally `data` and `read`, `model` ('bpr'), `seed`, `splitSeed`,
 * `hyperparameters` (the backbone's keys) and `force` (replace a backbone that has derived artefacts).
 */
export type TrainOptions = z.input<typeof trainOptionsSchema>;
type Options = z.output<typeof trainOptionsSchema>;

/** The trained backbone: best epoch, epochs run, early stop, seconds, and its valid / test NDCG@10. */
export type TrainResult = {
  run: string;
  model: string;
  best_epoch: number;
  epochs_run: number;
  stopped_early: boolean;
  /** How training ended (early stopping, or the epoch cap still improving or not); null for baselines. */
  convergence: BackboneConvergence | null;
  seconds: number;
} & ReturnType<typeof writeBaseEvaluation>;

/**
 * Warns about a small valid or test split and refuses one that leaves the metrics meaningless:
 * an empty test split (nothing to evaluate), an empty valid split for a trained backbone
 * (nothing to early-stop on). See docs/numeric-contract.md §2.
 */
function checkSplitForTraining(ds: SplitDataset, model: ModelType, reporter: Reporter): void {
  for (const w of splitWarnings(ds)) reporter.warn(`train: ${w}`);
  if (BACKBONE_SPECS[model].trained) {
    requireMeasuredPart(ds, 'valid', 'early stopping on valid NDCG@10 (the only stopping rule)', 'data');
  }
  requireMeasuredPart(ds, 'test', 'the test NDCG@10 of the trained model', 'data');
}

/** Whether the process `pid` is running (EPERM: it runs under another user). */
function _processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Reads `data`, splits it (seed `splitSeed`, else `seed`), checks the split for `model` and creates
 * the run directory `o.run`; the caller holds the run lock. Tuning creates its run with it too.
 */
export function createRunFromData(
  o: Pick<z.output<typeof trainOptionsSchema>, 'run' | 'seed' | 'splitSeed' | 'read'>,
  model: ModelType,
  data: string,
  reporter: Reporter,
): void {
  const splitSeed = o.splitSeed ?? o.seed;
  const { log, notes } = readInteractionFile(data, o.read);
  for (const note of notes) reporter.warn(`train: note: ${note}`);
  const ds = randomSplit(log, splitSeed);
  checkSplitForTraining(ds, model, reporter);
  createRun(
    o.run,
    ds,
    { kind: 'file', path: resolveInteractionFile(data), format: o.read.format ?? 'auto', options: { ...o.read } },
    splitSeed,
  );
  reporter.warn(
    `train: ${log.users.length} interactions of ${ds.nUsers - 1} users × ${ds.nItems - 1} items ` +
      `from ${log.source}; split seed ${splitSeed}`,
  );
}

/** The trainer with the epoch log (`trainingLog`, in the new backbone's folder) and progress. */
function trainWithLog(o: Options, ds: SplitDataset, trainingLog: string, reporter: Reporter): BackboneResult {
  const progress = reporter.progress(`train ${o.model}`, o.hyperparameters.epochs ?? 300);
  const logLine = (line: string) => {
    try {
      appendFileSync(trainingLog, line);
    } catch (e) {
      throw writeFailure(trainingLog, e);
    }
  };
  const result = trainBackbone(
    o.model,
    { nUsers: ds.nUsers, nItems: ds.nItems, train: ds.train, valid: ds.valid },
    { ...o.hyperparameters, seed: o.seed },
    {
      onEpoch: (e) => {
        logLine(
          `${JSON.stringify({
            epoch: e.epoch,
            loss: e.loss,
            valid_ndcg: e.validNdcg,
            improved: e.improved,
            train_s: e.trainSeconds,
            eval_s: e.evalSeconds,
          })}\n`,
        );
        progress.update(
          e.epoch + 1,
          `loss ${e.loss.toFixed(4)} valid NDCG@10 ${e.validNdcg.toFixed(4)} (users with valid items)`,
        );
      },
    },
  );
  progress.done(
    `best epoch ${result.bestEpoch} (valid NDCG@10 ${result.bestValidNdcg.toFixed(5)} over users with valid items), ` +
      `${result.epochsRun} epochs in ` +
      `${result.seconds.toFixed(1)}s${result.stoppedEarly ? ', stopped early' : ''}`,
  );
  return result;
}

/**
 * Trains a backbone on a run's split with early stopping on valid NDCG@10 and evaluates it, creating the
 * run from `data` first when given; writes RUN/model and the base lists. Holds the run lock meanwhile.
 */
export async function train(options: TrainOptions, reporter: Reporter = silentReporter): Promise<TrainResult> {
  const o = parseOptions(trainOptionsSchema, options);
  const { run, model: modelName } = o;
  if (!isModelType(modelName) || !knownModelTypes().includes(modelName)) {
    throw new InputError(`unknown model '${modelName}' (known: ${MODEL_TYPES.join(', ')})`, { field: 'model' });
  }
  // Checked against the backbone's schema before any work: a bad key names itself and its rule.
  const seedKey = configKeys(modelName).includes('seed') ? { seed: o.seed } : {};
  parseBackboneConfig(modelName, { ...o.hyperparameters, ...seedKey });
  const note = (line: string) => reporter.warn(line);
  return withRunLock({ run, target: 'run', command: 'train', note }, () => trainLocked(o, reporter));
}

/** train once the run lock is held: the run (created from `data` when given), the backbone, its base lists. */
async function trainLocked(o: Options, reporter: Reporter): Promise<TrainResult> {
  const run = o.run;
  const modelName = o.model as ModelType; // checked by train before the lock
  refuseToReplaceBackbone(run, o.force);
  if (o.data !== undefined) createRunFromData(o, modelName, o.data, reporter);
  else if (!existsSync(runPaths(run).info)) {
    throw new InputError((n) => `${run} has no run yet: give ${n.option('data')} PATH to create it`, { field: 'data' });
  }
  const { info, ds } = loadRunData(run);
  if (o.data === undefined) checkSplitForTraining(ds, modelName, reporter);
  // The new backbone (training log, weights, sidecar) replaces RUN/model in one swap once complete.
  const fresh = newModelFolder(run);
  const result = trainWithLog(o, ds, fresh.trainingLog, reporter);
  const evaluation = evaluateBase(result.model, ds);
  saveModel(fresh.dir, result.model, {
    idMaps: {
      user: { field: ds.userMap.field, tokens: [...ds.userMap.tokens] },
      item: { field: ds.itemMap.field, tokens: [...ds.itemMap.tokens] },
    },
    training: {
      ...result.config,
      best_epoch: result.bestEpoch,
      epochs_run: result.epochsRun,
      stopped_early: result.stoppedEarly,
      seconds: result.seconds,
    },
    dataFingerprint: info.fingerprint,
    metrics: { valid_ndcg10: evaluation.valid.ndcg, test_ndcg10: evaluation.test.ndcg },
  });
  commitNewModel(run, fresh.dir);
  const summary = writeBaseEvaluation(run, evaluation, modelName);
  noteStaleDerivedArtefacts(run, reporter);
  return {
    run,
    model: modelName,
    best_epoch: result.bestEpoch,
    epochs_run: result.epochsRun,
    stopped_early: result.stoppedEarly,
    convergence: backboneConvergence({
      epochs_run: result.epochsRun,
      best_epoch: result.bestEpoch,
      stopped_early: result.stoppedEarly,
    }),
    seconds: result.seconds,
    ...summary,
  };
}
