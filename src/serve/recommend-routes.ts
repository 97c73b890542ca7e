/**
 * GET /recommend (one user) and POST /recommend (a batch). A batch is checked whole before any
 * work (unknown user 404, users × k over MAX_ITEMS_PER_REQUEST 413) and then computed in chunks
 * of users, yielding to the event loop between chunks and streaming the JSON array, so that
 * /health and other requests keep being answered while a large batch runs.
 */
import { Readable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { HttpError } from './http-errors.js';
import { MAX_ITEMS_PER_REQUEST, recommendBodySchema, recommendQuerySchema } from './schemas.js';
import type { RecommendationService, RecommendRequest, ServeMethod, SplitPart } from './service.js';
import type { ServiceSlot } from './service-slot.js';

/** About how many recommended items one chunk of a batch computes before yielding. */
const CHUNK_ITEMS = 2_000;
/** Most users per chunk (bounds a chunk's scoring work when k is small). */
const CHUNK_USERS = 64;

interface RecommendQuery {
  user: string;
  k?: string;
  method?: ServeMethod;
  lambda?: string;
  m?: string;
  exclude?: string;
}

interface RecommendBody {
  users: (string | number)[];
  k?: number;
  method?: ServeMethod;
  lambda?: number;
  m?: number;
  exclude?: string | string[];
}

/** The request's parameters other than the user. */
type Shared = Omit<RecommendRequest, 'user'>;

/** `none` → nothing excluded; otherwise the listed parts (the service refuses unknown ones). */
function excludeParts(v: string | readonly string[] | undefined): SplitPart[] | undefined {
  if (v === undefined) return undefined;
  const parts = typeof v === 'string' ? v.split(',') : [...v];
  if (parts.length === 1 && parts[0] === 'none') return [];
  return parts as SplitPart[];
}

/** Server-side time of a reply in ms, rounded to µs. */
function tookMs(reply: FastifyReply): number {
  return Math.round(reply.elapsedTime * 1000) / 1000;
}

/** The parameters that were given (an absent one takes the service's default). */
function sharedOf(p: {
  k: number | undefined;
  method: ServeMethod | undefined;
  lambda: number | undefined;
  m: number | undefined;
  exclude: SplitPart[] | undefined;
}): Shared {
  return {
    ...(p.k !== undefined ? { k: p.k } : {}),
    ...(p.method !== undefined ? { method: p.method } : {}),
    ...(p.lambda !== undefined ? { lambda: p.lambda } : {}),
    ...(p.m !== undefined ? { m: p.m } : {}),
    ...(p.exclude !== undefined ? { exclude: p.exclude } : {}),
  };
}

/** The answers of users[from, to) as JSON texts joined by commas. */
function chunkJson(svc: RecommendationService, users: readonly string[], from: number, to: number, s: Shared): string {
  const parts: string[] = [];
  for (let j = from; j < to; j++) parts.push(JSON.stringify(svc.recommend({ user: users[j]!, ...s })));
  return parts.join(',');
}

/** The batch's JSON, chunk by chunk, with a turn of the event loop between chunks. */
async function* batchJson(
  svc: RecommendationService,
  users: readonly string[],
  s: Shared,
  perChunk: number,
  reply: FastifyReply,
): AsyncGenerator<string> {
  yield '{"results":[';
  for (let from = 0; from < users.length; from += perChunk) {
    if (from > 0) await nextTurn();
    const text = chunkJson(svc, users, from, Math.min(users.length, from + perChunk), s);
    yield from > 0 ? `,${text}` : text;
  }
  yield `],"took_ms":${JSON.stringify(tookMs(reply))}}`;
}

/** Registers GET and POST /recommend, answered from the slot's service of the moment each request starts. */
export function recommendRoutes(app: FastifyInstance, slot: ServiceSlot): void {
  app.get(
    '/recommend',
    { schema: { summary: "One user's recommendations", tags: ['recommend'], querystring: recommendQuerySchema } },
    async (request, reply) => {
      const q = request.query as RecommendQuery;
      const s = sharedOf({
        k: q.k === undefined ? undefined : Number(q.k),
        method: q.method,
        lambda: q.lambda === undefined ? undefined : Number(q.lambda),
        m: q.m === undefined ? undefined : Number(q.m),
        exclude: excludeParts(q.exclude),
      });
      const answer = slot.current.recommend({ user: q.user, ...s });
      return { ...answer, took_ms: tookMs(reply) };
    },
  );
  app.post(
    '/recommend',
    { schema: { summary: 'Recommendations for a batch of users', tags: ['recommend'], body: recommendBodySchema } },
    async (request, reply) => {
      const body = request.body as RecommendBody;
      const svc = slot.current;
      const users = body.users.map(String);
      const k = body.k ?? 10;
      if (users.length * k > MAX_ITEMS_PER_REQUEST) {
        throw new HttpError(
          413,
          `${users.length} users × k ${k} = ${users.length * k} items: at most ${MAX_ITEMS_PER_REQUEST} per request`,
          'users',
        );
      }
      const exclude = excludeParts(body.exclude);
      const s = sharedOf({ k: body.k, method: body.method, lambda: body.lambda, m: body.m, exclude });
      for (const user of users) svc.check({ user, ...s });
      const perChunk = Math.max(1, Math.min(CHUNK_USERS, Math.floor(CHUNK_ITEMS / k)));
      if (users.length <= perChunk) {
        const text = chunkJson(svc, users, 0, users.length, s);
        return reply.type('application/json; charset=utf-8').send(`{"results":[${text}],"took_ms":${tookMs(reply)}}`);
      }
      return reply
        .type('application/json; charset=utf-8')
        .send(Readable.from(batchJson(svc, users, s, perChunk, reply)));
    },
  );
}
