/**
 * Locates ../shared (real data and the reference oracle); CALITUNE_SHARED points elsewhere.
 * Locally a missing folder skips the test with a clear message; under CI=true it is a failure,
 * since CI always has it.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { skipOrFailOnCi, type SkipContext } from './ci.js';

export const SHARED_DIR = resolve(process.env.CALITUNE_SHARED ?? join(process.cwd(), '..', 'shared'));
export const ML100K_INTER = join(SHARED_DIR, 'data', 'ml-100k', 'ml-100k.inter');
export const ORACLE_DIR = join(SHARED_DIR, 'oracle', 'ml-100k-bpr');

/** Returns true when `path` is there; otherwise skips (locally) or throws (CI) and returns false. */
export function requireShared(t: SkipContext, path: string = SHARED_DIR): boolean {
  if (existsSync(path)) return true;
  skipOrFailOnCi(t, `${path} is absent (../shared must exist on CI; locally the test is skipped)`);
  return false;
}
