/**
 * Writes handed to one background thread, so that a fine-tuning epoch does not wait for its
 * fsyncs: the caller serialises the bytes synchronously (they are a snapshot from then on) and
 * a worker thread writes them — a whole file atomically (temp file, fsync, rename, folder fsync),
 * an appended line (write, fsync) or a removal — one at a time, in the order they were handed
 * over, across all files of the process. The files on disk are therefore always a prefix of
 * what a synchronous writer would have produced: a killed process loses the last writes, never
 * their order. One exception, asked for per write: a replacement marked `supersedable` (the
 * fine-tuner's resume state) is skipped when a newer replacement of the same file is already
 * waiting, so a slow disk costs resume states, not waiting; what came before the skipped one
 * still lands before the newer one.
 *
 * A write that fails (a full disk, a read-only folder) is reported by the next call of the
 * same writer after it — {@link BackgroundWrites.submit} or {@link BackgroundWrites.settle} —
 * as the WriteError the synchronous write would have thrown, naming the path; the writes
 * queued after the failed one are dropped (their order could no longer hold), those handed
 * over after the report run again.
 *
 * The main thread waits with Atomics on a shared counter and reads the failure report with
 * receiveMessageOnPort, so no event-loop turn is needed (the fine-tuner is synchronous).
 */
import { closeSync, fsyncSync, openSync, rmSync, writeSync } from 'node:fs';
import {
  isMainThread,
  MessageChannel,
  parentPort,
  receiveMessageOnPort,
  Worker,
  workerData,
  type MessagePort,
} from 'node:worker_threads';
import { writeFileAtomic } from '../util/atomic.js';
import { WriteError, writeFailure } from '../util/write-errors.js';

/** One write: a whole file (atomically), a line appended (and synced), or a removal. */
export type BackgroundWrite =
  | {
      kind: 'replace';
      path: string;
      bytes: Uint8Array;
      /** May be skipped when a newer replacement of the same path is already waiting (a resume state). */
      supersedable?: boolean;
    }
  | { kind: 'append'; path: string; bytes: Uint8Array }
  | { kind: 'remove'; path: string };

/** A job as the worker receives it: the write, its sequence number and its generation. */
type Job = BackgroundWrite & { seq: number; generation: number };

/** A failure as the worker reports it. */
interface FailureReport {
  seq: number;
  path: string;
  code?: string;
  message: string;
}

/** Slots of the shared counter array. */
const DONE = 0;

/** Byte counts from which a buffer is moved to the worker instead of copied. */
const TRANSFER_FROM = 64 * 1024;

