import type { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { PayloadTooLargeError } from '../../errors.ts';
import type { Repository } from '../../storage/index.ts';
import { datasetHandlers } from './datasets.handlers.ts';
import * as routes from './datasets.routes.ts';

export function registerDatasets(app: OpenAPIHono, deps: { repo: Repository; maxUploadBytes: number }): void {
  const h = datasetHandlers(deps.repo);
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
  app.openapi(routes.upload, async (c) => c.json(await h.upload(c.req.valid('form') as never), 201));
  app.openapi(routes.mnistSample, async (c) => {
    const body = c.req.header('content-type')?.includes('json') ? c.req.valid('json') : {};
    return c.json(await h.mnist(body ?? {}), 201);
  });
  app.openapi(routes.list, async (c) => c.json(await h.list(), 200));
  app.openapi(routes.get, async (c) => c.json(await h.get(c.req.valid('param').id), 200));
}
