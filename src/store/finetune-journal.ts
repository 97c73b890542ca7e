/**
 * The fine-tuner's journal in an experiment folder: log.jsonl, resume.safetensors and
 * summary.json (src/store/experiment-files.ts names them).
 */
import { existsSync } from 'node:fs';
import { readSafetensors, writeSafetensors } from '../models/safetensors.js';
import { writeJsonAtomic } from '../util/atomic.js';
import type { FinetuneJournal } from '../calibration/finetuner.js';
import { appendEpochLog, readEpochLog, writeEpochLog } from './epoch-log.js';
import { experimentDirPaths } from './experiment-files.js';

/** The journal kept in experiment folder `dir`. */
export function experimentJournal(dir: string): FinetuneJournal {
  const p = experimentDirPaths(dir);
  return {
    where: dir,
    resumeName: p.resume,
    hasResume: () => existsSync(p.resume),
    readResume: () => readSafetensors(p.resume),
    writeResume: (tensors, metadata) => writeSafetensors(p.resume, tensors, metadata),
    readLog: (maxEpoch) => readEpochLog(p.log, maxEpoch),
    writeLog: (records) => writeEpochLog(p.log, records),
    appendLog: (record) => appendEpochLog(p.log, record),
    writeSummary: (summary) => writeJsonAtomic(p.summary, summary),
  };
}
