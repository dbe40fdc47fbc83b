import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, MiddlewareHandler } from 'hono';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { RateLimitedError } from '../errors.ts';
import { ARTIFACT_PATH, principalOf, permissionFor } from './auth.ts';

export interface RateLimitOptions {
  /** Shares the limits among replicas. @defaultValue none: the limits hold per process (maas serve, which runs without Redis) */
  redis?: Redis;
  /** Keeps deployments (and tests) that share a Redis apart. */
  prefix: string;
  /** Points a key (or, in an open deployment, an address) may spend per minute; a request costs 1, an upload, a new study or an export 10. @defaultValue 600 */
  perMinute?: number;
  /** Failed authentications an address may make per minute; past that they are answered 429. @defaultValue 30 */
  failuresPerMinute?: number;
}

/**
 * Heavy requests spend more of the budget, so a key cannot fill the queue as fast as it can read,
 * nor pack and download archives (megabytes each) as fast as it can ask for a prediction.
 */
export function costOf(method: string, path: string): number {
  if (method === 'POST' && (path === '/v1/studies' || path.startsWith('/v1/datasets'))) return 10;
  if ((method === 'GET' || method === 'HEAD') && ARTIFACT_PATH.test(path)) return 10;
  return 1;
}

export function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    // app.request() in tests has no socket.
    return 'local';
  }
}

function limiter(o: { redis: Redis | undefined; prefix: string; points: number }) {
  if (o.redis === undefined) return new RateLimiterMemory({ keyPrefix: o.prefix, points: o.points, duration: 60 });
  // When Redis is not ready the limits hold per process instead of failing every request.
  return new RateLimiterRedis({
    storeClient: o.redis,
    keyPrefix: o.prefix,
    points: o.points,
    duration: 60,
    rejectIfRedisNotReady: true,
    insuranceLimiter: new RateLimiterMemory({ points: o.points, duration: 60 }),
  });
}

function refused(res: unknown, what: string): never {
  if (res instanceof RateLimiterRes) {
    const seconds = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
    throw new RateLimitedError(seconds, `${what}; retry after ${seconds} s`);
  }
  throw res;
}

/**
 * Per-key rate limits in Redis, shared by every api replica, and a limit on the failed
 * authentications of an address.
 */
export function createRateLimits(o: RateLimitOptions) {
  const perMinute = o.perMinute ?? 600;
  const requests = limiter({ redis: o.redis, prefix: `${o.prefix}:rl:req`, points: perMinute });
  const failures = limiter({ redis: o.redis, prefix: `${o.prefix}:rl:auth`, points: o.failuresPerMinute ?? 30 });

  /** After authentication: spends the request's cost from its key's budget. */
  const limit: MiddlewareHandler = async (c, next) => {
    if (permissionFor(c.req.method, c.req.path) === null) return next();
    const p = principalOf(c);
    const who = p.keyId ? `key:${p.keyId}` : `addr:${clientAddress(c)}`;
    const res = await requests.consume(who, costOf(c.req.method, c.req.path)).catch((r: unknown) => refused(r, `rate limit of ${perMinute} points a minute reached for ${p.keyId ? `key ${p.keyId}` : 'this address'}`));
    c.header('RateLimit-Limit', String(perMinute));
    c.header('RateLimit-Remaining', String(Math.max(0, res.remainingPoints)));
    return next();
  };

  /**
   * Counts a failed authentication of an address; past the limit the answer is 429, not 401.
   * Only failing requests are counted, so a good key behind the same address is never refused for them.
   */
  const recordFailure = async (c: Context) => {
    await failures.consume(clientAddress(c)).catch((r: unknown) => {
      if (r instanceof RateLimiterRes) refused(r, 'too many requests with invalid API keys from this address');
    });
  };

  return { limit, recordFailure };
}
