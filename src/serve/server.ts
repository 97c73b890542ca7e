/**
 * The HTTP inference API (node:http, JSON):
 *   GET  /health                      → {status: "ok"}
 *   GET  /info                        → model, sizes, GEMM path, whether CP is available
 *   GET  /recommend?user=U&k=10[&method=model|cp][&lambda=0.5][&m=100][&exclude=train,valid,test|none]
 *   POST /recommend  {"users": ["U1", …], "k": 10, "method": …, "lambda": …, "exclude": [...]}
 * Bad parameters → 400 with {error}, unknown user → 404, anything else → 500 (logged).
 * Every response carries the server-side time in ms (`took_ms`).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isUserError } from '../util/errors.js';
import { gemmBackend } from '../math/gemm.js';
import {
  SPLIT_PARTS,
  type RecommendRequest,
  type RecommendationService,
  type ServeMethod,
  type SplitPart,
} from './service.js';

const MAX_BODY = 1 << 20;
const MAX_BATCH = 10_000;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function parseNumber(v: string | null | undefined, name: string): number | undefined {
  if (v === null || v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new HttpError(400, `${name} must be a number, got '${v}'`);
  return n;
}

function parseExclude(v: unknown): SplitPart[] | undefined {
  if (v === undefined || v === null) return undefined;
  const parts = Array.isArray(v)
    ? v
    : String(v)
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
  if (parts.length === 1 && parts[0] === 'none') return [];
  for (const p of parts) {
    if (!SPLIT_PARTS.includes(p as SplitPart))
      throw new HttpError(400, `exclude: unknown part '${String(p)}' (train, valid, test or none)`);
  }
  return parts as SplitPart[];
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new HttpError(413, `request body over ${MAX_BODY} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function one(service: RecommendationService, r: RecommendRequest) {
  try {
    return service.recommend(r);
  } catch (e) {
    if (isUserError(e)) throw new HttpError(/^unknown user/.test(e.message) ? 404 : 400, e.message);
    throw e;
  }
}

/** Options of {@link createRecommendationServer}. */
export interface ServerOptions {
  /** Called for 500s (default: console.error). */
  onError?: (e: unknown) => void;
}

/** The HTTP server of the recommendation API (routes in the module comment); not yet listening. */
export function createRecommendationServer(service: RecommendationService, opts: ServerOptions = {}): Server {
  const info = {
    model: service.sm.label,
    model_type: service.sm.model.type,
    experiment: service.sm.experiment ?? null,
    epoch: service.sm.epoch ?? null,
    users: service.sm.ds.nUsers - 1,
    items: service.sm.ds.nItems - 1,
    gemm: gemmBackend().name,
    cp_available: service.prepared !== undefined,
  };
  return createServer((req, res) => {
    const t0 = performance.now();
    const took = () => Math.round((performance.now() - t0) * 1000) / 1000;
    const handle = async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname === '/health' && req.method === 'GET') return send(res, 200, { status: 'ok' });
      if (url.pathname === '/info' && req.method === 'GET') return send(res, 200, info);
      if (url.pathname !== '/recommend') throw new HttpError(404, `no route ${req.method} ${url.pathname}`);
      if (req.method === 'GET') {
        const q = url.searchParams;
        const user = q.get('user');
        if (!user) throw new HttpError(400, 'query parameter user is required');
        const r: RecommendRequest = { user };
        const k = parseNumber(q.get('k'), 'k');
        if (k !== undefined) r.k = k;
        const lambda = parseNumber(q.get('lambda'), 'lambda');
        if (lambda !== undefined) r.lambda = lambda;
        const m = parseNumber(q.get('m'), 'm');
        if (m !== undefined) r.m = m;
        const method = q.get('method');
        if (method) r.method = method as ServeMethod;
        const exclude = parseExclude(q.get('exclude') ?? undefined);
        if (exclude) r.exclude = exclude;
        return send(res, 200, { ...one(service, r), took_ms: took() });
      }
      if (req.method === 'POST') {
        let body: { users?: unknown; k?: unknown; method?: unknown; lambda?: unknown; m?: unknown; exclude?: unknown };
        try {
          body = JSON.parse(await readBody(req)) as typeof body;
        } catch (e) {
          if (e instanceof HttpError) throw e;
          throw new HttpError(400, `body is not valid JSON: ${(e as Error).message}`);
        }
        if (!Array.isArray(body.users) || body.users.length === 0)
          throw new HttpError(400, 'body.users must be a non-empty array of user ids');
        if (body.users.length > MAX_BATCH) throw new HttpError(400, `at most ${MAX_BATCH} users per request`);
        for (const [name, v] of [
          ['k', body.k],
          ['lambda', body.lambda],
          ['m', body.m],
        ] as const) {
          if (v !== undefined && typeof v !== 'number') throw new HttpError(400, `${name} must be a number`);
        }
        const exclude = parseExclude(body.exclude);
        const results = body.users.map((u) =>
          one(service, {
            user: String(u),
            ...(body.k !== undefined ? { k: body.k as number } : {}),
            ...(body.method !== undefined ? { method: body.method as ServeMethod } : {}),
            ...(body.lambda !== undefined ? { lambda: body.lambda as number } : {}),
            ...(body.m !== undefined ? { m: body.m as number } : {}),
            ...(exclude ? { exclude } : {}),
          }),
        );
        return send(res, 200, { results, took_ms: took() });
      }
      throw new HttpError(405, `method ${req.method} not allowed on /recommend`);
    };
    handle().catch((e: unknown) => {
      if (e instanceof HttpError) return send(res, e.status, { error: e.message });
      (opts.onError ?? console.error)(e);
      send(res, 500, { error: 'internal error' });
    });
  });
}
