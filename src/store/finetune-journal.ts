/**
 * The fine-tuner's journal in an experiment folder: log.jsonl, resume.safetensors and
 * summary.json (src/store/experiment-files.ts names them).
 *
 * The per-epoch writes — the log line and the resume state — go to the process's background
 * writer (src/store/background-writes.ts): the bytes are taken synchronously, the fsyncs run
 * on another thread while the next epoch trains, in order. Before the resume state of an epoch
 * is handed over, the previous epoch's writes must have landed, so a killed run leaves the
 * state of its last or second-to-last finished epoch, with the log lines up to it (resuming
 * truncates the log to the resume state's epoch). Every read and every other write settles the
 * queue first; a failed background write is thrown by the journal's next call.
 */
import { existsSync } from 'node:fs';
import { encodeSafetensors, readSafetensors } from '../models/safetensors.js';
import { writeJsonAtomic } from '../util/atomic.js';
import type { FinetuneJournal } from '../calibration/finetuner.js';
import { epochLogLineBytes, readEpochLog, writeEpochLog } from './epoch-log.js';
import { experimentDirPaths } from './experiment-files.js';
import { backgroundWrites } from './background-writes.js';

/**
 * Two shared buffers the resume states are encoded into in turn (no allocation, no copy for
 * the worker). State e reuses the buffer of state e − 2, whose write landed before state e − 1
 * was handed over (see writeResume).
 */
class ResumeSlots {
  private readonly bufs: (SharedArrayBuffer | undefined)[] = [undefined, undefined];
  private next = 0;

  /** A view of `size` bytes on the next slot (grown when too small). */
  take(size: number): Uint8Array {
    const i = this.next;
    this.next = 1 - i;
    let b = this.bufs[i];
    if (!b || b.byteLength < size) {
      b = new SharedArrayBuffer(size + (size >> 4));
      this.bufs[i] = b;
    }
    return new Uint8Array(b, 0, size);
  }
}

/** The journal kept in experiment folder `dir`. */
export function experimentJournal(dir: string): FinetuneJournal {
  const p = experimentDirPaths(dir);
  const bg = backgroundWrites;
  // the ticket of the last resume state handed over: the next one waits for it to land
  let lastResume = 0;
  const slots = new ResumeSlots();
  /** Runs `f` once every background write has landed. */
  const settled = <T>(f: () => T): T => {
    bg.settle();
    return f();
  };
  return {
    where: dir,
    resumeName: p.resume,
    hasResume: () => settled(() => existsSync(p.resume)),
    readResume: () => settled(() => readSafetensors(p.resume)),
    writeResume: (tensors, metadata) => {
      const bytes = encodeSafetensors(tensors, metadata, (size) => slots.take(size));
      bg.waitFor(lastResume);
      lastResume = bg.submit({ kind: 'replace', path: p.resume, bytes });
    },
    readLog: (maxEpoch) => settled(() => readEpochLog(p.log, maxEpoch)),
    writeLog: (records) => settled(() => writeEpochLog(p.log, records)),
    appendLog: (record) => void bg.submit({ kind: 'append', path: p.log, bytes: epochLogLineBytes(record) }),
    writeSummary: (summary) => settled(() => writeJsonAtomic(p.summary, summary)),
    settle: () => bg.settle(),
  };
}
