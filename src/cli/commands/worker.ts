import { queueWorker } from '../../pipeline/grid-queue-worker.js';
import { int, requireStr } from '../args.js';
import type { Command } from '../command.js';

/** `calitune worker`: runs grid and experiments points and tuning trials from a Redis queue until stopped. */
export const workerCommand: Command = {
  name: 'worker',
  summary: "Run grid / experiments points and tune trials from a Redis queue ('grid --queue', 'tune --queue')",
  usage: 'worker --queue URL [--concurrency N] [--threads T]',
  options: { queue: { type: 'string' }, concurrency: { type: 'string' }, threads: { type: 'string' } },
  help: `Options:
  --queue URL        the queue's Redis: redis://HOST:PORT, redis://:PASSWORD@HOST:PORT, rediss://… (TLS);
                     the password is never printed
  --concurrency N    points (or trials) at a time (default 1)
  --threads T        OpenBLAS threads per point (default: cores / concurrency, at least 1); a tuning
                     trial always has one, so that its result does not depend on the machine

Takes the jobs that 'calitune grid --queue URL' (or 'experiments --queue URL') puts on the queue
and runs each point's fine-tuning and evaluation in its own process, in the run directory the
job names: this machine must see it at the same path (a shared file system; see the README,
"Run a grid on many machines"). A job whose run or point is not in the run's store, or whose
point would leave the run directory, is refused and recorded as failed, never run. The grid
process records everything in the registry; a worker only reports through the queue.
Tuning trials that 'calitune tune --queue URL' puts on the queue run the same way, each in its
own process; at each ASHA rung the trial waits for the tune process's decision. A trial whose
tune process is gone stops and fails; the rerun tune starts it again.
Stops on Ctrl-C (SIGINT) or SIGTERM: running points are stopped and taken over by another
worker, which resumes them from their last finished epoch.

Example:
  calitune worker --queue redis://10.0.0.5:6379 --concurrency 2`,
  async run(v, _pos, ctx) {
    const w = await queueWorker(
      {
        queue: requireStr(v, 'queue'),
        concurrency: int(v, 'concurrency', { min: 1, max: 256 }),
        threads: int(v, 'threads', { min: 1, max: 256 }),
      },
      ctx,
    );
    await new Promise<void>((resolve) => {
      const stop = () => {
        ctx.info(`worker ${w.id}: stopping`);
        void w.stop().then(resolve, resolve);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    ctx.info(`worker ${w.id}: ${w.counts.done} done, ${w.counts.failed} failed, ${w.counts.refused} refused`);
    return { id: w.id, concurrency: w.concurrency, threads: w.threads, ...w.counts };
  },
};
