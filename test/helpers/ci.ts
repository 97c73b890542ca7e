/**
 * Missing prerequisites (../shared, the native binding, Chromium): locally a test without one
 * skips with the reason printed; under CI=true, where every prerequisite is installed, a missing
 * one fails the test instead, so that nothing passes in CI by skipping.
 */
import type { TestContext } from 'node:test';

/** The part of node:test's context these helpers use (a fake one in their own tests). */
export type SkipContext = Pick<TestContext, 'skip'>;

/** Whether this process runs under CI (the CI runner sets CI=true). */
export function onCi(): boolean {
  return process.env.CI === 'true';
}

/** Skips with `reason` locally; throws under CI=true. */
export function skipOrFailOnCi(t: SkipContext, reason: string): void {
  if (onCi()) throw new Error(`CI must not skip: ${reason}`);
  t.skip(reason);
}
