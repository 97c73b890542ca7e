/**
 * Zip extraction for fetched datasets: every entry must stay inside the destination, and a
 * single top-level folder shared by all entries is stripped.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { unzipSync } from 'fflate';

/** Entry names must stay inside the destination. */
function safeEntry(name: string): boolean {
  if (name.length === 0 || isAbsolute(name) || name.includes('\\') || /^[a-zA-Z]:/.test(name)) return false;
  return !name.split('/').some((p) => p === '..');
}

/**
 * Extracts a zip archive into `dir` (created). A single top-level folder shared by every entry
 * (ml-100k/…) is stripped, so `dir` holds u.data etc. directly. Returns the relative file paths,
 * sorted. Throws Error for a corrupt or empty archive and for an entry that would leave `dir`.
 */
export function extractZip(zipPath: string, dir: string): string[] {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(readFileSync(zipPath));
  } catch (e) {
    throw new Error(`corrupt zip archive ${basename(zipPath)}: ${(e as Error).message}`);
  }
  const names = Object.keys(entries);
  if (names.length === 0) throw new Error(`the zip archive ${basename(zipPath)} is empty`);
  for (const n of names) {
    if (!safeEntry(n)) throw new Error(`unsafe path '${n}' in zip archive ${basename(zipPath)}`);
  }
  const firsts = new Set(names.map((n) => n.split('/')[0]));
  const strip = firsts.size === 1 && names.every((n) => n.includes('/'));
  const files: string[] = [];
  mkdirSync(dir, { recursive: true });
  for (const n of names) {
    const rel = strip ? n.slice(n.indexOf('/') + 1) : n;
    if (rel.length === 0) continue;
    const target = join(dir, rel);
    if (rel.endsWith('/')) {
      mkdirSync(target, { recursive: true });
      continue;
    }
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, entries[n]!);
    files.push(rel);
  }
  return files.sort();
}
