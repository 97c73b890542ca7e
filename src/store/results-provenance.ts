/**
 * Provenance of results files (docs/architecture.md, "Provenance"): what RUN/results/NAME.json and
 * RUN/results/base_model.json were computed from, recorded when they are written ('inputs') and
 * checked by their readers, so that numbers of a replaced backbone, CP set or experiment are never
 * shown as current.
 *
 *   backbone     SHA-256 of the weights (./provenance.ts); null: scored from stored base lists
 *   prepare      SHA-256 of the prepare outputs; null: evaluated before prepare
 *   cp_set       SHA-256 of the CP set's lists (every λ and mode its summary lists); null: no set. Absent
 *                when CP lists could not be scored (no prepare)
 *   experiment   SHA-256 of the experiment's config.json, recorded inputs, checkpoint index (the epochs with
 *                their validation metrics) and which epochs have stored lists: changed by finetune --resume
 *                and by a new fine-tuning. Absent for base results
 * All are content hashes without dates or paths: the same steps with the same seeds give the same ones.
 *
 * A file written before results recorded inputs is read with a note (not checked).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, type Naming } from '../util/errors.js';
import { currentInputFingerprints, experimentInputs } from './provenance.js';
import { cpListFile, cpSetDir, storedCpLambdas } from './postprocess-files.js';
import { experimentPaths } from './experiment-files.js';
import {
  checkpointFolderEpochs,
  checkpointFolderName,
  checkpointIndexPath,
  checkpointListsPath,
} from './checkpoint-files.js';
import { BASE_RESULTS_NAME, readResults, resultsPaths, type ReadResultsOptions } from './results-files.js';
import type { ResultsFile } from '../eval/results-format.js';

/** The recorded inputs of a results file (see the file comment for each field). */
export interface ResultsInputs {
  backbone: string | null;
  prepare?: string | null;
  cp_set?: string | null;
  experiment?: string | null;
}

/** One of the inputs a results file records. */
export type ResultsInputKey = keyof ResultsInputs;
const INPUT_KEYS: readonly ResultsInputKey[] = ['backbone', 'prepare', 'cp_set', 'experiment'];

/** SHA-256 of the lists of the CP set the readers take (each λ and mode the summary lists), or null without one. */
export function cpSetFingerprint(run: string): string | null {
  const dir = cpSetDir(run);
  if (dir === undefined) return null;
  const h = createHash('sha256');
  for (const mode of ['valid', 'test'] as const) {
    for (const key of storedCpLambdas(run, mode)) {
      const file = join(dir, cpListFile(key, mode));
      h.update(`${key}/${mode}\n`);
      if (existsSync(file)) h.update(readFileSync(file));
    }
  }
  return h.digest('hex');
}

/** A file's bytes, or none when it is absent. */
const bytesOf = (path: string): Uint8Array => (existsSync(path) ? readFileSync(path) : new Uint8Array());

/** SHA-256 of experiment `name` as the file comment says (null: no experiment.json). */
export function experimentFingerprint(run: string, name: string): string | null {
  const p = experimentPaths(run, name);
  if (!existsSync(p.experiment)) return null;
  const recorded = experimentInputs(run, name);
  const h = createHash('sha256').update(bytesOf(p.config));
  h.update(`\n${JSON.stringify(recorded ?? null)}\n`).update(bytesOf(checkpointIndexPath(p.checkpoints)));
  for (const epoch of checkpointFolderEpochs(p.checkpoints)) {
    const rel = checkpointFolderName(epoch);
    const splits = (['valid', 'test'] as const).filter((s) => existsSync(checkpointListsPath(p.checkpoints, rel, s)));
    if (splits.length > 0) h.update(`\n${epoch}:${splits.join(',')}`);
  }
  return h.digest('hex');
}

/** What a results file evaluated: with prepare (CP scored), and for which experiment. */
export interface ResultsScope {
  prepared: boolean;
  /** Whether the backbone was scored from RUN/model (false: from stored base lists). */
  model: boolean;
  experiment?: string;
}

/** The inputs of a results file as they are now, for recording when it is written. */
export function currentResultsInputs(run: string, scope: ResultsScope): ResultsInputs {
  const now = currentInputFingerprints(run);
  const inputs: ResultsInputs = { backbone: scope.model ? (now.backbone ?? null) : null };
  inputs.prepare = scope.prepared ? (now.prepare ?? null) : null;
  if (scope.prepared) inputs.cp_set = cpSetFingerprint(run);
  if (scope.experiment !== undefined) inputs.experiment = experimentFingerprint(run, scope.experiment);
  return inputs;
}

/** Fingerprints already computed, by input (and experiment): checking many files hashes each input once. */
export type FingerprintCache = Map<string, string | null>;

/** The current value of one recorded input. */
function currentInput(run: string, key: ResultsInputKey, experiment: string | undefined, cache: FingerprintCache) {
  const id = key === 'experiment' ? `experiment/${experiment ?? ''}` : key;
  const known = cache.get(id);
  if (known !== undefined) return known;
  let value: string | null;
  if (key === 'backbone') value = currentInputFingerprints(run).backbone ?? null;
  else if (key === 'prepare') value = currentInputFingerprints(run).prepare ?? null;
  else if (key === 'cp_set') value = cpSetFingerprint(run);
  else value = experiment === undefined ? null : experimentFingerprint(run, experiment);
  cache.set(id, value);
  return value;
}

