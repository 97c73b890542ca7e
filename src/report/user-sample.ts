/**
 * A seeded sample of users for charts that would otherwise draw one mark per user: at
 * MovieLens-20M size (138k users, three RBO pairs) a dot per user is 400k marks, which neither
 * renders in reasonable time nor opens quickly in a browser. Statistics (boxes, quartiles) are
 * still computed over every user; only the dots are sampled, and the caption says so.
 */
import { Rng } from '../math/rng.js';

/** Per-user dots are drawn for at most this many users; above it, a seeded sample of this size. */
export const MAX_DOT_USERS = 5000;

/** Seed of the sample: the same users are drawn on every run of the report. */
const SAMPLE_SEED = 920;

/** The users a chart draws dots for. */
export interface UserSample {
  /** keep[u] = 1 when user u is in the sample (index = user id). */
  keep: Uint8Array;
  /** Users in the sample. */
  size: number;
  /** Users it was drawn from. */
  of: number;
}

/**
 * A uniform sample of `max` of the users u (1 ≤ u < nUsers) for which `has(u)` holds, drawn
 * with a fixed seed (partial Fisher–Yates); undefined when there are no more than `max` of them,
 * so small datasets draw every user exactly as before.
 */
export function sampleUsers(nUsers: number, has: (u: number) => boolean, max = MAX_DOT_USERS): UserSample | undefined {
  const users: number[] = [];
  for (let u = 1; u < nUsers; u++) if (has(u)) users.push(u);
  if (users.length <= max) return undefined;
  const rng = new Rng(SAMPLE_SEED);
  const keep = new Uint8Array(nUsers);
  for (let i = 0; i < max; i++) {
    const j = i + rng.nextInt(users.length - i);
    const t = users[i]!;
    users[i] = users[j]!;
    users[j] = t;
    keep[users[i]!] = 1;
  }
  return { keep, size: max, of: users.length };
}
