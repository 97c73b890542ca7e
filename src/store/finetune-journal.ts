/**
 * The fine-tuner's journal in an experiment folder: log.jsonl, resume.safetensors and
 * summary.json (src/store/experiment-files.ts names them).
 *
 * The per-epoch writes — the log line and the resume state — go to the process's background
 * writer (src/store/background-writes.ts): the bytes are taken synchronously, the fsyncs run
 * on another thread while the next epoch trains, in order. A resume state (3–8 MB on ML-100K,
 * the slowest write of an epoch) is skipped when the next one is already waiting, and at most
 * three are in flight (the fourth waits; a state above 32 MB waits for the one before). A
 * killed run leaves the state of one of its last few finished epochs — usually the last or the
 * one before; on a disk slower than the epochs at most five behind — with the log lines and
 * checkpoints up to it; resuming truncates the log, rolls the checkpoints back to that epoch
 * and gives the uninterrupted run's results.
 * Every read and every other write settles the queue first; a failed background write is
 * thrown by the journal's next call.
 */
import { existsSync } from 'node:fs';
import { encodeSafetensors, readSafetensors, type SafeTensor } from '../models/safetensors.js';
import { writeJsonAtomic } from '../util/atomic.js';
import type { FinetuneJournal } from '../calibration/finetuner.js';
import { epochLogLineBytes, readEpochLog, writeEpochLog } from './epoch-log.js';
import { experimentDirPaths } from './experiment-files.js';
import { backgroundWrites, type BackgroundWrites } from './background-writes.js';

/** Resume states in flight at most: the buffers they are encoded into, used in turn. */
const RESUME_SLOTS = 3;
/** Above this size a state gets one buffer, reused once the previous state's write is done (ML-20M: 0.5 GB). */
const LARGE_STATE_BYTES = 32 * 1024 * 1024;

/**
 * Shared buffers the resume states are encoded into in turn (no allocation, no copy for the
 * worker). A buffer is reused only once the write that read it is done (landed or skipped).
 * A large state uses a single buffer, so memory grows by one state, not three.
 */
class ResumeSlots {
  private readonly bufs: (SharedArrayBuffer | undefined)[] = new Array(RESUME_SLOTS).fill(undefined);
  /** The ticket of the write that last used each buffer. */
  private readonly tickets = new Array<number>(RESUME_SLOTS).fill(0);
  private next = 0;
  private written = 0;

  /** Encodes a state into a free buffer and hands it to `bg`. */
  write(
    bg: BackgroundWrites,
    path: string,
    tensors: ReadonlyMap<string, SafeTensor>,
    meta: Record<string, string>,
  ): void {
    let slot = 0;
    const bytes = encodeSafetensors(tensors, meta, (size) => {
      slot = this.freeSlot(bg, size);
      return this.view(slot, size);
    });
    // the first state is never skipped: once a log line after it is on disk, a resume state is too
    this.tickets[slot] = bg.submit({ kind: 'replace', path, bytes, supersedable: this.written++ > 0 });
  }

  /** The next buffer for a state of `size` bytes, once the write that last read it is done. */
  private freeSlot(bg: BackgroundWrites, size: number): number {
    if (size > LARGE_STATE_BYTES) {
      bg.waitFor(Math.max(...this.tickets));
      this.bufs.fill(undefined, 1);
      return 0;
    }
    const i = this.next;
    this.next = (i + 1) % RESUME_SLOTS;
    bg.waitFor(this.tickets[i]!);
    return i;
  }

  /** A view of `size` bytes on buffer i (grown when too small). */
  private view(i: number, size: number): Uint8Array {
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
    writeResume: (tensors, metadata) => slots.write(bg, p.resume, tensors, metadata),
    readLog: (maxEpoch) => settled(() => readEpochLog(p.log, maxEpoch)),
    writeLog: (records) => settled(() => writeEpochLog(p.log, records)),
    appendLog: (record) => void bg.submit({ kind: 'append', path: p.log, bytes: epochLogLineBytes(record) }),
    writeSummary: (summary) => settled(() => writeJsonAtomic(p.summary, summary)),
    settle: () => bg.settle(),
  };
}
