import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Redis } from 'ioredis';
import { errorMessage } from '../../log.ts';
import type { Repository } from '../../storage/index.ts';

const healthSchema = z.object({
  status: z.enum(['ok', 'unavailable']),
  database: z.string(),
  redis: z.string(),
  /** The api's compute backend (predict): `ok`, or `broken: <reason>` after a fault it could not be reset from. */
  backend: z.string(),
});

const route = createRoute({
  method: 'get',
  path: '/healthz',
  operationId: 'getHealth',
  summary: 'Readiness: the database and Redis answer, and the compute backend that serves predictions works',
  responses: {
    200: { description: 'Ready', content: { 'application/json': { schema: healthSchema } } },
    503: { description: 'Not ready; says which dependency is down or broken', content: { 'application/json': { schema: healthSchema } } },
  },
});

async function check(probe: () => Promise<unknown>): Promise<string> {
  try {
    await Promise.race([probe(), new Promise((_, no) => setTimeout(() => no(new Error('timed out after 2 s')), 2000))]);
    return 'ok';
  } catch (err) {
    return `down: ${errorMessage(err)}`;
  }
}

/**
 * @param deps.backend - probes the compute backend that serves predictions (Predictor.backendStatus):
 *   `ok` or `broken: <reason>`. @defaultValue always `ok` (an app that serves no predictions)
 */
export function registerHealth(app: OpenAPIHono, deps: { repo: Repository; redis: Redis; backend?: () => Promise<string> }): void {
  const backendStatus = deps.backend ?? (async () => 'ok');
  app.openapi(route, async (c) => {
    const [database, redis, backend] = await Promise.all([
      check(() => deps.repo.ping()),
      check(() => deps.redis.ping()),
      backendStatus().catch((err) => `broken: ${errorMessage(err)}`),
    ]);
    const ok = database === 'ok' && redis === 'ok' && backend === 'ok';
    return c.json({ status: ok ? 'ok' : 'unavailable', database, redis, backend } as const, ok ? 200 : 503);
  });
}
