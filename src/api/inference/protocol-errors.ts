/**
 * KServe v2 and TF Serving both answer an error as `{"error": "<message>"}`, where maas answers
 * `{"error": {"code", "message", "issues"}}`. Errors keep being raised and mapped in the one
 * place (mapError); this outermost middleware only reshapes the body on the protocols' paths,
 * so that the refusals of the middleware before the routes (a missing key, a body too large)
 * reach protocol clients in the same shape as the routes' own.
 */
import type { MiddlewareHandler } from 'hono';

/**
 * Paths answered in a protocol's error shape: everything under /v2/, and TF Serving's forms under
 * /v1/models/ that maas's own api does not have (`:predict`, `/labels/…`, `/metadata`, a GET of
 * `/versions/{v}`). GET /v1/models/{name} is maas's own route too, and keeps maas's shape.
 */
export function isProtocolPath(method: string, path: string): boolean {
  if (path === '/v2' || path.startsWith('/v2/')) return true;
  if (!path.startsWith('/v1/models/')) return false;
  if (/^\/v1\/models\/[^/:]+(?:\/versions\/[^/:]+|\/labels\/[^/:]+)?:predict$/.test(path)) return true;
  if (/^\/v1\/models\/[^/:]+(?:\/versions\/[^/:]+|\/labels\/[^/:]+)?\/metadata$/.test(path)) return true;
  if (/^\/v1\/models\/[^/:]+\/labels\/[^/:]+$/.test(path)) return true;
  return (method === 'GET' || method === 'HEAD') && /^\/v1\/models\/[^/:]+\/versions\/[^/:]+$/.test(path);
}

/**
 * Reshapes maas's error bodies on the protocols' paths to `{"error": "<message>"}`, keeping the
 * status and headers (Retry-After, WWW-Authenticate). Register it before every other middleware.
 */
export function protocolErrors(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    if (c.res.status < 400 || !isProtocolPath(c.req.method, c.req.path)) return;
    const body = (await c.res
      .clone()
      .json()
      .catch(() => undefined)) as { error?: { message?: unknown } } | undefined;
    const message = body?.error?.message;
    if (typeof message !== 'string') return;
    const headers = new Headers(c.res.headers);
    headers.delete('content-length');
    headers.set('content-type', 'application/json');
    const status = c.res.status;
    // Unset first: assigning over a response copies the old one's headers into the new one.
    c.res = undefined;
    c.res = new Response(JSON.stringify({ error: message }), { status, headers });
  };
}
