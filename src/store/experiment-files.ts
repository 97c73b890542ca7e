/**
 * RUN/experiments/NAME: one fine-tuning experiment's folder (layout in the README):
 *   config.json, experiment.json   the validated configuration and what it ran on
 *   log.jsonl                      the epoch log (src/store/epoch-log.ts)
 *   resume.safetensors             the fine-tuner's state after its last finished epoch
 *   summary.json                   stop reason and the validation-selected epoch per mode
 *   checkpoints/                   src/store/checkpoint-files.ts
 */
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomic } from '../util/atomic.js';
import { checkExperimentName, isValidExperimentName } from './experiment-name.js';
import { readExperimentConfigFile } from './experiment-json.js';
import { checkpointFolderName } from './checkpoint-files.js';
import { isUnfinishedWrite, removeUnfinishedWrites } from './unfinished-writes.js';

/** Folder of a run that holds one folder per experiment. */
export const EXPERIMENTS_DIR = 'experiments';
/** An experiment's record: name, inputs, model, preparation and settings. */
export const EXPERIMENT_FILE = 'experiment.json';
/** An experiment's resolved fine-tuning configuration. */
export const CONFIG_FILE = 'config.json';
/** An experiment's epoch log, one JSON line per epoch. */
export const LOG_FILE = 'log.jsonl';
/** An experiment's resume state: weights, optimizer, random state, epoch. */
export const RESUME_FILE = 'resume.safetensors';
/** An experiment's fine-tuning summary. */
export const SUMMARY_FILE = 'summary.json';
/** An experiment's checkpoints folder. */
export const CHECKPOINTS_DIR = 'checkpoints';

/** RUN/experiments. */
export function experimentsDir(run: string): string {
  return join(run, EXPERIMENTS_DIR);
}

/** The files of experiment `name` (UserError when the name breaks the naming rule). */
export function experimentPaths(run: string, name: string) {
  checkExperimentName(name);
  return experimentDirPaths(join(experimentsDir(run), name));
}

/** The files of an experiment folder given by its path. */
export function experimentDirPaths(dir: string) {
  return {
    dir,
    experiment: join(dir, EXPERIMENT_FILE),
    config: join(dir, CONFIG_FILE),
    log: join(dir, LOG_FILE),
    resume: join(dir, RESUME_FILE),
    summary: join(dir, SUMMARY_FILE),
    checkpoints: join(dir, CHECKPOINTS_DIR),
  };
}

/** Entries of RUN/experiments (any name), or [] when there is no such folder. */
export function experimentsDirEntries(run: string): string[] {
  const dir = experimentsDir(run);
  return existsSync(dir) ? readdirSync(dir) : [];
}

/** Names of the experiment folders of a run (folders with a valid experiment name), unsorted. */
export function experimentFolderNames(run: string): string[] {
  const dir = experimentsDir(run);
  const names: string[] = [];
  for (const f of experimentsDirEntries(run)) {
    try {
      if (isValidExperimentName(f) && statSync(join(dir, f)).isDirectory()) names.push(f);
    } catch {
      /* vanished */
    }
  }
  return names;
}

/** config.json of an experiment as stored (an object, checked), or undefined when absent. */
export function readExperimentConfig(run: string, name: string): unknown {
  return readExperimentConfigFile(experimentPaths(run, name).config);
}

/** Writes config.json (the validated configuration) and experiment.json (what it ran on) of a new experiment. */
export function writeExperimentStart(run: string, name: string, config: unknown, experiment: unknown): void {
  const p = experimentPaths(run, name);
  writeJsonAtomic(p.config, config);
  writeJsonAtomic(p.experiment, experiment);
}

/** Whether the experiment has a resume state (a fine-tuning ran in it). */
export function hasResumeState(run: string, name: string): boolean {
  return existsSync(experimentPaths(run, name).resume);
}

/**
 * After a crash, before resuming: a checkpoint folder missing from the index (`indexed`) was
 * being written (the index is written last), and `.NAME.tmp-*` files are unfinished atomic
 * writes. Both are removed; the resumed run writes them again.
 */
export function removeIncompleteExperimentWrites(run: string, name: string, indexed: readonly number[]): void {
  const p = experimentPaths(run, name);
  removeUnfinishedWrites(p.dir);
  if (!existsSync(p.checkpoints)) return;
  const known = new Set(indexed.map(checkpointFolderName));
  for (const f of readdirSync(p.checkpoints)) {
    if (isUnfinishedWrite(f)) rmSync(join(p.checkpoints, f), { force: true });
    else if (/^epoch_\d+$/.test(f) && !known.has(f)) rmSync(join(p.checkpoints, f), { recursive: true, force: true });
    else if (known.has(f)) removeUnfinishedWrites(join(p.checkpoints, f));
  }
}
