import { OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import { authenticate, type Principal } from '../api/auth.ts';
import { crossSiteForms } from '../api/cross-site.ts';
import { allowOrigins, limitBody } from '../api/middleware.ts';
import { errorBody, mapError, validationResponse, zodIssues } from '../api/errors.ts';
import { protocolErrors, registerInference } from '../api/inference/index.ts';
import { checkJsonLimits } from '../api/json-limits.ts';
import { registerPredict } from '../api/models/index.ts';
import { serveOpenApi } from '../api/openapi.ts';
import { createRateLimits } from '../api/rate-limit.ts';
import type { Logger } from '../log.ts';
import type { Predictor } from '../serving/predictor.ts';
import type { ModelSource } from '../serving/source.ts';
import { DEFAULT_PROJECT, type Repository } from '../storage/index.ts';
import { MAAS_VERSION } from '../serving/archive.ts';
import { registerServeStatus, requestCounter, type ServeStatus } from './status.ts';

export interface ServeAppDeps {
  predictor: Predictor;
  /** What the predictor serves from, for the protocols' lists of versions. */
  source: ModelSource;
  log: Logger;
  /**
   * The registry's database (maas serve --from): its API keys apply as in the api, and /healthz
   * checks it. @defaultValue none: no keys, every request acts as admin of project `default`
   */
  repo?: Repository;
  /** What /healthz and /metrics report beside the requests. */
  status: ServeStatus;
  /** Largest request body, in bytes (MAX_UPLOAD_BYTES). @defaultValue 100 MB */
  maxBodyBytes?: number;
  /** Browser origins allowed to call the server. @defaultValue none */
  corsOrigins?: string[];
  /** Rate-limit points per key (or address) per minute, held in this process. @defaultValue 600 */
  rateLimitPerMinute?: number;
}

/** Whoever calls a server of archives: there are no keys, as in an api where none was ever made. */
const OPEN: Principal = { projectId: DEFAULT_PROJECT, role: 'admin', keyId: null };

/**
 * The standalone prediction server's app (maas serve): maas's own predict, the KServe v2 and
 * TF Serving routes, /healthz and /metrics, behind the api's defences; no training, queue or
 * registry routes. It needs no Redis: rate limits are held in this process.
 */
export function createServeApp(deps: ServeAppDeps): OpenAPIHono {
  const app = new OpenAPIHono({
    defaultHook: (result, c) => {
      if (!result.success) return validationResponse(c, zodIssues(result.error, (result as { data?: unknown }).data, result.target === 'json' || result.target === 'form' ? '' : result.target));
    },
  });
  app.onError(mapError(deps.log));
  app.notFound((c) => c.json(errorBody('not_found', `no route for ${c.req.method} ${c.req.path}`), 404));

  const origins = deps.corsOrigins ?? [];
  app.use('*', requestCounter(deps.status));
  // The inference protocols' clients get every refusal, the middleware's too, as {"error": "..."}.
  app.use('*', protocolErrors());
  app.use('*', secureHeaders());
  app.use('*', allowOrigins(origins));
  app.use('*', crossSiteForms(origins));

  const limits = createRateLimits({ prefix: 'maas-serve', perMinute: deps.rateLimitPerMinute });
  const open: MiddlewareHandler = async (c, next) => {
    c.set('principal' as never, OPEN as never);
    return next();
  };
  app.use('*', deps.repo ? authenticate({ repo: deps.repo, onFailure: limits.recordFailure }) : open);
  app.use('*', limits.limit);
  jsonBodies(app, deps.maxBodyBytes ?? 100 * 1024 * 1024);

  registerServeStatus(app, deps);
  registerPredict(app, deps);
  // No registry routes here, so TF Serving's model status answers GET /v1/models/{name}.
  registerInference(app, { predictor: deps.predictor, source: deps.source, modelStatusRoute: true, server: { name: 'maas', version: MAAS_VERSION } });
  serveOpenApi(app, { title: 'maas serve', version: MAAS_VERSION, description: 'A standalone maas prediction server: maas predict, KServe v2 Open Inference Protocol and TF Serving REST.' });
  return app;
}

/**
 * Every POST is a JSON body within `maxBytes`, checked before it is parsed, as in the api (which
 * has uploads besides; this server has none).
 */
function jsonBodies(app: OpenAPIHono, maxBytes: number): void {
  const limit = limitBody(maxBytes);
  app.use('*', async (c, next) => (c.req.method === 'POST' ? limit(c, next) : next()));
  app.use('*', async (c, next) => {
    if (c.req.method !== 'POST') return next();
    const type = c.req.header('content-type') ?? '';
    const text = await c.req.text();
    if (text.trim() === '') return validationResponse(c, [{ field: 'body', value: undefined, rule: 'is required: send a JSON object with content-type application/json' }]);
    if (!/^application\/([\w.+-]*\+)?json/.test(type)) return validationResponse(c, [{ field: 'content-type', value: type || undefined, rule: 'must be application/json' }], 415);
    const broken = checkJsonLimits(text);
    if (broken !== null) return validationResponse(c, [{ field: 'body', value: undefined, rule: broken }]);
    return next();
  });
}
