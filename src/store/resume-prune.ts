/**
 * Pruning an experiment's resume state (resume.safetensors, the fine-tuner's full state after its
 * last epoch): when an experiment counts as completed, and the marker resume-pruned.json that
 * records a prune. The marker is what tells the overwrite guard that a folder without a resume
 * state still holds a finished experiment (src/pipeline/finetune.ts).
 *
 * Completed means: summary.json exists (the fine-tuner writes it only when the run ended by early
 * stopping or num_epochs, never when interrupted) and the epoch log does not reach past the
 * summary's epochsRun. The second part is a safeguard: a resume restores a finished run's stop
 * reason and so does not continue it today, but a continuation past the summary that was killed
 * would leave a newer log behind an older summary, and its resume state would be how it goes on.
 */
import { existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeJsonAtomic } from '../util/atomic.js';
import { wholeNumber } from '../util/json-schema.js';
import { readEpochLog } from './epoch-log.js';
import { experimentPaths } from './experiment-files.js';
import { readExperimentSummary } from './experiment-json.js';
import { readJsonArtefact } from './json-files.js';

/** The marker of a pruned resume state, in the experiment's folder. */
export const RESUME_PRUNED_FILE = 'resume-pruned.json';

const pruneRecordSchema = z
  .object({ pruned_at: z.string(), epochs_run: wholeNumber, bytes: wholeNumber })
  .passthrough();

/** What resume-pruned.json records: when, after how many epochs, and the size of the removed file. */
export interface ResumePruneRecord {
  /** When the resume state was removed (ISO 8601). */
  pruned_at: string;
  /** The epochs the experiment had run (its summary's epochsRun). */
  epochs_run: number;
  /** Size of the removed resume.safetensors in bytes. */
  bytes: number;
}

/** Whether an experiment's fine-tuning finished, and if not, why it counts as unfinished. */
export type ExperimentCompletion = { completed: true; epochsRun: number } | { completed: false; why: string };

function prunedMarkerPath(run: string, name: string): string {
  return join(experimentPaths(run, name).dir, RESUME_PRUNED_FILE);
}

/** The experiment's prune record, or undefined when its resume state was never pruned. */
export function readResumePruneRecord(run: string, name: string): ResumePruneRecord | undefined {
  const path = prunedMarkerPath(run, name);
  return existsSync(path) ? readJsonArtefact(path, pruneRecordSchema) : undefined;
}

/** Whether the experiment's resume state was pruned (the marker exists). */
export function isResumePruned(run: string, name: string): boolean {
  return existsSync(prunedMarkerPath(run, name));
}

/** Whether the experiment's fine-tuning completed (see the file comment). */
export function experimentCompletion(run: string, name: string): ExperimentCompletion {
  const p = experimentPaths(run, name);
  const summary = readExperimentSummary(p.summary);
  if (summary === undefined) return { completed: false, why: 'no summary.json: its fine-tuning has not finished' };
  const epochsRun = summary.epochsRun;
  if (epochsRun === undefined) return { completed: false, why: 'its summary.json does not say how many epochs ran' };
  const log = readEpochLog(p.log);
  const last = log.reduce((m, r) => Math.max(m, r.epoch), 0);
  if (last > epochsRun) {
    return {
      completed: false,
      why: `its log reaches epoch ${last}, past the ${epochsRun} of summary.json: a resumed fine-tuning has not finished`,
    };
  }
  return { completed: true, epochsRun };
}

/** Size in bytes of the experiment's resume state, or undefined when there is none. */
export function resumeStateBytes(run: string, name: string): number | undefined {
  const path = experimentPaths(run, name).resume;
  return existsSync(path) ? statSync(path).size : undefined;
}

/**
 * Removes the experiment's resume state after recording the prune. The marker is written first:
 * a prune killed in between leaves marker and file, which the next prune removes; the other order
 * could leave a finished experiment that the overwrite guard no longer sees. The caller holds the
 * experiment's lock and has checked that it completed. Returns the bytes freed.
 */
export function pruneResumeState(run: string, name: string, epochsRun: number): number {
  const p = experimentPaths(run, name);
  const bytes = resumeStateBytes(run, name) ?? 0;
  const earlier = readResumePruneRecord(run, name);
  const record: ResumePruneRecord = { pruned_at: new Date().toISOString(), epochs_run: epochsRun, bytes };
  if (earlier === undefined) writeJsonAtomic(prunedMarkerPath(run, name), record);
  rmSync(p.resume, { force: true });
  return bytes;
}
