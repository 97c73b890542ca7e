/**
 * Locates ../shared (real data and the reference oracle). Locally a missing folder skips the
 * test with a clear message; under CI=true it is a failure, since CI always has it.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TestContext } from 'node:test';

export const SHARED_DIR = resolve(process.env.CALITUNE_SHARED ?? join(process.cwd(), '..', 'shared'));
export const ML100K_INTER = join(SHARED_DIR, 'data', 'ml-100k', 'ml-100k.inter');
export const ORACLE_DIR = join(SHARED_DIR, 'oracle', 'ml-100k-bpr');

/** Returns true when the shared folder is there; otherwise skips (locally) or throws (CI). */
export function requireShared(t: TestContext, path: string = SHARED_DIR): boolean {
  if (existsSync(path)) return true;
  if (process.env.CI === 'true') throw new Error(`CI needs ${path} (../shared must exist on CI)`);
  t.skip(`${path} is absent: skipping (tests that need ../shared run in CI)`);
  return false;
}
