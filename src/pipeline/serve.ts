/**
 * The HTTP inference API (src/serve/) for the backbone or a CaliTune checkpoint, with
 * on-the-fly CP for comparison when the run is prepared. Returns once listening.
 */
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { findTitlesFile, readItemTitles } from '../data/titles.js';
import type { SplitDataset } from '../data/types.js';
import type { Prepared } from '../calibration/prepare.js';
import { hasPrepared, loadPrepared } from '../store/prepare-files.js';
import { readPostprocessSummary } from '../store/postprocess-files.js';
import { readRunInfo } from '../store/run.js';
import { isLoopbackAddress } from '../serve/admin-routes.js';
import { loadServingModel, SELECTION_MODES } from '../serve/serving-model.js';
import { RecommendationService } from '../serve/service.js';
import { createRecommendationServer, LOG_LEVELS } from '../serve/server.js';
import type { ReloadTarget } from '../serve/service-slot.js';
import { Explorer, type TradeoffPoint } from '../serve/explorer.js';
import { loadReportData, validationParetoFront } from '../report/data.js';
import { parseOptions } from './options.js';
import { silentReporter, type Reporter } from './reporter.js';

/** Options of {@link serve}: the run, the served model (backbone, an epoch or a selection mode), host and port. */
export const serveOptionsSchema = z
  .object({
    run: z.string().min(1),
    /** Serve a checkpoint of this experiment (default: the backbone). */
    experiment: z.string().min(1).optional(),
    /** That epoch's checkpoint (its weights must have been kept)… */
    epoch: z.number().int().min(0).optional(),
    /** …or the validation-selected epoch of this mode (default any). */
    mode: z.enum(SELECTION_MODES).optional(),
    /** TCP port; 0 picks a free one. */
    port: z.number().int().min(0).max(65535).default(8080),
    /** Address to listen on (loopback by default; another address is reachable from other machines). */
    host: z.string().min(1).default('127.0.0.1'),
    /** Item titles file (*.item, u.item, movies.dat); default: the one beside the run's dataset, if any. */
    titles: z.string().min(1).optional(),
    /** Server log level (pino JSON lines on stderr); warnings and errors only by default. */
    logLevel: z.enum(LOG_LEVELS).default('warn'),
  })
  .strict();

/** What {@link serve} takes: `run`, optionally `experiment` with `epoch` or `mode`, `port` (8080), `host`, `titles`. */
export type ServeOptions = z.input<typeof serveOptionsSchema>;

/** A listening server. */
export interface ServeHandle {
  run: string;
  /** What is served at start, e.g. 'bpr base' or 'bpr + CaliTune c0.5 epoch 12'. */
  model: string;
  host: string;
  /** The port listened on (the one picked when 0 was asked for). */
  port: number;
  server: Server;
  /** The Fastify instance (routes, hooks, inject for tests). */
  app: FastifyInstance;
  /** Stops accepting connections, lets in-flight requests finish, then closes. */
  close(): Promise<void>;
}

/** Titles by internal item id, from the given file or the one found beside the run's dataset. */
function itemTitles(run: string, ds: SplitDataset, file: string | undefined): (string | undefined)[] | undefined {
  const source = readRunInfo(run).source.path;
  const path = file ?? (source === undefined ? undefined : findTitlesFile(source));
  if (path === undefined) return undefined;
  const byToken = readItemTitles(path);
  return ds.itemMap.tokens.map((token, i) => (i === 0 ? undefined : byToken.get(token)));
}

/** The service of a serving target of the run (the run's preparation and titles shared by every model). */
function serviceLoader(run: string, prepared: Prepared | undefined, titles: (string | undefined)[] | undefined) {
  return (target: ReloadTarget) => new RecommendationService(loadServingModel(run, target), prepared, titles);
}

/** The built explorer page: dist/web beside dist/src (scripts/build-web.mjs writes it). */
const EXPLORER_ASSETS = fileURLToPath(new URL('../../web/', import.meta.url));

/** The trade-off chart's points from the run's evaluation results (none before 'evaluate'). */
function tradeoffPoints(run: string): TradeoffPoint[] {
  const data = loadReportData(run);
  const points: TradeoffPoint[] = [];
  const ok = (x: number | null | undefined): x is number => typeof x === 'number' && Number.isFinite(x);
  if (data.base && ok(data.base.ndcg) && ok(data.base.jsd))
    points.push({ kind: 'base', ndcg: data.base.ndcg, jsd: data.base.jsd });
  for (const c of data.cp) {
    if (ok(c.m.ndcg) && ok(c.m.jsd))
      points.push({ kind: 'cp', lambda: Number(c.lambda), ndcg: c.m.ndcg, jsd: c.m.jsd });
  }
  const front = new Set(validationParetoFront(data.experiments).map((p) => `${p.experiment}@${p.epoch}`));
  for (const e of data.experiments) {
    for (const { epoch, m } of e.epochs) {
      if (!ok(m.ndcg) || !ok(m.jsd)) continue;
      const onFront = front.has(`${e.name}@${epoch}`);
      points.push({ kind: 'epoch', experiment: e.name, epoch, ndcg: m.ndcg, jsd: m.jsd, front: onFront });
    }
  }
  return points;
}

/**
 * Starts the HTTP recommendation API for a run's backbone or a kept CaliTune checkpoint; resolves once
 * listening. CP on the fly needs {@link prepare}.
 */
export async function serve(options: ServeOptions, reporter: Reporter = silentReporter): Promise<ServeHandle> {
  const o = parseOptions(serveOptionsSchema, options);
  const target: ReloadTarget = {
    ...(o.experiment !== undefined ? { experiment: o.experiment } : {}),
    ...(o.epoch !== undefined ? { epoch: o.epoch } : {}),
    ...(o.mode !== undefined ? { mode: o.mode } : {}),
  };
  const sm = loadServingModel(o.run, target);
  const prepared = hasPrepared(o.run) ? loadPrepared(o.run, { nUsers: sm.ds.nUsers, nItems: sm.ds.nItems }) : undefined;
  const titles = itemTitles(o.run, sm.ds, o.titles);
  const load = serviceLoader(o.run, prepared, titles);
  const cpM = readPostprocessSummary(o.run)?.m ?? Math.min(100, sm.ds.nItems - 1);
  const explorer = prepared && new Explorer(load({}), prepared, load, tradeoffPoints(o.run), cpM);
  const app = await createRecommendationServer(new RecommendationService(sm, prepared, titles), {
    logLevel: o.logLevel,
    reload: load,
    ...(explorer ? { explorer: { explorer, assetsDir: EXPLORER_ASSETS } } : {}),
  });
  await app.listen({ port: o.port, host: o.host });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.port;
  if (!isLoopbackAddress(o.host) && o.host !== 'localhost') {
    reporter.warn(
      `warning: listening on ${o.host}, reachable from other machines: the API has no authentication ` +
        '(reload stays loopback-only)',
    );
  }
  reporter.warn(
    `serving ${sm.label} on http://${o.host}:${port} ` +
      `(${sm.ds.nUsers - 1} users, ${sm.ds.nItems - 1} items${prepared ? ', CP available' : ''}` +
      `${titles ? ', titles' : ''})`,
  );
  return { run: o.run, model: sm.label, host: o.host, port, server: app.server, app, close: () => app.close() };
}
