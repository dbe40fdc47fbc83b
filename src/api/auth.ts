import { timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import { parseKey, secretMatches } from '../auth/keys.ts';
import { allows, type Permission, type Role } from '../auth/roles.ts';
import { ForbiddenError, UnauthorizedError } from '../errors.ts';
import { DEFAULT_PROJECT, type Repository } from '../storage/index.ts';

/** Who is asking: the key's project and role, or the default project's admin in an open deployment. */
export interface Principal {
  projectId: string;
  role: Role;
  /** Null in an open deployment (no key exists). */
  keyId: string | null;
}

/** The dashboard's cookies: the key itself (HttpOnly), and the CSRF token its scripts echo in a header. */
export const KEY_COOKIE = 'maas_key';
export const CSRF_COOKIE = 'maas_csrf';
export const CSRF_HEADER = 'X-CSRF-Token';
/** Answers any valid key whatever its role, so the dashboard can say what the key may do. */
export const SESSION_PATH = '/ui/session';

// The dashboard's page and modules hold no data; /ui/login checks the key itself.
// KServe v2's server health is for probes (Kubernetes liveness and readiness), like /healthz.
const PUBLIC = new Set(['/healthz', '/openapi.json', '/', '/ui/login', '/ui/logout', '/v2/health/live', '/v2/health/ready']);
const PUBLIC_PREFIXES = ['/ui/app/', '/ui/vendor/'];

/**
 * The POSTs that only predict: maas's own, TF Serving's `:predict` (of the champion, a version or a
 * label) and KServe v2's `infer`. Anchored on exact route shapes, so no other POST slips through
 * as a prediction: every other POST needs write.
 */
const PREDICT_PATHS = [
  /^\/v1\/models\/[^/]+\/predict$/,
  /^\/v1\/models\/[^/:]+(?:\/versions\/[^/:]+|\/labels\/[^/:]+)?:predict$/,
  /^\/v2\/models\/[^/]+(?:\/versions\/[^/]+)?\/infer$/,
];

/**
 * The GETs a prediction client makes before predicting, open to predict keys as to read keys:
 * KServe v2's model metadata and readiness, TF Serving's status and metadata of a version or
 * label, and the metadata of the champion. They describe only what a key may predict with.
 * GET /v1/models/{name} is maas's registry view (versions, metrics), so it stays read.
 */
const DESCRIBE_PATHS = [
  /^\/v2\/models\/[^/]+(?:\/versions\/[^/]+)?(?:\/ready)?$/,
  /^\/v1\/models\/[^/:]+\/(?:versions|labels)\/[^/:]+$/,
  /^\/v1\/models\/[^/:]+(?:\/versions\/[^/:]+|\/labels\/[^/:]+)?\/metadata$/,
];

/**
 * A version's archive: everything it takes to serve the model elsewhere, the weights and the
 * training data's summary among them. Who may copy a model out of maas may change the registry.
 */
export const ARTIFACT_PATH = /^\/v1\/models\/[^/]+\/versions\/[^/]+\/artifact$/;

/** What a request needs, from its method and path; null for public routes. */
export function permissionFor(method: string, path: string): Permission | null {
  if (method === 'OPTIONS' || PUBLIC.has(path) || PUBLIC_PREFIXES.some((p) => path.startsWith(p))) return null;
  if (path === '/metrics' || path === '/v1/keys' || path.startsWith('/v1/keys/')) return 'admin';
  if (path === '/ui/queues' || path.startsWith('/ui/queues/')) return 'admin';
  if (method === 'POST' && PREDICT_PATHS.some((p) => p.test(path))) return 'predict';
  const get = method === 'GET' || method === 'HEAD';
  if (get && DESCRIBE_PATHS.some((p) => p.test(path))) return 'describe';
  if (get && !ARTIFACT_PATH.test(path)) return 'read';
  return 'write';
}

export function principalOf(c: Context): Principal {
  const p = c.get('principal' as never) as Principal | undefined;
  // The middleware runs before every route; a route without it is a wiring bug, not a client error.
  if (!p) throw new Error(`no principal for ${c.req.method} ${c.req.path}`);
  return p;
}

/** The presented key; null when an Authorization header is there but not "Bearer <key>". */
function presentedKey(c: Context): string | null | undefined {
  const header = c.req.header('authorization');
  if (header !== undefined) return /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] ?? null;
  return c.req.header('x-api-key');
}

/**
 * The principal of a presented key, or why it is refused. Shared by every request's
 * authentication and by the dashboard's login, so both refuse exactly the same keys.
 */
