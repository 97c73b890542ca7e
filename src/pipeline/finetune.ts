/**
 * CaliTune fine-tuning of a run's backbone as experiment RUN/experiments/NAME: configuration,
 * checks of the run, the experiment record, then the fine-tuner (src/calibration/finetuner.ts)
 * with checkpoints, epoch log and the validation-selected epochs.
 */
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { loadRunData } from '../store/run.js';
import { withRunLock } from '../store/run-locks.js';
import { experimentPaths } from '../store/experiment-files.js';
import { experimentJournal } from '../store/finetune-journal.js';
import { readResumePruneRecord } from '../store/resume-prune.js';
import { experimentNameProblem, isValidExperimentName } from '../store/experiment-name.js';
import { loadPrepared } from '../store/prepare-files.js';
import { hasModel } from '../store/model-files.js';
import type { Prepared } from '../calibration/prepare.js';
import {
  calibrationAlpha,
  checkFinetuneConfigForData,
  loadFinetuneConfig,
  validateFinetuneConfig,
  type FinetuneConfig,
  type LoadedFinetuneConfig,
} from '../calibration/finetune-config.js';
import { CheckpointStore } from '../store/checkpoint-store.js';
import { KEEP_POLICIES, type KeepPolicy } from '../calibration/checkpoints.js';
import {
  checkUserAdapter,
  finetune as runFinetuner,
  finetuneUsers,
  type FinetuneSummary,
} from '../calibration/finetuner.js';
import { Validator } from '../calibration/validation.js';
import { checkGroupOffsets } from '../calibration/group-offsets.js';
import type { Recommender } from '../models/recommender.js';
import type { SplitDataset } from '../data/types.js';
import type { RunInfo } from '../store/run.js';
import { writeJsonAtomic } from '../util/atomic.js';
import { currentInputFingerprints, describeStaleInputs, experimentInputs, staleInputs } from '../store/provenance.js';
import { InputError, UserError } from '../util/errors.js';
import { parseOptions } from './options.js';
import { silentReporter, type Reporter } from './reporter.js';
import { loadRunModel } from './run-model.js';

/**
 * Options of {@link finetune}: run, experiment name, configuration file and overrides, checkpoint policy,
 * resume, and the popularity source that `prepare` must have used.
 */
export const finetuneOptionsSchema = z
  .object({
    /** Run directory with a backbone and 'prepare' done. */
    run: z.string().min(1),
    /** Experiment name: output goes to RUN/experiments/NAME/. */
    experiment: z.string().min(1),
    /** Fine-tuning configuration (YAML); may be left out when resuming (the saved one is used). */
    configFile: z.string().min(1).optional(),
    /** `key=value` overrides of configuration keys. */
    overrides: z.array(z.string()).default([]),
    /** Which checkpoint weights to keep. */
    keep: z.enum(KEEP_POLICIES as [KeepPolicy, ...KeepPolicy[]]).default('frontier'),
    /** Continue an interrupted run from its last finished epoch. */
    resume: z.boolean().default(false),
    /** Check that 'prepare' used this popularity source. */
    popularitySource: z.enum(['train', 'all']).optional(),
  })
  .strict();

/**
 * What {@link finetune} takes: `run`, `experiment` and `configFile` (YAML; keys left out take their
 * defaults), optionally `overrides` ('key=value'), `keep`, `resume`, `popularitySource`.
 */
export type FinetuneOptions = z.input<typeof finetuneOptionsSchema>;
type Options = z.output<typeof finetuneOptionsSchema>;

/**
 * The finished (or interrupted) fine-tuning: its folder, configuration, the epochs run, why it stopped,
 * the validation-selected epoch per mode and which checkpoint weights were kept.
 */
export type FinetuneResult = {
  run: string;
  name: string;
  dir: string;
  /** Seconds of this session. */
  seconds: number;
  config: FinetuneConfig;
  notes: string[];
  keep: KeepPolicy;
  /** Epochs whose weights are kept. */
  weights_kept: number[];
} & FinetuneSummary;

