/**
 * The explorer page and its data: GET / (the page), GET /explorer.js (its esbuild bundle, from
 * the assets folder), GET /explorer/tradeoff (the chart's points), GET /explorer/random (a random
 * user of a group) and GET /explorer/user (one user's lists, src/serve/explorer.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { DECIMAL_PATTERN, DIGITS_PATTERN } from './schemas.js';
import type { Explorer } from './explorer.js';

const GROUPS = ['mainstream', 'diverse', 'niche'] as const;

const userQuerySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['user'],
  properties: {
    user: { type: 'string', minLength: 1 },
    lambda: { type: 'string', pattern: DECIMAL_PATTERN, description: "CP's λ (default 0.5)" },
    experiment: { type: 'string', minLength: 1 },
    epoch: { type: 'string', pattern: DIGITS_PATTERN },
  },
} as const;

const randomQuerySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['group'],
  properties: { group: { type: 'string', enum: [...GROUPS] } },
} as const;

/** Registers the explorer's page (when `assetsDir` holds the built bundle) and data routes. */
export function explorerRoutes(app: FastifyInstance, explorer: Explorer, assetsDir: string): void {
  const tags = ['explorer'];
  const page = join(assetsDir, 'index.html'),
    bundle = join(assetsDir, 'explorer.js');
  if (existsSync(page) && existsSync(bundle)) {
    const html = readFileSync(page, 'utf8'),
      js = readFileSync(bundle, 'utf8');
    app.get('/', { schema: { hide: true } }, async (_r, reply) => reply.type('text/html; charset=utf-8').send(html));
    app.get('/explorer.js', { schema: { hide: true } }, async (_r, reply) =>
      reply.type('text/javascript; charset=utf-8').send(js),
    );
  }
  app.get('/explorer/tradeoff', { schema: { tags, summary: 'Trade-off chart points' } }, async () => ({
    points: explorer.tradeoff,
  }));
  app.get(
    '/explorer/random',
    { schema: { tags, summary: 'A random user of a user group', querystring: randomQuerySchema } },
    async (request) => {
      const q = request.query as { group: (typeof GROUPS)[number] };
      return { user: explorer.randomUser(GROUPS.indexOf(q.group)) };
    },
  );
  app.get(
    '/explorer/user',
    { schema: { tags, summary: "A user's lists: backbone, CP, CaliTune epoch", querystring: userQuerySchema } },
    async (request) => {
      const q = request.query as { user: string; lambda?: string; experiment?: string; epoch?: string };
      return explorer.view({
        user: q.user,
        lambda: q.lambda === undefined ? 0.5 : Number(q.lambda),
        ...(q.experiment !== undefined ? { experiment: q.experiment } : {}),
        ...(q.epoch !== undefined ? { epoch: Number(q.epoch) } : {}),
      });
    },
  );
}
