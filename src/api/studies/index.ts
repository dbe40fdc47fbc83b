import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Coordinator } from '../../coordinator/index.ts';
import type { Logger } from '../../log.ts';
import type { Repository } from '../../storage/index.ts';
import { studyHandlers } from './studies.handlers.ts';
import * as routes from './studies.routes.ts';

export function registerStudies(app: OpenAPIHono, deps: { repo: Repository; coordinator: Coordinator; log: Logger }): void {
  const h = studyHandlers(deps);
  app.openapi(routes.create, async (c) => c.json(await h.create(c.req.valid('json')), 202));
  app.openapi(routes.list, async (c) => c.json(await h.list(), 200));
  app.openapi(routes.get, async (c) => c.json(await h.get(c.req.valid('param').id), 200));
  app.openapi(routes.leaderboard, async (c) => c.json(await h.leaderboard(c.req.valid('param').id, c.req.valid('query').limit), 200));
  app.openapi(routes.trials, async (c) => c.json(await h.trials(c.req.valid('param').id), 200));
  app.openapi(routes.trial, async (c) => {
    const { id, trialId } = c.req.valid('param');
    return c.json(await h.trial(id, trialId), 200);
  });
  app.openapi(routes.cancel, async (c) => c.json(await h.cancel(c.req.valid('param').id), 200));
}