export async function principalOfKey(repo: Repository, presented: string): Promise<Principal | { refused: string }> {
  const parsed = parseKey(presented);
  if (!parsed) return { refused: 'the API key is not valid (keys look like maas_<id>_<secret>)' };
  const key = await repo.keys.get(parsed.id);
  if (!key || !secretMatches(parsed.secret, key.secretHash)) return { refused: 'the API key is not valid' };
  if (key.revokedAt) return { refused: `the API key ${key.id} was revoked on ${key.revokedAt.toISOString()}` };
  return { projectId: key.projectId, role: key.role, keyId: key.id };
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * A request authenticated by the dashboard's cookie that changes state must echo the CSRF
 * cookie in a header: a page of another site can make the browser send the cookie, but it
 * cannot read the token (double submit; the SameSite=Strict cookies are the first defence).
 * Also asked by POST /ui/logout, which is public but must not be a way to sign a browser out.
 */
export function checkCsrf(c: Context): void {
  if (SAFE_METHODS.has(c.req.method)) return;
  const cookie = getCookie(c, CSRF_COOKIE);
  const header = c.req.header(CSRF_HEADER);
  if (!cookie || !header || !sameSecret(cookie, header)) {
    throw new ForbiddenError(`a request signed in by the dashboard's cookie must send the ${CSRF_HEADER} header equal to the ${CSRF_COOKIE} cookie`);
  }
}

/** Compares in time that does not depend on where the two differ; different lengths never match. */
function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export interface AuthOptions {
  repo: Repository;
  /** Called when a presented key fails, with the request, before the 401 (for the failure rate limit). */
  onFailure?: (c: Context) => Promise<void>;
}

/**
 * Resolves the request's principal and checks its role. While no key has ever been made the
 * deployment is open (the README's two commands keep working on loopback); the first key
 * closes it for good, so revoking every key never reopens it.
 */
export function authenticate(opts: AuthOptions): MiddlewareHandler {
  const { repo } = opts;
  let keysExist = false;
  let checkedAt = 0;
  // lastUsedAt is advisory: written at most once a minute per key, not on every request.
  const touched = new Map<string, number>();

  async function closed(): Promise<boolean> {
    if (keysExist) return true;
    if (Date.now() - checkedAt < 1000) return false;
    keysExist = await repo.keys.any();
    checkedAt = Date.now();
    return keysExist;
  }

  async function fail(c: Context, message: string): Promise<never> {
    await opts.onFailure?.(c);
    throw new UnauthorizedError(message);
  }

  return async (c, next) => {
    const permission = permissionFor(c.req.method, c.req.path);
    if (permission === null) return next();
    const header = presentedKey(c);
    // A header wins over the dashboard's cookie, so a script's key is never mixed up with a browser session.
    const cookie = header === undefined ? getCookie(c, KEY_COOKIE) : undefined;
    const presented = header ?? cookie;
    let principal: Principal;
    // A malformed header counts as a failed authentication, like a wrong key.
    if (presented === null) return fail(c, 'the Authorization header must be "Bearer <key>"');
    if (presented === undefined) {
      if (await closed()) return fail(c, 'an API key is required: send "Authorization: Bearer <key>" (an admin makes keys with `maas keys create`)');
      principal = { projectId: DEFAULT_PROJECT, role: 'admin', keyId: null };
    } else {
      const found = await principalOfKey(repo, presented);
      if ('refused' in found) return fail(c, cookie !== undefined ? `${found.refused}; sign in to the dashboard again` : found.refused);
      if (cookie !== undefined) checkCsrf(c);
      keysExist = true;
      principal = found;
      const keyId = found.keyId as string;
      const last = touched.get(keyId) ?? 0;
      if (Date.now() - last > 60_000) {
        touched.set(keyId, Date.now());
        void repo.keys.touch(keyId).catch(() => undefined);
      }
    }
    if (c.req.path !== SESSION_PATH && !allows(principal.role, permission)) {
      throw new ForbiddenError(`this key's role is ${principal.role}, which may not ${permission === 'admin' ? 'manage keys, read metrics or see the queues' : permission}; that needs ${permission === 'admin' ? 'an admin' : permission === 'predict' ? 'a predict, write or admin' : permission === 'read' ? 'a read, write or admin' : permission === 'describe' ? 'a read, predict, write or admin' : 'a write or admin'} key`);
    }
    c.set('principal' as never, principal as never);
    return next();
  };
}
