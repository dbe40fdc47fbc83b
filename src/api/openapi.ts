import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { permissionFor } from './auth.ts';
import { isProtocolPath } from './inference/index.ts';

/** The body of every error answer (see errorBody in errors.ts). */
export const errorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ description: 'Machine-readable kind: invalid_request, not_found, conflict, unauthorized, forbidden, rate_limited, quota_exceeded, busy, …' }),
      message: z.string().openapi({ description: 'For people: names the field, the value and the rule it broke.' }),
      issues: z
        .array(z.object({ field: z.string(), value: z.unknown().optional(), rule: z.string() }))
        .optional()
        .openapi({ description: 'Validation errors (400, 413, 415): one entry per problem, at most 20.' }),
    }),
  })
  .openapi('Error', {
    example: { error: { code: 'invalid_request', message: 'budget.maxTrials: 0 must be >= 1', issues: [{ field: 'budget.maxTrials', value: 0, rule: 'must be >= 1' }] } },
  });

/** A documented error answer with the shared body. */
export function errorResponse(description: string) {
  return { description, content: { 'application/json': { schema: errorSchema } } };
}

const retryAfter = { 'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' as const } } };

/**
 * Answers of the app-wide middleware (authentication, rate limits, body checks of POST /v1/* and /v2/*):
 * every route they guard can give them, so the document lists them on each such operation
 * rather than each route file repeating them.
 */
const MIDDLEWARE_RESPONSES = {
  Unauthorized: { status: '401', description: 'No valid API key (once any key exists, every route but /healthz and /openapi.json needs one)' },
  Forbidden: { status: '403', description: "The key's role does not allow this operation" },
  TooManyRequests: { status: '429', description: "The key's (or address's) rate limit or the project's quota is reached", headers: retryAfter },
  BadRequest: { status: '400', description: 'The body is missing, is not JSON, or breaks a rule; the message names the field, the value and the rule' },
  PayloadTooLarge: { status: '413', description: 'The body is over the size limit (MAX_UPLOAD_BYTES)' },
  UnsupportedMediaType: { status: '415', description: 'Wrong content type (application/json, or multipart/form-data for uploads)' },
} as const;
type Shared = keyof typeof MIDDLEWARE_RESPONSES;

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;
type Operation = { responses?: Record<string, unknown>; security?: unknown[] };

/** Which shared answers the middleware can give to `method path` (a templated path such as /v1/models/{name}/predict). */
function sharedResponsesOf(method: string, path: string): Shared[] {
  const shared: Shared[] = [];
  if (permissionFor(method.toUpperCase(), path) !== null) shared.push('Unauthorized', 'Forbidden', 'TooManyRequests');
  if (method === 'post' && (path.startsWith('/v1/') || path.startsWith('/v2/'))) shared.push('BadRequest', 'PayloadTooLarge', 'UnsupportedMediaType');
  return shared;
}

type Document = { paths?: Record<string, Partial<Record<(typeof METHODS)[number], Operation>>>; components?: { responses?: Record<string, unknown> } };

/**
 * Adds the middleware's answers to the operations they apply to, keeping a route's own description
 * of a status. On the inference protocols' paths they come as `{"error": "..."}` (see protocolErrors),
 * so those operations refer to a `Protocol…` variant, added to the components when first used.
 */
function withMiddlewareResponses(doc: Document) {
  const protocolVariant = (name: Shared) => {
    const r = MIDDLEWARE_RESPONSES[name];
    const responses = ((doc.components ??= {}).responses ??= {});
    responses[`Protocol${name}`] ??= { description: r.description, ...('headers' in r ? { headers: r.headers } : {}), content: { 'application/json': { schema: { $ref: '#/components/schemas/ProtocolError' } } } };
    return `Protocol${name}`;
  };
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      // A public route needs no key, whatever the document-wide default says.
      if (permissionFor(method.toUpperCase(), path) === null) op.security ??= [];
      const responses = (op.responses ??= {});
      const protocol = isProtocolPath(method.toUpperCase(), path);
      for (const name of sharedResponsesOf(method, path)) {
        const status = MIDDLEWARE_RESPONSES[name].status;
        responses[status] ??= { $ref: `#/components/responses/${protocol ? protocolVariant(name) : name}` };
      }
    }
  }
  return doc;
}

/**
 * Serves GET /openapi.json: the document of every route registered with `app.openapi`
 * (routes added with plain `app.get`, such as the dashboard's, stay out of it), with the
 * answers of the app-wide middleware added. Call after every route is registered.
 */
export function serveOpenApi(app: OpenAPIHono, info: { title: string; version: string; description: string }): void {
  app.openAPIRegistry.registerComponent('securitySchemes', 'apiKey', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API key, maas_<id>_<secret>, made with `maas keys create` or POST /v1/keys; not needed while no key exists.',
  });
  app.openAPIRegistry.register('Error', errorSchema);
  for (const [name, r] of Object.entries(MIDDLEWARE_RESPONSES)) {
    app.openAPIRegistry.registerComponent('responses', name, {
      description: r.description,
      ...('headers' in r ? { headers: r.headers } : {}),
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    });
  }
  let document: unknown;
  app.get('/openapi.json', (c) => {
    // Built once: the routes do not change after start-up.
    document ??= withMiddlewareResponses(
      app.getOpenAPI31Document({
        openapi: '3.1.0',
        info,
        // Relative: the document is served by the api it describes, whatever address that has.
        servers: [{ url: '/', description: 'The api that serves this document' }],
        security: [{ apiKey: [] }],
      }) as Parameters<typeof withMiddlewareResponses>[0],
    );
    return c.json(document);
  });
}
