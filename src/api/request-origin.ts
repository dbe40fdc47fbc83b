import type { Context } from 'hono';

/**
 * How the browser reached the api, which behind a TLS-terminating proxy is not how the request
 * reached this process (plain http to an inner address).
 */
export interface PublicOrigin {
  /** 'https' when the request URL is https or a proxy says so in X-Forwarded-Proto. */
  protocol: 'http' | 'https';
  /** The serialized origin, e.g. https://maas.example.com; null when the host is not a valid one. */
  origin: string | null;
  /** The host name without port (IPv6 in brackets), lower case; '' when there is none. */
  hostname: string;
}

/** The first value of a header that proxies may chain ("https, http"), lower case. */
function firstOf(c: Context, name: string): string | undefined {
  const value = c.req.header(name)?.split(',')[0]?.trim().toLowerCase();
  return value ? value : undefined;
}

/**
 * The scheme and host the browser used: X-Forwarded-Proto and X-Forwarded-Host as a TLS proxy
 * sets them, else the request URL's scheme and the Host header. The forwarded headers are read
 * without a list of trusted proxies on purpose: a browser cannot put them on the cross-site form
 * post that crossSiteForms guards against (only a preflighted request can carry them), and a
 * client that sends them itself only changes how its own sign-in cookie is marked.
 */
export function publicOrigin(c: Context): PublicOrigin {
  const url = new URL(c.req.url);
  const protocol = url.protocol === 'https:' || firstOf(c, 'x-forwarded-proto') === 'https' ? 'https' : 'http';
  const host = firstOf(c, 'x-forwarded-host') ?? firstOf(c, 'host') ?? url.host;
  try {
    const parsed = new URL(`${protocol}://${host}`);
    // A "host" with a path, user or query is none: "evil.example/x" must not pass as evil.example.
    const bare = (h: string) => h.replace(/:(80|443)$/, '');
    if (bare(parsed.host) !== bare(host)) return { protocol, origin: null, hostname: '' };
    return { protocol, origin: parsed.origin, hostname: parsed.hostname };
  } catch {
    return { protocol, origin: null, hostname: '' };
  }
}

/** localhost, 127.0.0.0/8 and ::1: addresses that never leave the machine. */
export function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}

/** The serialized form of an Origin header value, or null for 'null' and anything that is not one. */
export function normalOrigin(value: string): string | null {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : null;
  } catch {
    return null;
  }
}
