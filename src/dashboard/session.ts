import { randomBytes } from 'node:crypto';
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { ROLES } from '../auth/roles.ts';
import { PayloadTooLargeError, UnauthorizedError, UnsupportedMediaTypeError, ValidationError } from '../errors.ts';
import { checkCsrf, CSRF_COOKIE, KEY_COOKIE, principalOf, principalOfKey, SESSION_PATH } from '../api/auth.ts';
import { errorResponse } from '../api/openapi.ts';
import { isLoopback, publicOrigin } from '../api/request-origin.ts';
import type { DashboardDeps } from './index.ts';

/** A key is under 100 characters: a sign-in body past this is refused before it is read. */
const MAX_LOGIN_BYTES = 1024;

// Outside /v1, so the app's body checks do not cover it: the same rules, here.
const loginBody: MiddlewareHandler = async (c, next) => {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/([\w.+-]*\+)?json/.test(type)) throw new UnsupportedMediaTypeError('content-type', type || undefined, 'must be application/json');
  return bodyLimit({
    maxSize: MAX_LOGIN_BYTES,
    onError: () => {
      throw new PayloadTooLargeError('body', undefined, `is larger than the limit of ${MAX_LOGIN_BYTES} bytes`);
    },
  })(c, next);
};

// Hidden from /openapi.json: these serve the dashboard's browser session, not API clients.
const login = createRoute({
  method: 'post',
  path: '/ui/login',
  operationId: 'dashboardLogin',
  summary: "Sign the dashboard in with an API key, kept in an HttpOnly cookie",
  hide: true,
  middleware: [loginBody] as const,
  request: { body: { required: true, content: { 'application/json': { schema: z.object({ key: z.string().min(1).max(200) }).strict() } } } },
  responses: { 204: { description: 'Signed in; maas_key and maas_csrf cookies set' }, 400: errorResponse('No key given, or plain http to an address that is not loopback'), 413: errorResponse('The body is over 1 KiB'), 415: errorResponse('The body is not JSON'), 401: errorResponse('The key is not valid'), 429: errorResponse('Too many failed sign-ins from this address') },
});

const logout = createRoute({
  method: 'post',
  path: '/ui/logout',
  operationId: 'dashboardLogout',
  summary: "Sign the dashboard out: its cookies are cleared",
  hide: true,
  responses: { 204: { description: 'Signed out' }, 403: errorResponse('A signed-in browser did not send the X-CSRF-Token header equal to the maas_csrf cookie') },
});

const session = createRoute({
  method: 'get',
  path: SESSION_PATH,
  operationId: 'dashboardSession',
  summary: 'Who the dashboard is signed in as; open is true while the deployment has no key',
  hide: true,
  responses: {
    200: { description: 'The session', content: { 'application/json': { schema: z.object({ open: z.boolean(), projectId: z.string(), role: z.enum(ROLES) }) } } },
    401: errorResponse('Not signed in'),
  },
});

/**
 * The cookies hold the key itself, so they are Secure unless the browser is on plain http to a
 * loopback address (where a Secure cookie would never be sent back). https is read as a
 * TLS-terminating proxy reports it (see publicOrigin).
 */
function cookieOptions(c: Context) {
  const { protocol, hostname } = publicOrigin(c);
  return { path: '/', sameSite: 'Strict' as const, secure: protocol === 'https' || !isLoopback(hostname) };
}

/** Refuses a sign-in that would send the key back and forth over plain http across a network. */
function requireSafeTransport(c: Context): void {
  const { protocol, hostname } = publicOrigin(c);
  if (protocol === 'http' && !isLoopback(hostname)) {
    throw new ValidationError('protocol', 'http', `is refused: dashboard sign-in needs https (a TLS proxy in front of the api that sends X-Forwarded-Proto: https) or a loopback address (localhost, 127.0.0.1, ::1); this request came over plain http to ${hostname || 'an unknown host'}`);
  }
}

/** POST /ui/login, POST /ui/logout and GET /ui/session: the dashboard's cookie session over an API key. */
export function registerSession(app: OpenAPIHono, deps: DashboardDeps): void {
  app.openapi(login, async (c) => {
    requireSafeTransport(c);
    const found = await principalOfKey(deps.repo, c.req.valid('json').key);
    if ('refused' in found) {
      // Counted like any other failed authentication, so the login form cannot be used to guess keys faster.
      await deps.onFailure?.(c);
      throw new UnauthorizedError(found.refused);
    }
    const options = cookieOptions(c);
    setCookie(c, KEY_COOKIE, c.req.valid('json').key, { ...options, httpOnly: true });
    // Readable by the page's scripts, which echo it in the X-CSRF-Token header.
    setCookie(c, CSRF_COOKIE, randomBytes(24).toString('base64url'), options);
    return c.body(null, 204);
  });
  app.openapi(logout, (c) => {
    // Public (a signed-out page may call it), yet a signed-in browser is signed out only by its own page.
    if (getCookie(c, KEY_COOKIE) !== undefined) checkCsrf(c);
    const options = cookieOptions(c);
    deleteCookie(c, KEY_COOKIE, options);
    deleteCookie(c, CSRF_COOKIE, options);
    return c.body(null, 204);
  });
  app.openapi(session, (c) => {
    const p = principalOf(c);
    return c.json({ open: p.keyId === null, projectId: p.projectId, role: p.role }, 200);
  });
}
