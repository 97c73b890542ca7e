/**
 * Provenance of derived artefacts: the fingerprints of the inputs an artefact was computed from,
 * recorded when it is written and checked when it is read, so that a stale artefact (its backbone
 * retrained, its run prepared again) is refused instead of scored next to new numbers.
 *
 *   backbone   SHA-256 of RUN/model/model.safetensors (the weights; the sidecar's timings aside)
 *   prepare    SHA-256 of the prepare outputs CP and fine-tuning use (item groups, user targets)
 *
 * Recorded in: RUN/postprocess/summary.json and RUN/experiments/NAME/experiment.json ('inputs').
 * Artefacts written before provenance was recorded carry none and are not checked.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { modelPaths } from './model-files.js';
import { preparePaths } from './prepare-files.js';
import { experimentPaths } from './experiment-files.js';

/** The fingerprints of the inputs of a derived artefact (a field is absent when that input is). */
export interface InputFingerprints {
  backbone?: string;
  prepare?: string;
}

function sha256Of(files: readonly string[]): string | undefined {
  if (!files.every((f) => existsSync(f))) return undefined;
  const h = createHash('sha256');
  for (const f of files) h.update(readFileSync(f));
  return h.digest('hex');
}

/** The fingerprints of the run's backbone weights and prepare outputs as they are now. */
export function currentInputFingerprints(run: string): InputFingerprints {
  const out: InputFingerprints = {};
  const backbone = sha256Of([modelPaths(run).tensors]);
  const pp = preparePaths(run);
  const prepare = sha256Of([pp.itemGroups, pp.userTargets]);
  if (backbone !== undefined) out.backbone = backbone;
  if (prepare !== undefined) out.prepare = prepare;
  return out;
}

/**
 * Which recorded inputs differ from the run's current ones ('backbone', 'prepare'); none when
 * nothing was recorded (an artefact from before provenance) or everything matches.
 */
export function staleInputs(run: string, recorded: InputFingerprints | undefined): (keyof InputFingerprints)[] {
  if (recorded === undefined || recorded === null || typeof recorded !== 'object') return [];
  const now = currentInputFingerprints(run);
  return (['backbone', 'prepare'] as const).filter((k) => typeof recorded[k] === 'string' && recorded[k] !== now[k]);
}

/** What changed, in words: "the backbone was trained or imported again and prepare ran again". */
export function describeStaleInputs(stale: readonly (keyof InputFingerprints)[]): string {
  const words = { backbone: 'the backbone was trained or imported again', prepare: 'prepare ran again' };
  return stale.map((s) => words[s]).join(' and ');
}

/** The input fingerprints an experiment's experiment.json records (undefined: none, or unreadable). */
export function experimentInputs(run: string, name: string): InputFingerprints | undefined {
  const path = experimentPaths(run, name).experiment;
  if (!existsSync(path)) return undefined;
  try {
    const inputs = (JSON.parse(readFileSync(path, 'utf8')) as { inputs?: InputFingerprints }).inputs;
    return inputs !== null && typeof inputs === 'object' ? inputs : undefined;
  } catch {
    return undefined;
  }
}