/** The configuration: the given file (with overrides), or a resumed run's saved one. */
function loadConfiguration(o: Options, savedConfig: string): LoadedFinetuneConfig {
  if (o.configFile !== undefined) return loadFinetuneConfig(o.configFile, o.overrides);
  if (o.resume && existsSync(savedConfig)) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(savedConfig, 'utf8'));
    } catch (e) {
      throw new UserError(`not valid JSON (${(e as Error).message})`, savedConfig);
    }
    const loaded = validateFinetuneConfig(raw, savedConfig);
    if (o.overrides.length) {
      throw new InputError(
        (n) =>
          `${n.option('overrides')} needs ${n.option('configFile')} ` +
          '(the saved configuration of a resumed run is used as is)',
        { field: 'overrides' },
      );
    }
    return loaded;
  }
  throw new InputError((n) => `${n.option('configFile')} is required`, { field: 'configFile' });
}

interface Inputs {
  info: RunInfo;
  ds: SplitDataset;
  prep: Prepared;
  model: Recommender;
  users: Int32Array;
  emptyUsers: number;
}

/** Run data, preparation and backbone, checked against each other and the configuration. */
function loadInputs(o: Options, config: FinetuneConfig, reporter: Reporter): Inputs {
  const { run } = o;
  const { info, ds } = loadRunData(run);
  checkFinetuneConfigForData(config, ds.nItems);
  const prep = loadPrepared(run, { nUsers: ds.nUsers, nItems: ds.nItems });
  const wanted = o.popularitySource;
  if (wanted !== undefined && prep.summary.popularity_source !== wanted) {
    const used = prep.summary.popularity_source;
    throw new InputError(
      (n) =>
        `the run was prepared with ${n.option('popularitySource')} ${used}, not ${wanted}: ` +
        `re-run '${n.step('prepare', { run, popularitySource: wanted })}'`,
      { field: 'popularitySource' },
    );
  }
  if (!hasModel(run)) {
    throw new InputError(
      (n) => `${run} has no backbone model yet: run '${n.step('train', { run })}' or '${n.step('import')}' first`,
      { field: 'run' },
    );
  }
  const { model } = loadRunModel(run, info, ds, 'backbone');
  checkUserAdapter(model, config.user_adapter);
  checkGroupOffsets(model, config.group_offsets);
  const users = finetuneUsers(ds.train);
  const emptyUsers = ds.nUsers - 1 - users.length;
  if (emptyUsers > 0) {
    reporter.warn(
      `warning: ${emptyUsers} user(s) have no train items: ` +
        'they are left out of fine-tuning (still evaluated, with P = 0)',
    );
  }
  return { info, ds, prep, model, users, emptyUsers };
}

/** experiment.json and config.json of a new experiment. */
function writeExperimentRecord(o: Options, loaded: LoadedFinetuneConfig, inputs: Inputs): void {
  const ep = experimentPaths(o.run, o.experiment);
  const { model, prep, info } = inputs;
  writeJsonAtomic(ep.config, loaded.config);
  writeJsonAtomic(ep.experiment, {
    name: o.experiment,
    run: resolve(o.run),
    created: new Date().toISOString(),
    config_file: o.configFile !== undefined ? resolve(o.configFile) : null,
    overrides: o.overrides,
    notes: loaded.notes,
    keep: o.keep,
    model: { type: model.type, hyper: model.hyper, fingerprint: info.fingerprint },
    prepare: {
      popularity_source: prep.summary.popularity_source,
      proportions: prep.summary.proportions,
      n_groups: prep.nGroups,
      user_group_tie_break: prep.summary.user_groups.tie_break,
    },
    train_users: inputs.users.length,
    users_without_train_items: inputs.emptyUsers,
    selection_on: 'validation',
    inputs: currentInputFingerprints(o.run),
  });
}

