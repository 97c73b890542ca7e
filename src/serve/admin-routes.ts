/**
 * POST /admin/reload: switch the served model without a restart, accepted only from a loopback
 * address (whatever address the server listens on). The new model is loaded while the old one
 * keeps answering, then swapped in (src/serve/service-slot.ts).
 */
import type { FastifyInstance } from 'fastify';
import { HttpError } from './http-errors.js';
import { reloadBodySchema } from './schemas.js';
import type { ServeSelection } from './serving-model.js';
import type { ServiceSlot } from './service-slot.js';

interface ReloadBody {
  backbone?: true;
  experiment?: string;
  epoch?: number;
  mode?: ServeSelection;
}

/** Whether a peer address is this machine's loopback (IPv4 127/8, IPv6 ::1, or IPv4-mapped 127/8). */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  return address === '::1' || /^(::ffff:)?127\./.test(address);
}

/** Registers POST /admin/reload on a slot that can load models. */
export function adminRoutes(app: FastifyInstance, slot: ServiceSlot): void {
  app.post(
    '/admin/reload',
    {
      schema: {
        summary: 'Serve another model (the backbone or a checkpoint) without a restart; loopback callers only',
        tags: ['admin'],
        body: reloadBodySchema,
      },
    },
    async (request, reply) => {
      if (!isLoopbackAddress(request.socket.remoteAddress))
        throw new HttpError(403, 'reload is accepted only from a loopback address');
      const body = request.body as ReloadBody;
      if ((body.backbone === true) === (body.experiment !== undefined))
        throw new HttpError(400, "body: give either 'backbone': true or an 'experiment'", 'experiment');
      const result = slot.reload({
        ...(body.experiment !== undefined ? { experiment: body.experiment } : {}),
        ...(body.epoch !== undefined ? { epoch: body.epoch } : {}),
        ...(body.mode !== undefined ? { mode: body.mode } : {}),
      });
      request.log.info({ previous: result.previous, model: result.model }, 'model reloaded');
      return { ...result, took_ms: Math.round(reply.elapsedTime * 1000) / 1000 };
    },
  );
}
