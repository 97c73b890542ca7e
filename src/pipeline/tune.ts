/**
 * Tune a backbone's hyper-parameters: trials sampled from a search space (src/tune/search-space.ts)
 * train on the run's split with validation NDCG@10 after each epoch; under ASHA
 * (src/tune/asha.ts) a trial goes past a rung only when it ranks in the top of the trials that
 * reached it. Every trial is recorded in the run's registry (a study and its trials); the best
 * trial's configuration is written as RUN/tune/STUDY/best.yaml, and with `trainBest` trained as
 * the run's backbone.
 *
 * - Determinism: a trial's result depends only on its configuration and seed (one BLAS thread
 *   per trial, whatever the workers), and the scheduler takes a rung's reports in trial order
 *   (src/tune/ordered-decisions.ts), so the same seed gives the same trials, decisions and best
 *   trial for any number of workers.
 * - Resume: rerunning the same command continues the study: ended trials are kept and replayed
 *   into the scheduler, interrupted ones (left running by a kill) train again from the start.
 *   A study's trials are a prefix of one sampled sequence, so a rerun with more trials extends it.
 * - Locks: the run lock while the run is created from `data`; the grid lock (the registry's one
 *   writer) while trials run; `trainBest` then trains under the run lock like `train`.
 * - Queue: with `queue`, the trials run as jobs on a Redis queue served by queue workers
 *   (tune-queue.ts); this process stays the coordinator, with the same results as a local tune.
 */
