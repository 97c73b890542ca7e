/**
 * Unfinished atomic writes: src/util/atomic.ts writes `.NAME.tmp-PID-N` beside the target and
 * renames it; a killed process leaves the temp file behind. They are removed before work
 * resumes in a folder.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

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
      rmSync(join(dir, f), { force: true });
      n++;
    }
  }
  return n;
}
