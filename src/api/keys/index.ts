import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { createKey, keyView } from '../../auth/manage.ts';
import { NotFoundError } from '../../errors.ts';
import type { Repository } from '../../storage/index.ts';
import { principalOf } from '../auth.ts';
import { decodeCursor, DEFAULT_PAGE, pageOf } from '../paging.ts';
import * as routes from './keys.routes.ts';

export function registerKeys(app: OpenAPIHono, deps: { repo: Repository }): void {
  const { repo } = deps;
  app.openapi(routes.create, async (c) => {
    const { role, name } = c.req.valid('json');
    // An admin makes keys only in its own project; new projects come from the operator's CLI.
    return c.json(await createKey(repo, { project: principalOf(c).projectId, role, name }), 201);
  });
  app.openapi(routes.list, async (c) => {
    const { limit = DEFAULT_PAGE, cursor } = c.req.valid('query');
    const after = decodeCursor(cursor, z.string().max(100));
    const rows = await repo.keys.list(principalOf(c).projectId, { limit: limit + 1, ...(after !== undefined ? { after } : {}) });
    const page = pageOf(rows, limit, (k) => k.id);
    return c.json({ keys: page.items.map(keyView), nextCursor: page.nextCursor }, 200);
  });
  app.openapi(routes.revoke, async (c) => {
    const { id } = c.req.valid('param');
    if (!(await repo.keys.revoke(principalOf(c).projectId, id))) throw new NotFoundError('key', id);
    return c.body(null, 204);
  });
}
