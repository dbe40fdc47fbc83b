import type { MiddlewareHandler } from 'hono';
import { ForbiddenError } from '../errors.ts';
import { normalOrigin, publicOrigin } from './request-origin.ts';

const FORM_TYPES = /^\s*(application\/x-www-form-urlencoded|multipart\/form-data|text\/plain)/i;

/**
 * Refuses a state-changing form post that a browser sends from a page of another origin: the
 * one request a cross-site page can make without the browser asking the api first. Browsers
 * always send Origin on such posts; curl and SDKs send none and are not affected (hono's csrf
 * middleware refuses those too, which would break every command-line upload).
 */
export function crossSiteForms(allowed: readonly string[]): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD' || c.req.method === 'OPTIONS') return next();
    if (!FORM_TYPES.test(c.req.header('content-type') ?? 'text/plain')) return next();
    const origin = c.req.header('origin');
    const site = c.req.header('sec-fetch-site');
    // Our own origin is the one the browser used: the Host header, or what a TLS proxy forwards
    // (see publicOrigin), not this process's own address, which behind a proxy is another.
    const own = publicOrigin(c).origin;
    const foreignOrigin = origin !== undefined && (own === null || normalOrigin(origin) !== own) && !allowed.includes(origin);
    const foreignSite = (site === 'cross-site' || site === 'same-site') && (origin === undefined || !allowed.includes(origin));
    if (foreignOrigin || foreignSite) {
      throw new ForbiddenError(`a form post from ${origin ?? 'another site'} is refused; add its origin to CORS_ORIGINS to allow it`);
    }
    return next();
  };
}
