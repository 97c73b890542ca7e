/**
 * The HTTP inference API (src/serve/) for the backbone or a CaliTune checkpoint, with
 * on-the-fly CP for comparison when the run is prepared. Returns once listening.
 */
import type { Server } from 'node:http';
import { z } from 'zod';
import { hasPrepared, loadPrepared } from '../store/prepare-files.js';
import { loadServingModel, SELECTION_MODES } from '../serve/serving-model.js';
import { RecommendationService } from '../serve/service.js';
import { createRecommendationServer } from '../serve/server.js';
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
    /** Address to listen on. */
    host: z.string().min(1).default('127.0.0.1'),
  })
  .strict();

/** What {@link serve} takes: `run`, optionally `experiment` with `epoch` or `mode`, `port` (8080), `host`. */
export type ServeOptions = z.input<typeof serveOptionsSchema>;

/** A listening server. */
export interface ServeHandle {
  run: string;
  /** What is served, e.g. 'bpr base' or 'c0.5 epoch 12'. */
  model: string;
  host: string;
  /** The port listened on (the one picked when 0 was asked for). */
  port: number;
  server: Server;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

/**
 * Starts the HTTP recommendation API for a run's backbone or a kept CaliTune checkpoint; resolves once
 * listening. CP on the fly needs {@link prepare}.
 */
export async function serve(options: ServeOptions, reporter: Reporter = silentReporter): Promise<ServeHandle> {
  const o = parseOptions(serveOptionsSchema, options);
  const sm = loadServingModel(o.run, {
    ...(o.experiment !== undefined ? { experiment: o.experiment } : {}),
    ...(o.epoch !== undefined ? { epoch: o.epoch } : {}),
    ...(o.mode !== undefined ? { mode: o.mode } : {}),
  });
  const prepared = hasPrepared(o.run) ? loadPrepared(o.run, { nUsers: sm.ds.nUsers, nItems: sm.ds.nItems }) : undefined;
  const server = createRecommendationServer(new RecommendationService(sm, prepared));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.port;
  reporter.warn(
    `serving ${sm.label} on http://${o.host}:${port} ` +
      `(${sm.ds.nUsers - 1} users, ${sm.ds.nItems - 1} items${prepared ? ', CP available' : ''})`,
  );
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return { run: o.run, model: sm.label, host: o.host, port, server, close };
}
