import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Redis } from 'ioredis';
import { errorMessage } from '../../log.ts';
import type { Repository } from '../../storage/index.ts';

const healthSchema = z.object({
  status: z.enum(['ok', 'unavailable']),
  database: z.string(),
  redis: z.string(),
});

const route = createRoute({
  method: 'get',
  path: '/healthz',
  summary: 'Readiness: the database and Redis answer',
  responses: {
    200: { description: 'Ready', content: { 'application/json': { schema: healthSchema } } },
    503: { description: 'Not ready; says which dependency is down', content: { 'application/json': { schema: healthSchema } } },
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

export function registerHealth(app: OpenAPIHono, deps: { repo: Repository; redis: Redis }): void {
  app.openapi(route, async (c) => {
    const [database, redis] = await Promise.all([check(() => deps.repo.ping()), check(() => deps.redis.ping())]);
    const ok = database === 'ok' && redis === 'ok';
    return c.json({ status: ok ? 'ok' : 'unavailable', database, redis } as const, ok ? 200 : 503);
  });
}
