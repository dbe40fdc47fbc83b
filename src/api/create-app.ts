import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { PayloadTooLargeError } from '../errors.ts';
import type { Coordinator } from '../coordinator/index.ts';
import type { Logger } from '../log.ts';
import type { Predictor } from '../serving/predictor.ts';
import type { Queues } from '../queue/index.ts';
import type { Repository } from '../storage/index.ts';
import { registerDatasets } from './datasets/index.ts';
import { errorBody, mapError, validationResponse, zodIssues } from './errors.ts';
import { registerHealth } from './health/index.ts';
import { registerMetrics } from './metrics/index.ts';
import { registerModels } from './models/index.ts';
import { registerStudies } from './studies/index.ts';

export interface AppDeps {
  repo: Repository;
  coordinator: Coordinator;
  predictor: Predictor;
  queues: Queues;
  /** Prefix of the queue keys, for reading the worker registry. */
  prefix: string;
  log: Logger;
  /** @defaultValue 100 MB */
  maxUploadBytes?: number;
}

const UPLOAD_PATH = '/v1/datasets';
/** Routes whose JSON body may be left out. */
const OPTIONAL_BODY = [/^\/v1\/datasets\/samples\/[^/]+$/, /^\/v1\/studies\/[^/]+\/cancel$/];

/** Builds the HTTP app from its dependencies; tests call `app.request()` on it with no server. */
export function createApp(deps: AppDeps): OpenAPIHono {
  const app = new OpenAPIHono({
    defaultHook: (result, c) => {
      if (!result.success) return validationResponse(c, zodIssues(result.error, (result as { data?: unknown }).data, result.target === 'json' || result.target === 'form' ? '' : result.target));
    },
  });
  app.onError(mapError(deps.log));
  app.notFound((c) => c.json(errorBody('not_found', `no route for ${c.req.method} ${c.req.path}`), 404));

  // JSON bodies get the same ceiling as uploads, so a huge predict request is refused before it is read whole.
  const maxBytes = deps.maxUploadBytes ?? 100 * 1024 * 1024;
  app.use('/v1/*', async (c, next) => {
    if (c.req.method !== 'POST' || c.req.path === UPLOAD_PATH) return next();
    return bodyLimit({
      maxSize: maxBytes,
      onError: () => {
        throw new PayloadTooLargeError('body', undefined, `is larger than the limit of ${maxBytes} bytes (MAX_UPLOAD_BYTES)`);
      },
    })(c, next);
  });

  // Content types are checked before validation so that a wrong one gets 415, not a confusing field error.
  app.use('/v1/*', async (c, next) => {
    if (c.req.method !== 'POST') return next();
    const type = c.req.header('content-type') ?? '';
    if (c.req.path === UPLOAD_PATH) {
      if (!type.startsWith('multipart/form-data')) {
        return validationResponse(c, [{ field: 'content-type', value: type || undefined, rule: 'must be multipart/form-data with a file field named "file"' }], 415);
      }
      return next();
    }
    const optional = OPTIONAL_BODY.some((r) => r.test(c.req.path));
    const text = await c.req.text();
    if (text.trim() === '') {
      if (optional) return next();
      return validationResponse(c, [{ field: 'body', value: undefined, rule: 'is required: send a JSON object with content-type application/json' }]);
    }
    if (!/^application\/([\w.+-]*\+)?json/.test(type)) {
      return validationResponse(c, [{ field: 'content-type', value: type || undefined, rule: 'must be application/json' }], 415);
    }
    return next();
  });

  registerHealth(app, { repo: deps.repo, redis: deps.queues.connection });
  registerMetrics(app, deps);
  registerDatasets(app, { repo: deps.repo, maxUploadBytes: maxBytes });
  registerStudies(app, deps);
  registerModels(app, deps);

  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: { title: 'maas', version: '0.1.0', description: 'Model-as-a-Service: hyperparameter and architecture search, model registry and prediction.' },
  });
  return app;
}
