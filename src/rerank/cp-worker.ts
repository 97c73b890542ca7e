/**
 * Worker-thread entry for CP re-ranking: runs `cpRerankRange` for a contiguous slice of
 * users and every λ, then posts the lists back (buffers transferred, not copied).
 * Started by `cpRerank` in cp.ts via new URL('./cp-worker.js', import.meta.url).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { cpRerankRange, cpScratch, type CpWorkerReply, type CpWorkerTask } from './cp.js';
import { isUserError } from '../util/errors.js';

function run(task: CpWorkerTask): CpWorkerReply {
  const { u0, u1, m, n, G } = task;
  const scratch = cpScratch(G, m);
  const lists = task.lambdas.map((lambda) => {
    const out = new Int32Array((u1 - u0) * n);
    cpRerankRange(
      task.candIds,
      task.candScores,
      u0,
      m,
      task.itemGroup,
      task.targets,
      u0,
      G,
      lambda,
      n,
      u0,
      u1,
      out,
      u0,
      scratch,
    );
    return out;
  });
  return { ok: true, lists };
}

if (parentPort) {
  let reply: CpWorkerReply;
  try {
    reply = run(workerData as CpWorkerTask);
  } catch (e) {
    reply = { ok: false, error: (e as Error).message, userError: isUserError(e) };
  }
  parentPort.postMessage(reply, reply.lists ? reply.lists.map((l) => l.buffer as ArrayBuffer) : []);
}
