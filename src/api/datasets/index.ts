import type { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { PayloadTooLargeError } from '../../errors.ts';
import type { Preparer } from '../../preparation/index.ts';
import type { Repository } from '../../storage/index.ts';
import { principalOf } from '../auth.ts';
import { cursorKeySchema } from '../cursors.ts';
import { decodeCursor, DEFAULT_PAGE } from '../paging.ts';
import type { quotaChecks } from '../quotas.ts';
import { datasetHandlers } from './datasets.handlers.ts';
import * as routes from './datasets.routes.ts';
import { receiveMultipart } from './multipart.ts';

export function registerDatasets(app: OpenAPIHono, deps: { repo: Repository; maxUploadBytes: number; preparer: Preparer; quotas: ReturnType<typeof quotaChecks> }): void {
  const h = datasetHandlers(deps.repo, deps.quotas, deps.preparer);
  // Checked before the body is parsed, so an oversized upload is refused without buffering it whole.
  app.use(
    routes.upload.getRoutingPath(),
    bodyLimit({
      maxSize: deps.maxUploadBytes,
      onError: () => {
        throw new PayloadTooLargeError('file', undefined, `is larger than the upload limit of ${deps.maxUploadBytes} bytes (MAX_UPLOAD_BYTES)`);
      },
    }),
  );
  // Reads the form as it arrives, in place of the route's own parsing, which blocks the event loop for large files.
  app.use(routes.upload.getRoutingPath(), receiveMultipart(() => deps.preparer.hold()));
  app.openapi(routes.upload, async (c) => c.json(await h.upload(principalOf(c).projectId, c.req.valid('form') as never), 201));
  app.openapi(routes.mnistSample, async (c) => {
    return c.json(await h.mnist(principalOf(c).projectId, c.req.valid('json') ?? {}), 201);
  });
  app.openapi(routes.list, async (c) => {
    const { limit, cursor } = c.req.valid('query');
    return c.json(await h.list(principalOf(c).projectId, limit ?? DEFAULT_PAGE, decodeCursor(cursor, cursorKeySchema)), 200);
  });
  app.openapi(routes.get, async (c) => c.json(await h.get(principalOf(c).projectId, c.req.valid('param').id), 200));
  app.openapi(routes.sample, async (c) => c.json(await h.sample(principalOf(c).projectId, c.req.valid('param').id, c.req.valid('query')), 200));
  app.openapi(routes.remove, async (c) => {
    await h.delete(principalOf(c).projectId, c.req.valid('param').id);
    return c.body(null, 204);
  });
}
