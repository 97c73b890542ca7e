/**
 * The run lock, RUN/grid.lock: one grid or experiments runner per run directory. The lock file
 * holds the owner's pid; a lock whose process is gone is stale and taken over.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { UserError } from '../util/errors.js';
import { gridLockPath } from '../store/registry-files.js';

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * RUN/grid.lock: one grid/experiments runner per run directory. A stale lock (dead pid) is taken over.
 * Returns the function that releases the lock (only while this process still owns it).
 */
export function acquireRunLock(run: string): () => void {
  const path = gridLockPath(run);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(path, 'utf8').trim() === String(process.pid)) rmSync(path, { force: true });
        } catch {
          /* gone */
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let pid = NaN;
      try {
        pid = Number(readFileSync(path, 'utf8').trim());
      } catch {
        /* vanished */
      }
      if (Number.isInteger(pid) && pid > 0 && pidAlive(pid)) {
        throw new UserError(
          `another grid or experiments run (pid ${pid}) is working in ${run}; ` +
            `wait for it or stop it (lock: ${path})`,
        );
      }
      rmSync(path, { force: true }); // stale: its process is gone
    }
  }
  throw new UserError(`cannot take the run lock ${path}`);
}
