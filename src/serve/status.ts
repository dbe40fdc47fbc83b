import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import { errorMessage } from '../log.ts';
import type { Predictor } from '../serving/predictor.ts';

/** What the standalone server serves, for /healthz and /metrics. */
export interface ServeStatus {
  /** `archives` (maas serve --model) or `database` (maas serve --from). */
  source: 'archives' | 'database';
  /** The archives served, empty with a database (whose models change while it runs). */
  archives: { file: string; name: string; version: number; checksum: string }[];
  /** Probes the database; absent with archives. */
  ping?: () => Promise<void>;
  /** Requests answered, by method, route and status: the counters /metrics reports. */
  requests: Map<string, { method: string; route: string; status: number; count: number; seconds: number }>;
  /** ms since the epoch. */
  startedAt: number;
}

/** A fresh status, with no requests counted yet. */
export function serveStatus(source: ServeStatus['source'], archives: ServeStatus['archives'] = [], ping?: () => Promise<void>): ServeStatus {
  return { source, archives, ...(ping ? { ping } : {}), requests: new Map(), startedAt: Date.now() };
}

/** Counts every request by its route's pattern (not its path, so a scan of paths cannot grow the counters). */
export function requestCounter(status: ServeStatus): MiddlewareHandler {
  return async (c, next) => {
    const start = performance.now();
    try {
      await next();
    } finally {
      const route = routePath(c, -1);
      const key = `${c.req.method} ${route} ${c.res.status}`;
      const entry = status.requests.get(key) ?? { method: c.req.method, route, status: c.res.status, count: 0, seconds: 0 };
      entry.count++;
      entry.seconds += (performance.now() - start) / 1000;
      status.requests.set(key, entry);
    }
  };
}

const healthSchema = z.object({
  status: z.enum(['ok', 'unavailable']),
  source: z.enum(['archives', 'database']),
  /** `ok`, `down: <reason>`, or `none` for a server of archives. */
  database: z.string(),
  backend: z.string(),
  models: z.array(z.object({ name: z.string(), version: z.number().int(), checksum: z.string() })),
});

const health = createRoute({
  method: 'get',
  path: '/healthz',
  operationId: 'getServeHealth',
  summary: 'Readiness: the compute backend works and (with --from) the database answers; lists the archives served',
  responses: {
    200: { description: 'Ready', content: { 'application/json': { schema: healthSchema } } },
    503: { description: 'Not ready; says what is down or broken', content: { 'application/json': { schema: healthSchema } } },
  },
});

const metrics = createRoute({
  method: 'get',
  path: '/metrics',
  operationId: 'getServeMetrics',
  summary: 'Prometheus metrics: requests by route and status with their time, prediction requests and latency per model version, the archives served, uptime',
  responses: { 200: { description: 'Prometheus text exposition format 0.0.4', content: { 'text/plain': { schema: z.string() } } } },
});

const label = (v: string | number) => String(v).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const labels = (l: Record<string, string | number>) => Object.entries(l).map(([k, v]) => `${k}="${label(v)}"`).join(',');

/** GET /healthz and GET /metrics of the standalone server (the api's need Redis and the queues). */
export function registerServeStatus(app: OpenAPIHono, deps: { status: ServeStatus; predictor: Predictor }): void {
  const { status } = deps;
  app.openapi(health, async (c) => {
    const [database, backend] = await Promise.all([
      status.ping
        ? Promise.race([status.ping(), new Promise((_, no) => setTimeout(() => no(new Error('timed out after 2 s')), 2000).unref())]).then(
            () => 'ok',
            (err: unknown) => `down: ${errorMessage(err)}`,
          )
        : 'none',
      deps.predictor.backendStatus().catch((err: unknown) => `broken: ${errorMessage(err)}`),
    ]);
    const ok = (database === 'ok' || database === 'none') && backend === 'ok';
    const models = status.archives.map(({ name, version, checksum }) => ({ name, version, checksum }));
    return c.json({ status: ok ? 'ok' : 'unavailable', source: status.source, database, backend, models } as const, ok ? 200 : 503);
  });
  app.openapi(metrics, (c) => {
    const requests = [...status.requests.values()];
    const lines = [
      '# HELP maas_serve_requests_total Requests answered, by method, route pattern and status.',
      '# TYPE maas_serve_requests_total counter',
      ...requests.map((r) => `maas_serve_requests_total{${labels({ method: r.method, route: r.route, status: r.status })}} ${r.count}`),
      '# HELP maas_serve_request_seconds_total Time spent answering requests, by method, route pattern and status.',
      '# TYPE maas_serve_request_seconds_total counter',
      ...requests.map((r) => `maas_serve_request_seconds_total{${labels({ method: r.method, route: r.route, status: r.status })}} ${r.seconds}`),
      '# HELP maas_serve_archive_info One sample per archive served (maas serve --model).',
      '# TYPE maas_serve_archive_info gauge',
      ...status.archives.map((a) => `maas_serve_archive_info{${labels({ model: a.name, version: a.version, checksum: a.checksum })}} 1`),
      '# HELP maas_serve_uptime_seconds Seconds since the server started.',
      '# TYPE maas_serve_uptime_seconds gauge',
      `maas_serve_uptime_seconds ${(Date.now() - status.startedAt) / 1000}`,
      deps.predictor.metrics.exposition(),
    ];
    return c.text(`${lines.join('\n')}\n`, 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
  });
}