/**
 * After a crash: a checkpoint folder missing from the index was being written (the index is
 * written last), and `.NAME.tmp-*` files are unfinished atomic writes. Both are removed before
 * resuming; the resumed run writes them again.
 */
function removeIncompleteWrites(dir: string, ckDir: string, indexed: readonly number[]): void {
  const known = new Set(indexed.map((e) => `epoch_${e}`));
  const isTmp = (f: string) => f.startsWith('.') && f.includes('.tmp-');
  for (const f of existsSync(dir) ? readdirSync(dir) : []) if (isTmp(f)) rmSync(join(dir, f), { force: true });
  if (!existsSync(ckDir)) return;
  for (const f of readdirSync(ckDir)) {
    if (isTmp(f)) rmSync(join(ckDir, f), { force: true });
    else if (/^epoch_\d+$/.test(f) && !known.has(f)) rmSync(join(ckDir, f), { recursive: true, force: true });
    else if (known.has(f))
      for (const g of readdirSync(join(ckDir, f))) if (isTmp(g)) rmSync(join(ckDir, f, g), { force: true });
  }
}

/**
 * A completed experiment whose resume state was pruned still exists (its checkpoints, log and summary
 * are what evaluate, report and serve read) but cannot be continued: both a fresh start over it and
 * a resume are refused, saying so.
 */
function refusePrunedExperiment(o: Options): void {
  const { run, experiment: name } = o;
  const pruned = readResumePruneRecord(run, name);
  if (pruned === undefined) return;
  const what = `experiment '${name}' finished after ${pruned.epochs_run} epoch(s) and its resume state was pruned`;
  if (o.resume) {
    throw new InputError(
      (n) => `${what} (${n.step('runs prune')}): it cannot be continued; choose another ${n.option('experiment')}`,
      { field: 'resume' },
    );
  }
  throw new InputError(
    (n) => `${what}; it already exists in ${experimentPaths(run, name).dir}: choose another ${n.option('experiment')}`,
    { field: 'experiment' },
  );
}

/** Resuming on another backbone or prepare would mix two fine-tunings in one experiment: refused. */
function refuseStaleResume(o: Options): void {
  const { run, experiment: name } = o;
  const stale = staleInputs(run, experimentInputs(run, name));
  if (stale.length === 0) return;
  throw new InputError(
    (n) =>
      `experiment '${name}' cannot be resumed: ${describeStaleInputs(stale)} since it started; ` +
      `choose another ${n.option('experiment')}`,
    { field: 'resume' },
  );
}

function announce(o: Options, config: FinetuneConfig, model: Recommender, dir: string, reporter: Reporter): void {
  reporter.info(`fine-tuning ${model.type} on ${o.run} → ${dir}`);
  reporter.info(
    `  α ${calibrationAlpha(config)} (${config.finetuning_mode}), ` +
      `${config.freeze_item_emb ? 'item embeddings frozen' : 'item embeddings trained'}, ` +
      `${config.user_adapter ? 'per-user adapter trained in place of the user-side tensors, ' : ''}` +
      `k ${config.k_candidates} ${config.candidate_selection} candidates, lr ${config.learning_rate}, ` +
      `batch ${config.train_batch_size}, seed ${config.random_seed}, up to ${config.num_epochs} epochs ` +
      `(patience ${config.early_stopping_patience}, target ${config.target_metric})`,
  );
}

