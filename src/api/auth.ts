import type { Context, MiddlewareHandler } from 'hono';
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

const PUBLIC = new Set(['/healthz', '/openapi.json']);

/** What a request needs, from its method and path; null for public routes. */
export function permissionFor(method: string, path: string): Permission | null {
  if (method === 'OPTIONS' || PUBLIC.has(path)) return null;
  if (path === '/metrics' || path === '/v1/keys' || path.startsWith('/v1/keys/')) return 'admin';
  if (method === 'POST' && /^\/v1\/models\/[^/]+\/predict$/.test(path)) return 'predict';
  if (method === 'GET' || method === 'HEAD') return 'read';
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
    const presented = presentedKey(c);
    let principal: Principal;
    // A malformed header counts as a failed authentication, like a wrong key.
    if (presented === null) return fail(c, 'the Authorization header must be "Bearer <key>"');
    if (presented === undefined) {
      if (await closed()) return fail(c, 'an API key is required: send "Authorization: Bearer <key>" (an admin makes keys with `maas keys create`)');
      principal = { projectId: DEFAULT_PROJECT, role: 'admin', keyId: null };
    } else {
      const parsed = parseKey(presented);
      if (!parsed) return fail(c, 'the API key is not valid (keys look like maas_<id>_<secret>)');
      const key = await repo.keys.get(parsed.id);
      if (!key || !secretMatches(parsed.secret, key.secretHash)) return fail(c, 'the API key is not valid');
      if (key.revokedAt) return fail(c, `the API key ${key.id} was revoked on ${key.revokedAt.toISOString()}`);
      keysExist = true;
      principal = { projectId: key.projectId, role: key.role, keyId: key.id };
      const last = touched.get(key.id) ?? 0;
      if (Date.now() - last > 60_000) {
        touched.set(key.id, Date.now());
        void repo.keys.touch(key.id).catch(() => undefined);
      }
    }
    if (!allows(principal.role, permission)) {
      throw new ForbiddenError(`this key's role is ${principal.role}, which may not ${permission === 'admin' ? 'manage keys or read metrics' : permission}; that needs ${permission === 'admin' ? 'an admin' : permission === 'predict' ? 'a predict, write or admin' : permission === 'read' ? 'a read, write or admin' : 'a write or admin'} key`);
    }
    c.set('principal' as never, principal as never);
    return next();
  };
}
