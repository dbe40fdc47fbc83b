import { z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Coordinator } from '../../coordinator/index.ts';
import type { Logger } from '../../log.ts';
import type { Repository } from '../../storage/index.ts';
import { principalOf } from '../auth.ts';
import { cursorKeySchema } from '../cursors.ts';
import { decodeCursor, DEFAULT_PAGE } from '../paging.ts';
import type { quotaChecks } from '../quotas.ts';
import { studyHandlers } from './studies.handlers.ts';
import * as routes from './studies.routes.ts';

export function registerStudies(app: OpenAPIHono, deps: { repo: Repository; coordinator: Coordinator; log: Logger; maxModelParams?: number; quotas: ReturnType<typeof quotaChecks> }): void {
  const h = studyHandlers(deps);
  const project = (c: Context) => principalOf(c).projectId;
  app.openapi(routes.create, async (c) => c.json(await h.create(project(c), c.req.valid('json')), 202));
  app.openapi(routes.list, async (c) => {
    const { limit, cursor } = c.req.valid('query');
    return c.json(await h.list(project(c), limit ?? DEFAULT_PAGE, decodeCursor(cursor, cursorKeySchema)), 200);
  });
  app.openapi(routes.get, async (c) => c.json(await h.get(project(c), c.req.valid('param').id), 200));
  app.openapi(routes.leaderboard, async (c) => c.json(await h.leaderboard(project(c), c.req.valid('param').id, c.req.valid('query').limit), 200));
  app.openapi(routes.trials, async (c) => {
    const { limit, cursor } = c.req.valid('query');
    return c.json(await h.trials(project(c), c.req.valid('param').id, limit ?? 100, decodeCursor(cursor, z.number().int().min(0))), 200);
  });
  app.openapi(routes.trial, async (c) => {
    const { id, trialId } = c.req.valid('param');
    return c.json(await h.trial(project(c), id, trialId), 200);
  });
  app.openapi(routes.cancel, async (c) => c.json(await h.cancel(project(c), c.req.valid('param').id), 200));
  app.openapi(routes.continueStudy, async (c) => c.json(await h.continue(project(c), c.req.valid('param').id, c.req.valid('json')), 200));
  app.openapi(routes.remove, async (c) => {
    await h.delete(project(c), c.req.valid('param').id);
    return c.body(null, 204);
  });
}