/** The fine-tuner on the loaded inputs, with progress (best valid NDCG / JSD so far). */
function runEpochs(
  o: Options,
  config: FinetuneConfig,
  inputs: Inputs,
  store: CheckpointStore,
  reporter: Reporter,
): FinetuneSummary {
  const { ds, prep, model } = inputs;
  const k = config.top_k_ndcg;
  const validator = new Validator({
    ds,
    itemGroups: prep.itemGroup,
    nGroups: prep.nGroups,
    targets: prep.targets,
    k,
    removeValidItems: config.remove_valid_items,
  });
  const progress = reporter.progress(`finetune ${o.experiment}`, config.num_epochs);
  let bestN = -Infinity,
    bestJ = Infinity;
  try {
    return runFinetuner({
      model,
      config,
      sink: store,
      resume: o.resume,
      journal: experimentJournal(experimentPaths(o.run, o.experiment).dir),
      data: { train: ds.train, itemGroups: prep.itemGroup, nGroups: prep.nGroups, userTargets: prep.targets },
      validate: validator.validate,
      fusedValidate: validator.fused,
      onEpoch: (r) => {
        if (r.epoch >= 1) {
          bestN = Math.max(bestN, r.valid_ndcg);
          bestJ = Math.min(bestJ, r.jsd);
        }
        const best =
          r.epoch >= 1 ? ` | best NDCG ${bestN.toFixed(4)} JSD ${bestJ.toFixed(4)}` : ' (before fine-tuning)';
        progress.update(
          r.epoch,
          `valid NDCG@${k} ${r.valid_ndcg.toFixed(4)} test-list JSD@${k} ${r.jsd.toFixed(4)}${best}`,
        );
      },
    });
  } finally {
    progress.done();
  }
}

/**
 * CaliTune fine-tuning of a run's backbone as experiment RUN/experiments/NAME, writing the epoch log and
 * checkpoints; the run needs a backbone and {@link prepare}. Test labels are never used. Holds the experiment's
 * lock meanwhile (a second writer of the same experiment fails at once).
 */
export async function finetune(options: FinetuneOptions, reporter: Reporter = silentReporter): Promise<FinetuneResult> {
  const o = parseOptions(finetuneOptionsSchema, options);
  const { run, experiment: name } = o;
  if (!isValidExperimentName(name)) {
    throw new InputError((n) => experimentNameProblem(name, n.option('experiment')) ?? '', { field: 'experiment' });
  }
  const note = (line: string) => reporter.warn(line);
  const target = { experiment: name };
  return withRunLock({ run, target, command: 'finetune', note }, () => finetuneLocked(o, reporter));
}

/** finetune once the experiment's lock is held. */
async function finetuneLocked(o: Options, reporter: Reporter): Promise<FinetuneResult> {
  const { run, experiment: name } = o;
  const ep = experimentPaths(run, name);
  refusePrunedExperiment(o);
  const loaded = loadConfiguration(o, ep.config);
  const { config, notes } = loaded;
  for (const note of notes) reporter.warn(`note: ${note}`);
  const inputs = loadInputs(o, config, reporter);
  if (!o.resume && existsSync(ep.resume)) {
    throw new InputError(
      (n) =>
        `experiment '${name}' already exists in ${ep.dir}: ` +
        `resume it with ${n.option('resume')} or choose another ${n.option('experiment')}`,
      { field: 'experiment' },
    );
  }
  if (o.resume && !existsSync(ep.resume)) reporter.warn(`note: nothing to resume in ${ep.dir}: starting from epoch 0`);
  const fresh = !(o.resume && existsSync(ep.resume));
  if (!fresh) refuseStaleResume(o);
  if (fresh) writeExperimentRecord(o, loaded, inputs);
  announce(o, config, inputs.model, ep.dir, reporter);
  const store = new CheckpointStore(ep.checkpoints, o.keep);
  if (!fresh) removeIncompleteWrites(ep.dir, ep.checkpoints, store.epochs());
  const t0 = performance.now();
  const summary = runEpochs(o, config, inputs, store, reporter);
  const seconds = (performance.now() - t0) / 1000;
  const kept = store
    .records()
    .filter((r) => r.weights)
    .map((r) => r.epoch);
  return { run, name, dir: ep.dir, seconds, config, notes, keep: o.keep, weights_kept: kept, ...summary };
}
