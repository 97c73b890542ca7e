/**
 * One tuning trial in its own process (forked by tune-trials.ts): trains the backbone on the
 * run's split with the trial's configuration and reports each epoch's valid NDCG@10 to the
 * parent. At a rung it reports its metric there and waits for the parent's decision (a line
 * on stdin, read synchronously: training never yields to the event loop); 'stop' ends the
 * trial there. Never touches the registry and writes no file: the parent records the trial.
 *
 *   node dist/src/pipeline/tune-worker.js '{"run":…,"model":"bpr","config":{…},"rungs":[5,15,45,135]}'
 *
 * Lines on stdout (JSON, one per line): {type:'epoch', epoch, valid}, {type:'rung', epochs,
 * metric}, then {type:'end', status:'completed'|'stopped'} or {type:'error', message}.
 * One BLAS thread: a trial's result then does not depend on how many trials run beside it.
 * Orphaned (stdin closed: the parent is gone), it exits at its next rung.
 */
import { readSync, writeSync } from 'node:fs';
import { loadNativeBlas } from '../math/native.js';
import { loadRunData } from '../store/run.js';
import { trainBackbone } from '../train/train-any.js';
import { isUserError } from '../util/errors.js';

/** One trial for a worker process, passed as argv JSON. */
export interface TrialJob {
  run: string;
  model: string;
  /** The full training configuration of the trial (sampled keys, seed, epoch cap). */
  config: Record<string, unknown>;
  /** Rung epochs at which the trial waits for a decision (empty: never). */
  rungs: number[];
}

/** What a trial process writes on stdout, one JSON object per line. */
export type TrialMessage =
  | { type: 'epoch'; epoch: number; valid: number | null }
  | { type: 'rung'; epochs: number; metric: number | null }
  | { type: 'end'; status: 'completed' | 'stopped' }
  | { type: 'error'; message: string; userError: boolean };

function send(m: TrialMessage): void {
  writeSync(1, `${JSON.stringify(m)}\n`);
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** The parent's next decision line, read synchronously from stdin; exits when stdin is closed. */
function readDecision(): string {
  const buf = Buffer.alloc(64);
  let text = '';
  while (!text.includes('\n')) {
    let n: number;
    try {
      n = readSync(0, buf, 0, buf.length, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      Atomics.wait(sleeper, 0, 0, 5);
      continue;
    }
    if (n === 0) process.exit(1); // the parent is gone: nobody will record this trial
    text += buf.toString('utf8', 0, n);
  }
  return text.trim();
}

class StoppedAtRung extends Error {}

function main(): number {
  const job = JSON.parse(process.argv[2] ?? '{}') as TrialJob;
  const native = loadNativeBlas();
  if (native.ok) native.blas.setNumThreads(1);
  const rungs = new Set(job.rungs);
  let best = NaN;
  try {
    const { ds } = loadRunData(job.run);
    const data = { nUsers: ds.nUsers, nItems: ds.nItems, train: ds.train, valid: ds.valid };
    trainBackbone(job.model, data, job.config, {
      restoreBest: false,
      onEpoch: (e) => {
        const valid = Number.isNaN(e.validNdcg) ? null : e.validNdcg;
        send({ type: 'epoch', epoch: e.epoch, valid });
        if (!Number.isNaN(e.validNdcg) && !(e.validNdcg <= best)) best = e.validNdcg;
        const epochs = e.epoch + 1;
        if (!rungs.has(epochs)) return;
        send({ type: 'rung', epochs, metric: Number.isNaN(best) ? null : best });
        if (readDecision() === 'stop') throw new StoppedAtRung();
      },
    });
    send({ type: 'end', status: 'completed' });
    return 0;
  } catch (e) {
    if (e instanceof StoppedAtRung) {
      send({ type: 'end', status: 'stopped' });
      return 0;
    }
    send({ type: 'error', message: (e as Error)?.message ?? String(e), userError: isUserError(e) });
    if (!isUserError(e) && (e as Error)?.stack) process.stderr.write(`${(e as Error).stack}\n`);
    return 1;
  }
}

process.exitCode = main();
