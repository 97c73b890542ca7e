/**
 * Prometheus metrics of one server (its own registry, so that several servers in a process keep
 * apart): requests and their latency per route, method and status, plus the process's default
 * metrics (CPU, memory, event-loop lag).
 */
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** Latency buckets in seconds: sub-millisecond requests up to multi-second batches. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The route label of requests no route matched (kept apart so that probing URLs add no labels). */
export const UNMATCHED_ROUTE = 'unmatched';

/** A server's registry with the request counter and latency histogram. */
export interface ServerMetrics {
  registry: Registry;
  requests: Counter<'route' | 'method' | 'status'>;
  latency: Histogram<'route' | 'method' | 'status'>;
}

/** A fresh registry with the request metrics and the default process metrics. */
export function createServerMetrics(): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'calitune_' });
  const labelNames = ['route', 'method', 'status'] as const;
  const requests = new Counter({
    name: 'calitune_http_requests_total',
    help: 'HTTP requests answered, by route, method and status',
    labelNames,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'calitune_http_request_duration_seconds',
    help: 'Time from request to the last byte of the answer, by route, method and status',
    labelNames,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  return { registry, requests, latency };
}

/** Counts and times every answered request of `app`, and serves the registry at GET /metrics. */
export function instrument(app: FastifyInstance, metrics: ServerMetrics): void {
  app.addHook('onResponse', async (request, reply) => {
    const labels = {
      route: request.routeOptions.url ?? UNMATCHED_ROUTE,
      method: request.method,
      status: String(reply.statusCode),
    };
    metrics.requests.inc(labels);
    metrics.latency.observe(labels, reply.elapsedTime / 1000);
  });
  app.get(
    '/metrics',
    { schema: { summary: 'Prometheus metrics (text exposition format)', tags: ['operations'] } },
    async (_request, reply) => {
      void reply.type(metrics.registry.contentType);
      return metrics.registry.metrics();
    },
  );
}
