/**
 * The HTTP inference API on Fastify (JSON; every route's schema in /openapi.json):
 *   GET|HEAD /health        → {status: "ok"} while the process answers
 *   GET|HEAD /ready         → {status: "ready", model} (503 while shutting down)
 *   GET  /info              → model, sizes, GEMM path, whether CP is available
 *   GET  /recommend?user=U&k=10[&method=model|cp][&lambda=0.5][&m=100][&exclude=train,valid,test|none]
 *   POST /recommend         {"users": ["U1", …], "k": 10, "method": …, "lambda": …, "exclude": [...]}
 *   POST /admin/reload      {"backbone": true} or {"experiment": E, "epoch": N | "mode": M} (loopback only)
 *   GET  /metrics           Prometheus text
 *   GET  /openapi.json      the OpenAPI 3 document
 *   GET  /, /explorer/*     the explorer page and its data (a prepared run; src/serve/explorer-routes.ts)
 * Bad input → 400 naming the field, unknown user → 404, body over 1 MiB or a batch over
 * MAX_ITEMS_PER_REQUEST → 413, anything else → 500 (logged). Answers carry `took_ms`.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import { gemmBackend } from '../math/gemm.js';
import { adminRoutes } from './admin-routes.js';
import { HttpError, replyWithError } from './http-errors.js';
import { createServerMetrics, instrument } from './metrics.js';
import type { Explorer } from './explorer.js';
import { explorerRoutes } from './explorer-routes.js';
import { recommendRoutes } from './recommend-routes.js';
import { MAX_BODY_BYTES } from './schemas.js';
import type { RecommendationService } from './service.js';
import { ServiceSlot, type ServiceLoader } from './service-slot.js';

/** Pino's levels, and `silent`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** How much the server logs (pino, JSON lines on stderr). */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Options of {@link createRecommendationServer}. */
export interface ServerOptions {
  /** Log level (default 'silent'). */
  logLevel?: LogLevel;
  /** Builds the service of a reload target; without it POST /admin/reload is not offered. */
  reload?: ServiceLoader;
  /** The explorer's data and the folder of its built page (index.html, explorer.js); none without it. */
  explorer?: { explorer: Explorer; assetsDir: string };
}

/** A JSON body parser for every content type (clients need not send application/json). */
function parseJsonBody(_req: unknown, body: string | Buffer, done: (err: Error | null, value?: unknown) => void) {
  try {
    done(null, JSON.parse(String(body)));
  } catch (e) {
    done(new HttpError(400, `body is not valid JSON: ${(e as Error).message}`));
  }
}

function operationRoutes(app: FastifyInstance, slot: ServiceSlot, closing: () => boolean): void {
  const ops = { tags: ['operations'] };
  app.get('/health', { schema: { ...ops, summary: 'Liveness: the process answers' } }, async () => ({ status: 'ok' }));
  app.get(
    '/ready',
    { schema: { ...ops, summary: 'Readiness: a model is loaded and the server is not stopping' } },
    async (_r, reply) => {
      if (closing()) return reply.code(503).send({ status: 'stopping' });
      return { status: 'ready', model: slot.current.sm.label };
    },
  );
  app.get('/info', { schema: { ...ops, summary: 'The served model and the dataset sizes' } }, async () => {
    const service = slot.current;
    return {
      model: service.sm.label,
      model_type: service.sm.model.type,
      experiment: service.sm.experiment ?? null,
      epoch: service.sm.epoch ?? null,
      users: service.sm.ds.nUsers - 1,
      items: service.sm.ds.nItems - 1,
      gemm: gemmBackend().name,
      cp_available: service.prepared !== undefined,
    };
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}

/**
 * The Fastify server of the recommendation API (routes in the module comment), ready but not yet
 * listening: call `listen` on it, and `close` to stop (in-flight requests finish first).
 */
export async function createRecommendationServer(
  service: RecommendationService,
  opts: ServerOptions = {},
): Promise<FastifyInstance> {
  const app = Fastify({
    logger: { level: opts.logLevel ?? 'silent', stream: process.stderr },
    bodyLimit: MAX_BODY_BYTES,
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false } },
  });
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  // While stopping, a connection whose request is answered closes, instead of idling in keep-alive.
  app.addHook('onResponse', async (request) => {
    if (closing) request.raw.socket?.end();
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, parseJsonBody);
  app.setErrorHandler(replyWithError);
  app.setNotFoundHandler(async (request, reply) =>
    reply.code(404).send({ error: `no route ${request.method} ${request.url.split('?')[0]}` }),
  );
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'CaliTune recommendation API', version: '1.0.0' },
      tags: [{ name: 'recommend' }, { name: 'operations' }, { name: 'admin' }, { name: 'explorer' }],
    },
  });
  const slot = new ServiceSlot(service, opts.reload);
  instrument(app, createServerMetrics());
  operationRoutes(app, slot, () => closing);
  recommendRoutes(app, slot);
  if (opts.reload) adminRoutes(app, slot);
  if (opts.explorer) explorerRoutes(app, opts.explorer.explorer, opts.explorer.assetsDir);
  await app.ready();
  return app;
}
