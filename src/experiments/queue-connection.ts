/**
 * The queue's Redis connection from one URL: `redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]`, or
 * `rediss://…` for TLS. The password lives in the URL only; every message names the URL
 * through {@link redactQueueUrl}, which leaves the password out, so it is never printed or logged.
 */
import { RedisConnection, type ConnectionOptions } from 'bullmq';
import { InputError } from '../util/errors.js';

/** The one BullMQ queue every grid point is a job of (a job names its run, so runs can share it). */
export const POINT_QUEUE = 'calitune-points';

/** A parsed queue URL: what BullMQ connects with, and the URL to show. */
export interface QueueConnection {
  /** ioredis options (host, port, user, password, database, TLS). */
  connection: ConnectionOptions;
  /** The URL without its password: what messages name. */
  shown: string;
}

/**
 * `url` without its password (user, host, port and database number kept); '(not a Redis URL)'
 * when it does not parse.
 */
export function redactQueueUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return '(not a Redis URL)';
  }
  const user = u.username ? `${u.username}@` : '';
  // Only a database number is shown: anything else in the path may be a mistyped password.
  const path = /^\/\d+$/.test(u.pathname) ? u.pathname : '';
  return `${u.protocol}//${user}${u.host}${path}`;
}

/** Parses a `redis://` or `rediss://` URL (bad input names the option field `queue`, never the password). */
export function parseQueueUrl(url: string): QueueConnection {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new InputError('not a Redis URL: expected redis://HOST:PORT or rediss://HOST:PORT', { field: 'queue' });
  }
  const shown = redactQueueUrl(url);
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
    throw new InputError(`${shown}: a queue URL starts with redis:// or rediss:// (TLS)`, { field: 'queue' });
  if (!u.hostname) throw new InputError(`${shown}: the queue URL names no host`, { field: 'queue' });
  const db = u.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db))
    throw new InputError(`${shown}: the path of a queue URL is a database number`, { field: 'queue' });
  const connection: ConnectionOptions = {
    host: u.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: u.port ? Number(u.port) : 6379,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db !== '' ? { db: Number(db) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
  return { connection, shown };
}

/**
 * Connects once, without retrying, and fails within `timeoutMs` when Redis cannot be reached
 * or refuses the credentials: an Error naming the URL without its password. Nothing is written.
 */
export async function checkQueueReachable(q: QueueConnection, timeoutMs = 3000): Promise<void> {
  const probe = new RedisConnection(
    { ...(q.connection as object), connectTimeout: timeoutMs, retryStrategy: () => null, enableOfflineQueue: false },
    { shared: false, blocking: false },
  );
  let lastError: Error | undefined;
  let failNow: (e: Error) => void = () => {};
  // The first connection error ends the wait: without retries there is no second chance.
  const failed = new Promise<never>((_res, rej) => {
    failNow = rej;
  });
  failed.catch(() => {});
  // Stays attached after closing: a late error must not surface as an uncaught one (ioredis
  // errors carry the failed command, AUTH's password included).
  probe.on('error', (e: Error) => {
    lastError = e;
    failNow(e);
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_res, rej) => {
      timer = setTimeout(() => rej(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
    });
    // Ready means connected, authenticated and past BullMQ's server version check.
    await Promise.race([probe.client, timeout, failed]);
  } catch (e) {
    const why = (lastError ?? (e as Error)).message || 'connection refused';
    throw new Error(`cannot reach the queue's Redis at ${q.shown}: ${why}`);
  } finally {
    if (timer) clearTimeout(timer);
    // Closing drops every listener: let a failing connection settle first, and listen again after.
    let grace: NodeJS.Timeout | undefined;
    const settled = probe.client.then(
      () => {},
      () => {},
    );
    await Promise.race([settled, new Promise((r) => (grace = setTimeout(r, 1000)))]);
    if (grace) clearTimeout(grace);
    await probe.close().catch(() => {});
    probe.on('error', () => {});
  }
}
