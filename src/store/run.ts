/**
 * The run directory: everything one dataset + backbone produces, in one folder that later
 * stages add to (layout in the README, "Run directory"). This file knows the run itself:
 * run.json and the split under data/; the other files/folders have their own module here.
 *
 *   RUN/run.json                      what the run is: data source, split seed, sizes, fingerprint
 *   RUN/data/{user,item}_id_map.tsv   external token → internal id (the oracle's format)
 *   RUN/data/splits/{train,valid,test}_split.tsv
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, UserError, type Naming } from '../util/errors.js';
import { writeJsonAtomic } from '../util/atomic.js';
import { readSplitDir, writeSplitDir } from '../data/split-io.js';
import { fingerprintSplit } from '../data/fingerprint.js';
import type { SplitDataset } from '../data/types.js';
import { csrNnz } from '../math/csr.js';
import { z } from 'zod';
import { finiteNumber, wholeNumber } from '../util/json-schema.js';
import { checkJsonArtefact } from './json-files.js';

/** Version of run.json's format; other versions are refused. */
export const RUN_FORMAT_VERSION = 1;
/** The file that makes a folder a run directory. */
export const RUN_INFO_FILE = 'run.json';

/** run.json: where the data came from, how it was split, the sizes and the split's fingerprint. */
export interface RunInfo {
  format_version: number;
  created: string;
  /** How the interactions were obtained. */
  source: { kind: 'file' | 'import' | 'synthetic'; path?: string; format?: string; options?: Record<string, unknown> };
  split: { method: 'RS'; ratios: [number, number, number]; seed: number | null };
  sizes: { users: number; items: number; train: number; valid: number; test: number };
  /** SHA-256 of the split (sizes, id maps, matrices): models trained on another split are refused. */
  fingerprint: string;
}

/** The run's top-level files and folders (each folder's own files: see its module in src/store). */
export function runPaths(run: string) {
  return {
    root: run,
    info: join(run, RUN_INFO_FILE),
    data: join(run, 'data'),
    model: join(run, 'model'),
    trainingLog: join(run, 'model', 'training_log.jsonl'),
    lists: join(run, 'lists'),
    results: join(run, 'results'),
    report: join(run, 'report'),
    /** The stored base lists of one split. */
    baseList: (split: 'valid' | 'test') => join(run, 'lists', `base_${split}.npy`),
    baseResults: join(run, 'results', 'base_model.json'),
  };
}

/** Whether `run` holds a run.json. */
export function isRunDirectory(run: string): boolean {
  return existsSync(runPaths(run).info);
}

/** Writes the split and run.json of a new run (refuses to overwrite another dataset's run). */
export function createRun(run: string, ds: SplitDataset, source: RunInfo['source'], seed: number | null): RunInfo {
  const fp = fingerprintSplit(ds);
  const p = runPaths(run);
  if (existsSync(p.info)) {
    const old = readRunInfo(run);
    if (old.fingerprint !== fp) {
      const taken = `${run} already holds a run on other data (fingerprint ${old.fingerprint.slice(0, 12)}…)`;
      throw new InputError((n) => `${taken}; choose another ${n.option('run')} folder`, { field: 'run' });
    }
  }
  writeSplitDir(p.data, ds);
  const info: RunInfo = {
    format_version: RUN_FORMAT_VERSION,
    created: new Date().toISOString(),
    source,
    split: { method: 'RS', ratios: [0.8, 0.1, 0.1], seed },
    sizes: {
      users: ds.nUsers - 1,
      items: ds.nItems - 1,
      train: csrNnz(ds.train),
      valid: csrNnz(ds.valid),
      test: csrNnz(ds.test),
    },
    fingerprint: fp,
  };
  writeJsonAtomic(p.info, info);
  return info;
}

/** run.json as readers use it (other keys are kept): a value of the wrong type is refused naming the field. */
const runInfoSchema = z
  .object({
    format_version: z.number(),
    created: z.string(),
    source: z.object({ kind: z.enum(['file', 'import', 'synthetic']) }).passthrough(),
    split: z.object({
      method: z.literal('RS'),
      ratios: z.tuple([finiteNumber, finiteNumber, finiteNumber]),
      seed: z.number().int().nullable(),
    }),
    sizes: z.object({
      users: wholeNumber,
      items: wholeNumber,
      train: wholeNumber,
      valid: wholeNumber,
      test: wholeNumber,
    }),
    fingerprint: z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 in hex'),
  })
  .passthrough();

/** Reads and checks run.json (UserError when the folder is no run or the file is not ours). */
export function readRunInfo(run: string): RunInfo {
  const p = runPaths(run);
  if (!existsSync(p.info)) {
    const how = (n: Naming) => `create one with '${n.step('train', { data: 'FILE', run })}' or '${n.step('import')}'`;
    throw new InputError((n) => `${run} is not a run directory (no run.json); ${how(n)}`, { field: 'run' });
  }
  let info: RunInfo;
  try {
    info = JSON.parse(readFileSync(p.info, 'utf8')) as RunInfo;
  } catch (e) {
    throw new UserError(`run.json is not valid JSON (${(e as Error).message})`, p.info);
  }
  if (info.format_version !== RUN_FORMAT_VERSION) {
    throw new UserError(
      `run format_version ${String(info.format_version)} is not supported (this version reads ${RUN_FORMAT_VERSION})`,
      p.info,
    );
  }
  return checkJsonArtefact(p.info, info, runInfoSchema) as RunInfo;
}

/** Loads the run's split and checks it against the fingerprint recorded at creation. */
export function loadRunData(run: string): { info: RunInfo; ds: SplitDataset } {
  const info = readRunInfo(run);
  const ds = readSplitDir(runPaths(run).data);
  const fp = fingerprintSplit(ds);
  if (fp !== info.fingerprint) {
    throw new UserError(
      `the split files in ${runPaths(run).data} do not match run.json's fingerprint (edited by hand?)`,
    );
  }
  return { info, ds };
}