/** Appends `bytes` to `path` and syncs it (a crash leaves at most a torn last line). */
export function appendSynced(path: string, bytes: Uint8Array): void {
  const fd = openSync(path, 'a');
  try {
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Performs one write synchronously (the worker's job; also the fallback without a worker). */
export function performWrite(w: BackgroundWrite): void {
  if (w.kind === 'replace') writeFileAtomic(w.path, w.bytes);
  else if (w.kind === 'append') {
    try {
      appendSynced(w.path, w.bytes);
    } catch (e) {
      throw writeFailure(w.path, e);
    }
  } else rmSync(w.path, { recursive: true, force: true });
}

/** The ordered background writer of this process (see the module comment). */
export class BackgroundWrites {
  private worker: Worker | undefined;
  private port: MessagePort | undefined;
  private readonly ctl = new Int32Array(new SharedArrayBuffer(4));
  private submitted = 0;
  private generation = 0;

  /** Hands one write to the background thread; returns its ticket for {@link waitFor}. Throws an earlier failure. */
  submit(w: BackgroundWrite): number {
    this.throwFailure();
    const seq = ++this.submitted;
    const job: Job = { ...w, seq, generation: this.generation };
    const buf = w.kind === 'remove' ? undefined : w.bytes.buffer;
    // a large buffer that the bytes fill alone moves to the worker; anything else (a pooled Buffer) is copied
    const move =
      buf instanceof ArrayBuffer && w.kind !== 'remove' && w.bytes.byteLength >= TRANSFER_FROM
        ? w.bytes.byteOffset === 0 && w.bytes.byteLength === buf.byteLength
        : false;
    const transfer: ArrayBuffer[] = move ? [buf as ArrayBuffer] : [];
    this.start().postMessage(job, transfer);
    return seq;
  }

  /** Waits until the write with `ticket` and all before it have landed; throws the first failure among them. */
  waitFor(ticket: number): void {
    for (;;) {
      const done = Atomics.load(this.ctl, DONE);
      if (done >= ticket) break;
      Atomics.wait(this.ctl, DONE, done, 1000);
    }
    this.throwFailure();
  }

  /** Waits until every write handed over so far has landed; throws the first failure. */
  settle(): void {
    this.waitFor(this.submitted);
  }

  /** Settles, then stops the thread (a later write starts a new one). */
  close(): void {
    try {
      this.settle();
    } finally {
      const w = this.worker;
      this.worker = undefined;
      this.port?.close();
      this.port = undefined;
      void w?.terminate();
    }
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const { port1, port2 } = new MessageChannel();
    this.worker = new Worker(new URL(import.meta.url), {
      workerData: { calituneBackgroundWrites: true, ctl: this.ctl, port: port2 },
      transferList: [port2],
    });
    this.worker.unref();
    port1.unref();
    this.port = port1;
    return this.worker;
  }

  /** Throws the first reported failure (as a WriteError naming its path); later writes run again. */
  private throwFailure(): void {
    if (!this.port) return;
    const msg = receiveMessageOnPort(this.port);
    if (!msg) return;
    while (receiveMessageOnPort(this.port)); // reports of the same generation cannot follow; drop any
    this.generation++;
    const r = msg.message as FailureReport;
    const cause = Object.assign(new Error(r.message), r.code !== undefined ? { code: r.code } : {});
    throw r.code !== undefined ? new WriteError(r.path, r.code, cause) : new Error(r.message, { cause });
  }
}

/** The process's one background writer: every background write is ordered with every other. */
export const backgroundWrites = new BackgroundWrites();

/** Whether `job` may be skipped: a later replacement of its path is already queued (same generation). */
function superseded(job: Job, queue: readonly Job[]): boolean {
  if (job.kind !== 'replace' || !job.supersedable) return false;
  return queue.some((j) => j.kind === 'replace' && j.path === job.path && j.generation === job.generation);
}

/** The worker's failure report of `job`. */
function failureReport(job: Job, e: unknown): FailureReport {
  const code = (e as { code?: unknown }).code;
  return {
    seq: job.seq,
    path: job.path,
    message: e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e),
    ...(typeof code === 'string' ? { code } : {}),
  };
}

/**
 * The worker: performs jobs in order (all queued messages are taken first, so a supersedable
 * replacement with a newer one waiting is skipped); after a failure, drops the rest of that generation.
 */
function runWorker(ctl: Int32Array, port: MessagePort, parent: MessagePort): void {
  let failedGeneration = -1;
  const queue: Job[] = [];
  const drain = (): void => {
    for (let m = receiveMessageOnPort(parent); m; m = receiveMessageOnPort(parent)) queue.push(m.message as Job);
  };
  parent.on('message', (first: Job) => {
    queue.push(first);
    for (;;) {
      drain();
      const job = queue.shift();
      if (!job) break;
      if (job.generation !== failedGeneration && !superseded(job, queue)) {
        try {
          performWrite(job);
        } catch (e) {
          failedGeneration = job.generation;
          port.postMessage(failureReport(job, e));
        }
      }
      Atomics.store(ctl, DONE, job.seq);
      Atomics.notify(ctl, DONE);
    }
  });
}

const data = workerData as { calituneBackgroundWrites?: boolean; ctl: Int32Array; port: MessagePort } | null;
if (!isMainThread && data?.calituneBackgroundWrites && parentPort) runWorker(data.ctl, data.port, parentPort);
