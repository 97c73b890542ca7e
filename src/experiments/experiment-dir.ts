/**
 * RUN/experiments/NAME: one fine-tuning experiment's folder and its files (layout in the
 * README). Every command that reads or writes an experiment goes through this.
 */
import { join } from 'node:path';
import { LOG_FILE, RESUME_FILE, SUMMARY_FILE } from '../calibration/finetuner.js';

export const EXPERIMENT_FILE = 'experiment.json';
export const CONFIG_FILE = 'config.json';

export function experimentPaths(run: string, name: string) {
  const dir = join(run, 'experiments', name);
  return {
    dir,
    experiment: join(dir, EXPERIMENT_FILE),
    config: join(dir, CONFIG_FILE),
    log: join(dir, LOG_FILE),
    resume: join(dir, RESUME_FILE),
    summary: join(dir, SUMMARY_FILE),
    checkpoints: join(dir, 'checkpoints'),
  };
}