/** A results file's provenance: current, recorded by no one (an older file), or stale (which inputs changed). */
export type ResultsProvenance =
  | { status: 'current'; inputs: ResultsInputs }
  | { status: 'unrecorded' }
  | { status: 'stale'; inputs: ResultsInputs; changed: ResultsInputKey[] };

/**
 * Checks the `inputs` recorded in a results file of run `run` against the run now; `experiment` is the
 * experiment the file evaluated (undefined for base results and base_model.json).
 */
export function resultsProvenance(
  run: string,
  recorded: unknown,
  experiment?: string,
  cache: FingerprintCache = new Map(),
): ResultsProvenance {
  if (recorded === null || typeof recorded !== 'object' || Array.isArray(recorded)) return { status: 'unrecorded' };
  const inputs = recorded as ResultsInputs;
  const changed = INPUT_KEYS.filter((k) => k in inputs && inputs[k] !== currentInput(run, k, experiment, cache));
  return changed.length ? { status: 'stale', inputs, changed } : { status: 'current', inputs };
}

const CHANGE_WORDS: Record<ResultsInputKey, string> = {
  backbone: 'the backbone was trained or imported again',
  prepare: 'prepare ran (again)',
  cp_set: 'postprocess wrote a new CP set',
  experiment: 'the experiment was fine-tuned further or again',
};

/** Who regenerates a results file: evaluate (with its experiment), or train for base_model.json. */
function regenerate(run: string, name: string): (n: Naming) => string {
  if (name === BASE_MODEL_NAME) return (n) => `re-run '${n.step('train', { run, force: true })}' (or import)`;
  if (name === BASE_RESULTS_NAME) return (n) => `re-run '${n.step('evaluate', { run })}'`;
  return (n) => `re-run '${n.step('evaluate', { run, experiment: name })}'`;
}

/** The name {@link checkResultsProvenance} takes for RUN/results/base_model.json. */
export const BASE_MODEL_NAME = 'base_model';

/**
 * Refuses a stale results file (an InputError naming the file, what changed and the command that
 * regenerates it); returns a note for a file that records no inputs, else undefined. `name` is the
 * results name: an experiment, 'base', or {@link BASE_MODEL_NAME}.
 */
export function checkResultsProvenance(
  run: string,
  name: string,
  path: string,
  recorded: unknown,
  cache: FingerprintCache = new Map(),
): string | undefined {
  const experiment = name === BASE_RESULTS_NAME || name === BASE_MODEL_NAME ? undefined : name;
  const p = resultsProvenance(run, recorded, experiment, cache);
  const again = regenerate(run, name);
  if (p.status === 'unrecorded') {
    return `note: ${path} records no inputs (written before results files did); not checked against the run`;
  }
  if (p.status === 'current') return undefined;
  const what = p.changed.map((k) => CHANGE_WORDS[k]).join(' and ');
  throw new InputError((n) => `stale results: ${what} since it was written; ${again(n)}`, { file: path });
}

/** Options of {@link readCurrentResults}: those of readResults, and where a note goes. */
export interface ReadCurrentResultsOptions extends ReadResultsOptions {
  /** Called with the note for a file that records no inputs (an older file, read unchecked). */
  onNote?: (line: string) => void;
}

/**
 * Reads RUN/results/NAME.json (readResults) and checks its recorded inputs against the run: a
 * stale file is refused naming the evaluate command that regenerates it.
 */
export function readCurrentResults(run: string, name: string, opts: ReadCurrentResultsOptions = {}): ResultsFile {
  const path = resultsPaths(run, name).json;
  const res = readResults(path, opts);
  const note = checkResultsProvenance(run, name, path, res.calitune.inputs);
  if (note !== undefined) opts.onNote?.(note);
  return res;
}

/**
 * Refuses when a results file a summary was built from (the grid registry's points, by name) is stale:
 * one InputError naming the stale files and the evaluate command of the first. Absent files are skipped.
 */
export function refuseStaleResultsOf(run: string, names: readonly string[]): void {
  const cache: FingerprintCache = new Map();
  const stale: { name: string; error: InputError }[] = [];
  for (const name of names) {
    const path = resultsPaths(run, name).json;
    if (!existsSync(path)) continue;
    try {
      checkResultsProvenance(run, name, path, readResults(path, { onNonFinite: () => {} }).calitune.inputs, cache);
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      stale.push({ name, error: e });
    }
  }
  const first = stale[0];
  if (first === undefined) return;
  const shown =
    stale
      .slice(0, 5)
      .map((s) => s.name)
      .join(', ') + (stale.length > 5 ? ', …' : '');
  throw new InputError(
    (n) => `${stale.length} results file(s) behind this summary are stale (${shown}); ${first.error.render(n)}`,
    { field: 'run' },
  );
}
