/**
 * Unfinished atomic writes: src/util/atomic.ts writes `.NAME.tmp-PID-N` beside the target and
 * renames it; a killed process leaves the temp file behind. They are removed before work
 * resumes in a folder: all of them where the caller's lock makes it the only writer, only those
 * of dead processes where other lock holders may be writing too.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { processAlive } from './lock-files.js';

/** Whether a file name is the temp file of an atomic write that never finished. */
export function isUnfinishedWrite(file: string): boolean {
  return file.startsWith('.') && file.includes('.tmp-');
}

/** Removes the unfinished writes of one folder (not its subfolders); returns how many. */
export function removeUnfinishedWrites(dir: string): number {
  if (!existsSync(dir)) return 0;
  let n = 0;
  for (const f of readdirSync(dir)) {
    if (isUnfinishedWrite(f)) {
      rmSync(join(dir, f), { recursive: true, force: true }); // a temp folder too (a CP set being written)
      n++;
    }
  }
  return n;
}

/** The pid in an unfinished write's name (`.NAME.tmp-PID-N`), or undefined. */
function writerPid(file: string): number | undefined {
  const m = /\.tmp-(\d+)-\d+$/.exec(file);
  return m ? Number(m[1]) : undefined;
}

/**
 * Removes the unfinished writes of one folder whose writer process is gone; returns how many. For
 * folders that several lock holders write to at once (results/, lists/): a live writer's temp
 * file is about to be renamed and must stay.
 */
export function removeUnfinishedWritesOfDeadProcesses(dir: string): number {
  if (!existsSync(dir)) return 0;
  let n = 0;
  for (const f of readdirSync(dir)) {
    const pid = writerPid(f);
    if (isUnfinishedWrite(f) && pid !== undefined && !processAlive(pid)) {
      rmSync(join(dir, f), { recursive: true, force: true }); // a temp folder too (a CP set being written)
      n++;
    }
  }
  return n;
}
