import { OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import type { Redis } from 'ioredis';
import { secureHeaders } from 'hono/secure-headers';
import type { Coordinator } from '../coordinator/index.ts';
import type { Logger } from '../log.ts';
import { createPreparer, type Preparer } from '../preparation/index.ts';
import type { Predictor } from '../serving/predictor.ts';
import type { Queues } from '../queue/index.ts';
import type { Repository } from '../storage/index.ts';
import { authenticate } from './auth.ts';
import { crossSiteForms } from './cross-site.ts';
import { allowOrigins, limitBody } from './middleware.ts';
import { registerDatasets } from './datasets/index.ts';
import { registerKeys } from './keys/index.ts';
import { DEFAULT_QUOTAS, quotaChecks, type QuotaDefaults } from './quotas.ts';
import { createRateLimits } from './rate-limit.ts';
import { errorBody, mapError, validationResponse, zodIssues } from './errors.ts';
import { checkJsonLimits } from './json-limits.ts';
import { registerHealth } from './health/index.ts';
import { registerMetrics } from './metrics/index.ts';
import { registerModels } from './models/index.ts';
import { protocolErrors, registerInference } from './inference/index.ts';
import { repositorySource } from '../serving/source.ts';
import { serveOpenApi } from './openapi.ts';
import { registerStudies } from './studies/index.ts';
import { registerDashboard } from '../dashboard/index.ts';
import { registerImportance } from './importance/index.ts';
import { registerSystem } from './system/index.ts';
import { registerEvents, type EventStreamOptions, type LiveEvents } from './events/index.ts';

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
  /** Most weights of the largest model a new study's space can give (MAX_MODEL_PARAMS). @defaultValue 100,000,000 */
  maxModelParams?: number;
  /**
   * Threads that parse and encode uploaded datasets, off the event loop.
   * @defaultValue a pool of one thread with the default queue and time limit, whose idle thread exits by itself
   */
  preparer?: Preparer;
  /** Browser origins allowed to call the api (CORS and the cross-site check of form posts). @defaultValue none */
  corsOrigins?: string[];
  /** Rate-limit points per key (or address) per minute. @defaultValue 600 */
  rateLimitPerMinute?: number;
  /**
   * The connection the rate limits use: one with auto-pipelining, so the limiter calls of many
   * requests in one turn of the event loop go to Redis in one write. @defaultValue queues.connection
   */
  rateLimitRedis?: Redis;
  /** Per-project quotas unless a project overrides them. @defaultValue DEFAULT_QUOTAS */
  quotas?: QuotaDefaults;
  /**
   * The study event log and the one reader this process shares among its event streams; the
   * caller closes the feed at shutdown so open streams end. @defaultValue a log and feed over `queues.connection` under `prefix`
   */
  events?: LiveEvents;
  /** Heartbeat, lifetime and caps of the event streams. @defaultValue see EventStreamOptions */
  eventStreams?: EventStreamOptions;
}

const UPLOAD_PATH = '/v1/datasets';

/** Builds the HTTP app from its dependencies; tests call `app.request()` on it with no server. */
export function createApp(deps: AppDeps): OpenAPIHono {
  const app = new OpenAPIHono({
    defaultHook: (result, c) => {
      if (!result.success) return validationResponse(c, zodIssues(result.error, (result as { data?: unknown }).data, result.target === 'json' || result.target === 'form' ? '' : result.target));
    },
  });
  app.onError(mapError(deps.log));
  app.notFound((c) => c.json(errorBody('not_found', `no route for ${c.req.method} ${c.req.path}`), 404));

  // Outermost: the inference protocols' clients get every refusal, the middleware's too, as {"error": "..."}.
  app.use('*', protocolErrors());
  // Browser-facing defences first, so that even a refused request carries them.
  const origins = deps.corsOrigins ?? [];
  app.use('*', secureHeaders());
  app.use('*', allowOrigins(origins));
  // A plain HTML form (urlencoded, multipart or text/plain) from a page of another origin is refused.
  app.use('*', crossSiteForms(origins));

  const limits = createRateLimits({ redis: deps.rateLimitRedis ?? deps.queues.connection, prefix: deps.prefix, perMinute: deps.rateLimitPerMinute });
  app.use('*', authenticate({ repo: deps.repo, onFailure: limits.recordFailure }));
  app.use('*', limits.limit);

  // JSON bodies get the same ceiling as uploads, so a huge predict request is refused before it is read whole.
  const maxBytes = deps.maxUploadBytes ?? 100 * 1024 * 1024;
  const limitJson = limitBody(maxBytes);
  const limitJsonPosts: MiddlewareHandler = async (c, next) => (c.req.method !== 'POST' || c.req.path === UPLOAD_PATH ? next() : limitJson(c, next));

  // Content types are checked before validation so that a wrong one gets 415, not a confusing field error.
  const checkBody: MiddlewareHandler = async (c, next) => {
    if (c.req.method !== 'POST') return next();
    const type = c.req.header('content-type') ?? '';
    if (c.req.path === UPLOAD_PATH) {
      if (!type.startsWith('multipart/form-data')) {
        return validationResponse(c, [{ field: 'content-type', value: type || undefined, rule: 'must be multipart/form-data with a file field named "file"' }], 415);
      }
      return next();
    }
    // Every POST changes state, so every one needs a JSON body ({} where nothing else is asked): a
    // body-less or form post is what a cross-site page can send without the browser asking first.
    const text = await c.req.text();
    if (text.trim() === '') {
      return validationResponse(c, [{ field: 'body', value: undefined, rule: 'is required: send a JSON object ({} when the route takes no fields) with content-type application/json' }]);
    }
    if (!/^application\/([\w.+-]*\+)?json/.test(type)) {
      return validationResponse(c, [{ field: 'content-type', value: type || undefined, rule: 'must be application/json' }], 415);
    }
    const broken = checkJsonLimits(text);
    if (broken !== null) return validationResponse(c, [{ field: 'body', value: undefined, rule: broken }]);
    return next();
  };
  // KServe v2's infer POSTs (under /v2) get the same checks as maas's own.
  for (const prefix of ['/v1/*', '/v2/*']) app.use(prefix, limitJsonPosts, checkBody);

  registerHealth(app, { repo: deps.repo, redis: deps.queues.connection, backend: () => deps.predictor.backendStatus() });
  registerMetrics(app, deps);
  const quotas = quotaChecks(deps.repo, deps.quotas ?? DEFAULT_QUOTAS);
  registerDatasets(app, { repo: deps.repo, maxUploadBytes: maxBytes, preparer: deps.preparer ?? createPreparer(), quotas });
  registerStudies(app, { ...deps, quotas });
  registerEvents(app, deps);
  registerImportance(app, deps);
  registerModels(app, deps);
  registerInference(app, { predictor: deps.predictor, source: repositorySource(deps.repo) });
  registerKeys(app, deps);
  registerDashboard(app, { repo: deps.repo, onFailure: limits.recordFailure });
  registerSystem(app, deps);

  serveOpenApi(app, { title: 'maas', version: '0.1.0', description: 'Model-as-a-Service: hyperparameter and architecture search, model registry and prediction.' });
  return app;
}
