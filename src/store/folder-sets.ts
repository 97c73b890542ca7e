/**
 * Folders of a run written as one complete set (the CP set, prepare's outputs, the backbone, the
 * report): a writer fills a temp sibling `.NAME.tmp-PID-N`, its marker file (the file it writes
 * last) included, then swaps it in by renames: the old folder to `.NAME.old-PID-N`, the new one to
 * NAME, then the old one removed. A reader never sees half of a new set.
 *
 * Recovery rule: NAME is the set when it exists; when a crash came between the two renames it does
 * not, and the set is the old one (the `.NAME.old-*` with its marker): a new set counts only once it
 * has its final name. The next writer (the only one: it holds the lock) first renames such an old set
 * back and removes the temp and old folders of killed writers.
 */
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** A folder written as one set: its parent, its name, and the file that completes it. */
export interface FolderSet {
  parent: string;
  name: string;
  /** The file a writer writes last: a folder without it is incomplete. */
  marker: string;
}

let counter = 0;

const tempPrefix = (s: FolderSet) => `.${s.name}.tmp-`;
const oldPrefix = (s: FolderSet) => `.${s.name}.old-`;

/** A unique sibling of the set's folder for this process: `prefix` + PID-N. */
function siblingPath(s: FolderSet, prefix: string): string {
  counter++;
  return join(s.parent, `${prefix}${process.pid}-${counter}`);
}

/** The sibling folders `.NAME.{tmp,old}-*` that `prefix` selects, sorted by name. */
function siblings(s: FolderSet, prefix: string): string[] {
  if (!existsSync(s.parent)) return [];
  return readdirSync(s.parent)
    .filter((f) => f.startsWith(prefix))
    .sort()
    .map((f) => join(s.parent, f));
}

/** The folder that holds the set under the recovery rule (file comment); undefined when there is none. */
export function currentSetFolder(s: FolderSet): string | undefined {
  const dir = join(s.parent, s.name);
  if (existsSync(dir)) return dir;
  return siblings(s, oldPrefix(s)).find((d) => existsSync(join(d, s.marker)));
}

/**
 * Before a new set is written (the caller is the only writer): an old set a crash left without its
 * final name is renamed back, and the temp and old folders of killed writers are removed.
 */
export function recoverSetFolder(s: FolderSet): void {
  const dir = join(s.parent, s.name);
  const current = currentSetFolder(s);
  if (current !== undefined && current !== dir) renameSync(current, dir);
  for (const d of [...siblings(s, tempPrefix(s)), ...siblings(s, oldPrefix(s))]) {
    rmSync(d, { recursive: true, force: true });
  }
}

/** A new temp folder's path for the next set (not created; recoverSetFolder first). */
export function freshSetFolder(s: FolderSet): string {
  return siblingPath(s, tempPrefix(s));
}

/** Swaps the complete set in `fresh` into place (old set renamed away, new renamed in, old removed). */
export function swapInSetFolder(s: FolderSet, fresh: string): void {
  const dir = join(s.parent, s.name);
  if (!existsSync(dir)) {
    renameSync(fresh, dir);
  } else {
    const old = siblingPath(s, oldPrefix(s));
    renameSync(dir, old);
    renameSync(fresh, dir);
    rmSync(old, { recursive: true, force: true });
  }
}