import type { ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import type { ReadOptions } from '../data/readers.js';
import { checkQueueReachable, parseQueueUrl, type QueueConnection } from '../experiments/queue-connection.js';
import { planTrials, registerStudy, studyTrials, type TrialRow } from '../experiments/registry-trials.js';
import type { Registry } from '../experiments/registry.js';
import { isRunDirectory, runPaths } from '../store/run.js';
import { withRunLock } from '../store/run-locks.js';
import { removeUnfinishedWritesOfDeadProcesses } from '../store/unfinished-writes.js';
import { BACKBONE_SPECS, isModelType, MODEL_TYPES, type ModelType } from '../train/configs/index.js';
import { OrderedDecisions } from '../tune/ordered-decisions.js';
import { sampleTrials, type SearchSpace } from '../tune/search-space.js';
import { InputError } from '../util/errors.js';
import { DEFAULT_SEED } from '../util/seed.js';
import { withRegistryAndSignals } from './grid-runner.js';
import { parseOptions } from './options.js';
import { silentReporter, type Reporter } from './reporter.js';
import { createRunFromData, train, trainOptionsSchema, type TrainResult } from './train.js';
import { describeTrial, reportStudy } from './tune-report.js';
import {
  bestTrial,
  readSearchSpace,
  studyMaxEpochs,
  studyPaths,
  studyScheduler,
  trialTrainingConfig,
  writeBestConfig,
} from './tune-study.js';
import { runTrialsOnQueue, TRIAL_ATTEMPTS } from './tune-queue.js';
import { runTrials } from './tune-trials.js';

const isObject = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Options of {@link tune}. */
export const tuneOptionsSchema = z
  .object({
    /** Run directory: created from `data` when it is not a run yet. */
    run: z.string().min(1),
    /** Interaction file or dataset folder to create the run from. */
    data: z.string().min(1).optional(),
    /** How to read `data`. */
    read: z.custom<ReadOptions>(isObject, { message: 'must be an object of read options' }).default({}),
    /** Backbone to tune: bpr, dmf or multivae. */
    model: z.string(),
    /** YAML file of the search space (src/tune/search-space.ts). */
    space: z.string().min(1),
    /** Trials to sample (a rerun with more extends the study). */
    trials: z.number().int().min(1),
    /** asha: early stopping at rungs; none: every trial trains to its own end. */
    scheduler: z.enum(['asha', 'none']).default('asha'),
    /** Trial processes at a time (default: one per core, at most one per trial); not with `queue`. */
    workers: z.number().int().min(1).optional(),
    /** Run the trials as jobs on this Redis queue (redis:// or rediss:// URL), for queue workers. */
    queue: z.string().min(1).optional(),
    /** The most epochs a trial trains (default: the epoch caps of the space or the backbone). */
    budgetEpochs: z.number().int().min(1).optional(),
    /** Seed of the sampling and of every trial's training. */
    seed: z.number().int().default(DEFAULT_SEED),
    /** Seed of the split when the run is created (default: seed). */
    splitSeed: z.number().int().optional(),
    /** The study's name in the registry (default MODEL-SCHEDULER). */
    study: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be letters, digits, dots, dashes, underscores')
      .optional(),
    /** Train the best trial's configuration as the run's backbone. */
    trainBest: z.boolean().default(false),
    /** With trainBest: replace a backbone that has derived artefacts. */
    force: z.boolean().default(false),
  })
  .strict();

/** What {@link tune} takes (see {@link tuneOptionsSchema}). */
export type TuneOptions = z.input<typeof tuneOptionsSchema>;
type Options = z.output<typeof tuneOptionsSchema>;

/** A study's outcome: counts, epochs trained, the best trial and where its configuration went. */
export interface TuneResult {
  run: string;
  study: string;
  model: ModelType;
  scheduler: 'asha' | 'none';
  /** ASHA's rungs in epochs (empty for none). */
  rungs: number[];
  trials: number;
  ran: number;
  skipped: number;
  completed: number;
  stopped: number;
  failed: number;
  /** Epochs trained by the study's trials (all of them, this call's and earlier ones). */
  epochsTrained: number;
  workers: number;
  seconds: number;
  best: { id: string; config: Record<string, unknown>; validNdcg: number; epoch: number } | null;
  /** RUN/tune/STUDY/best.yaml (null without a best trial). */
  bestConfigFile: string | null;
  /** The backbone trained from the best configuration (trainBest). */
  trained: TrainResult | null;
}

/** A study ready to run: its space, sampled trial configurations, scheduler and rungs. */
interface Study {
  name: string;
  model: ModelType;
  space: SearchSpace;
  configs: Record<string, unknown>[];
  kind: 'asha' | 'none';
  maxEpochs: number;
  settings: Record<string, unknown>;
}

function checkedModel(name: string): ModelType {
  if (!isModelType(name) || !BACKBONE_SPECS[name].trained) {
    const trained = MODEL_TYPES.filter((m) => BACKBONE_SPECS[m].trained);
    throw new InputError((n) => `${n.option('model')} must be one of ${trained.join(', ')} (got '${name}')`, {
      field: 'model',
    });
  }
  return name;
}

function planStudy(o: Options): Study {
  const model = checkedModel(o.model);
  const space = readSearchSpace(o.space, model);
  const sampled = sampleTrials(space, o.trials, o.seed);
  const configs = sampled.map((t) => trialTrainingConfig(model, t, o.seed, o.budgetEpochs));
  const maxEpochs = studyMaxEpochs(space, o.budgetEpochs);
  const { scheduler } = studyScheduler(o.scheduler, maxEpochs);
  const settings = {
    space: space.dimensions,
    seed: o.seed,
    scheduler: scheduler.state(),
    budgetEpochs: o.budgetEpochs ?? null,
  };
  const name = o.study ?? `${model}-${o.scheduler}`;
  return { name, model, space, configs, kind: o.scheduler, maxEpochs, settings };
}

/**
 * Tunes a backbone on a run (see the file comment): samples the trials, runs them under the
 * scheduler, records them in the registry, writes the best configuration, and with `trainBest`
 * trains it as the run's backbone.
 */
export async function tune(options: TuneOptions, reporter: Reporter = silentReporter): Promise<TuneResult> {
  const o = parseOptions(tuneOptionsSchema, options);
  const t0 = performance.now();
  const study = planStudy(o);
  const conn = await queueConnection(o);
  await ensureRun(o, study.model, reporter);
  const note = (line: string) => reporter.warn(line);
  const result = await withRunLock({ run: o.run, target: 'grid', command: 'tune', note }, (lock) => {
    const children = new Set<ChildProcess>();
    const cleanUp = (registry: Registry | undefined) => {
      for (const c of children) c.kill('SIGKILL');
      registry?.close();
      lock.release();
    };
    const runner: TrialRunner = { conn, children };
    return withRegistryAndSignals(o.run, cleanUp, (registry) => runStudy(o, study, registry, runner, reporter));
  });
  const trained = o.trainBest && result.best ? await trainBest(o, study, result.best.config, reporter) : null;
  return { ...result, trained, seconds: (performance.now() - t0) / 1000 };
}

/** The queue's connection, checked reachable before anything is written (undefined without a queue). */
async function queueConnection(o: Options): Promise<QueueConnection | undefined> {
  if (o.queue === undefined) return undefined;
  if (o.workers !== undefined) {
    throw new InputError(
      (n) => `${n.option('workers')} does not apply with ${n.option('queue')}: the queue's workers run the trials`,
      { field: 'workers' },
    );
  }
  const conn = parseQueueUrl(o.queue);
  await checkQueueReachable(conn);
  return conn;
}

/** Creates the run from `data` (under the run lock) unless it is a run already; without `data` it must be. */
async function ensureRun(o: Options, model: ModelType, reporter: Reporter): Promise<void> {
  if (isRunDirectory(o.run)) {
    if (o.data !== undefined) reporter.warn(`tune: note: ${o.run} is a run already: its split is used, not data`);
    return;
  }
  if (o.data === undefined) {
    throw new InputError((n) => `${o.run} has no run yet: give ${n.option('data')} PATH to create it`, {
      field: 'data',
    });
  }
  const data = o.data;
  const note = (line: string) => reporter.warn(line);
  await withRunLock({ run: o.run, target: 'run', command: 'tune', note }, () => {
    if (!isRunDirectory(o.run)) createRunFromData(o, model, data, reporter);
  });
}

/** How the trials run: on a queue (its connection) or as local processes (the started ones, to kill on a signal). */
interface TrialRunner {
  conn: QueueConnection | undefined;
  children: Set<ChildProcess>;
}

async function runStudy(
  o: Options,
  study: Study,
  registry: Registry,
  runner: TrialRunner,
  reporter: Reporter,
): Promise<Omit<TuneResult, 'trained'>> {
  const paths = studyPaths(o.run, study.name);
  removeUnfinishedWritesOfDeadProcesses(paths.dir);
  registerStudy(registry, study.name, study.model, study.settings);
  const rows = planTrials(registry, study.name, study.configs);
  const { scheduler, rungs } = studyScheduler(study.kind, study.maxEpochs);
  const decisions = new OrderedDecisions(scheduler, rungs, (i) => rows[i]!.id);
  const todo = rows.filter((r) => r.status === 'queued');
  for (const r of rows) if (r.status !== 'queued') replayTrial(decisions, r);
  const cores = Math.max(1, availableParallelism());
  let workers = Math.max(1, Math.min(o.workers ?? cores, Math.max(1, todo.length)));
  const where = runner.conn
    ? `as jobs on the queue ${runner.conn.shown} (${TRIAL_ATTEMPTS} attempt(s) each; start workers on it)`
    : `with ${workers} worker process(es)`;
  reporter.info(
    `tune ${study.model}: study ${study.name}, ${rows.length} trial(s), ${rows.length - todo.length} already ` +
      `ended, ${todo.length} to run ${where}; scheduler ${study.kind}` +
      (rungs.length > 0 ? ` (rungs at ${rungs.join(', ')} epochs, max ${study.maxEpochs})` : ''),
  );
  const progress = reporter.progress(`tune ${study.name}`, todo.length);
  let ended = 0;
  const onTrialEnd = (row: TrialRow) => {
    ended++;
    progress.update(ended, row.id);
    reporter.info(`[${rows.length - todo.length + ended}/${rows.length}] ${describeTrial(row)}`);
  };
  const ctx = { run: o.run, model: study.model, rungs, registry, decisions, onTrialEnd };
  if (runner.conn) {
    const queued = { ...ctx, run: resolve(o.run), study: study.name, conn: runner.conn, reporter };
    workers = await runTrialsOnQueue(queued, todo);
  } else {
    await runTrials({ ...ctx, workers, children: runner.children }, todo);
  }
  progress.done();
  const all = studyTrials(registry, study.name).filter((r) => r.idx < study.configs.length);
  const best = bestTrial(all);
  if (best) writeBestConfig(paths.bestConfig, study.model, best);
  reportStudy(reporter, all, best, best ? paths.bestConfig : null);
  return summary(o, study, all, { todo, rungs, workers, best, bestConfigFile: best ? paths.bestConfig : null });
}

/** Gives the decisions the rungs and end of a trial that ended in an earlier call. */
function replayTrial(decisions: OrderedDecisions, r: TrialRow): void {
  r.rungs.forEach((rung, k) => {
    decisions.report(r.idx, k, rung.metric ?? NaN);
  });
  decisions.end(r.idx, r.status === 'stopped' ? (r.stopped_at ?? 0) : (r.epochs_run ?? r.curve.length));
}

function summary(
  o: Options,
  study: Study,
  all: readonly TrialRow[],
  s: { todo: readonly TrialRow[]; rungs: number[]; workers: number; best?: TrialRow; bestConfigFile: string | null },
): Omit<TuneResult, 'trained'> {
  const count = (status: TrialRow['status']) => all.filter((r) => r.status === status).length;
  return {
    run: o.run,
    study: study.name,
    model: study.model,
    scheduler: study.kind,
    rungs: s.rungs,
    trials: all.length,
    ran: s.todo.length,
    skipped: all.length - s.todo.length,
    completed: count('completed'),
    stopped: count('stopped'),
    failed: count('failed'),
    epochsTrained: all.reduce((n, r) => n + (r.epochs_run ?? r.curve.length), 0),
    workers: s.workers,
    seconds: 0,
    best: s.best
      ? { id: s.best.id, config: s.best.config, validNdcg: s.best.best_valid_ndcg!, epoch: s.best.best_epoch! }
      : null,
    bestConfigFile: s.bestConfigFile,
  };
}

/** Trains the best configuration as the run's backbone (the run lock; `force` as for train). */
async function trainBest(
  o: Options,
  study: Study,
  config: Record<string, unknown>,
  reporter: Reporter,
): Promise<TrainResult> {
  const { seed, ...hyperparameters } = config;
  reporter.info(`tune: training the best configuration as the backbone of ${runPaths(o.run).model}`);
  return train(
    parseOptions(trainOptionsSchema, {
      run: o.run,
      model: study.model,
      seed: typeof seed === 'number' ? seed : o.seed,
      hyperparameters,
      force: o.force,
    }),
    reporter,
  );
}
