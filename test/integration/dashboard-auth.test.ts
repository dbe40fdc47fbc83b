import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { permissionFor } from '../../src/api/auth.ts';
import { createKey } from '../../src/auth/manage.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';

/** The cookies a response sets, by name, with their attributes as written. */
function setCookies(res: Response): Record<string, string> {
  return Object.fromEntries(res.headers.getSetCookie().map((c) => [c.slice(0, c.indexOf('=')), c]));
}

const json = { 'content-type': 'application/json' };

describe('dashboard sign-in', () => {
  let t: TestApp;
  const keys: Record<'admin' | 'read' | 'predict', string> = { admin: '', read: '', predict: '' };

  beforeAll(async () => {
    t = await startTestApp('sqlite');
    // Open mode first: the session says so, with no cookie and no key.
    const open = await t.app.request('/ui/session');
    expect(open.status).toBe(200);
    expect(await open.json()).toEqual({ open: true, projectId: 'default', role: 'admin' });
    keys.admin = (await createKey(t.repo, { project: 'acme', role: 'admin', name: 'a' })).secret;
    keys.read = (await createKey(t.repo, { project: 'acme', role: 'read', name: 'r' })).secret;
    keys.predict = (await createKey(t.repo, { project: 'acme', role: 'predict', name: 'p' })).secret;
    // The open/closed answer is cached for a second.
    await new Promise((r) => setTimeout(r, 1100));
  });
  afterAll(async () => {
    await t?.close();
  });

  async function login(key: string, url = 'http://localhost/ui/login') {
    return t.app.request(url, { method: 'POST', headers: json, body: JSON.stringify({ key }) });
  }
  /** Signs in and returns the Cookie header a browser would send, and the CSRF token. */
  async function session(key: string) {
    const res = await login(key);
    expect(res.status).toBe(204);
    const set = setCookies(res);
    const value = (name: string) => /^[^=]+=([^;]*)/.exec(set[name]!)![1]!;
    return { cookie: `maas_key=${value('maas_key')}; maas_csrf=${value('maas_csrf')}`, csrf: value('maas_csrf'), set };
  }

  it('keeps the page public and asks for a key everywhere else', async () => {
    for (const path of ['/', '/ui/app/app.js', '/ui/vendor/preact.mjs']) expect((await t.app.request(path)).status, path).toBe(200);
    expect((await t.app.request('/ui/session')).status).toBe(401);
    expect((await t.app.request('/v1/studies')).status).toBe(401);
    expect(permissionFor('GET', '/ui/queues')).toBe('admin');
    expect(permissionFor('GET', '/ui/queues/api/queues')).toBe('admin');
    expect(permissionFor('POST', '/ui/login')).toBeNull();
  });

  it('sets an HttpOnly SameSite=Strict key cookie and a readable CSRF cookie', async () => {
    const { set } = await session(keys.admin);
    expect(set.maas_key).toContain(`maas_key=${keys.admin}`);
    expect(set.maas_key).toMatch(/; HttpOnly/);
    expect(set.maas_key).toMatch(/; SameSite=Strict/);
    expect(set.maas_key).toMatch(/; Path=\//);
    expect(set.maas_key).not.toMatch(/; Secure/);
    expect(set.maas_csrf).toMatch(/^maas_csrf=[A-Za-z0-9_-]{32}; /);
    expect(set.maas_csrf).not.toMatch(/HttpOnly/);
    expect(set.maas_csrf).toMatch(/; SameSite=Strict/);
    // Over https the cookies are Secure.
    const secure = setCookies(await login(keys.admin, 'https://localhost/ui/login'));
    expect(secure.maas_key).toMatch(/; Secure/);
    expect(secure.maas_csrf).toMatch(/; Secure/);
  });

  it('marks the cookies Secure unless on plain http to loopback, and refuses plain http across a network', async () => {
    const signIn = (url: string, headers: Record<string, string> = {}) => t.app.request(url, { method: 'POST', headers: { ...json, ...headers }, body: JSON.stringify({ key: keys.admin }) });
    for (const url of ['http://127.0.0.2:3000/ui/login', 'http://[::1]:3000/ui/login']) {
      const res = await signIn(url);
      expect(res.status, url).toBe(204);
      expect(setCookies(res).maas_key, url).not.toMatch(/; Secure/);
    }
    // Behind a TLS-terminating proxy the request arrives as plain http to an inner address.
    for (const headers of [{ 'x-forwarded-proto': 'https' }, { host: 'maas.example.com', 'x-forwarded-proto': 'https' }, { 'x-forwarded-proto': 'https, http' }] as Record<string, string>[]) {
      const res = await signIn('http://10.0.0.5:3000/ui/login', headers);
      expect(res.status, JSON.stringify(headers)).toBe(204);
      const set = setCookies(res);
      expect(set.maas_key).toMatch(/; Secure/);
      expect(set.maas_csrf).toMatch(/; Secure/);
    }
    for (const [url, headers] of [['http://10.0.0.5:3000/ui/login', {}], ['http://localhost/ui/login', { host: 'maas.example.com' }], ['http://localhost/ui/login', { 'x-forwarded-host': 'maas.example.com' }]] as const) {
      const res = await signIn(url, headers);
      expect(res.status, url).toBe(400);
      expect(res.headers.getSetCookie()).toEqual([]);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/sign-in needs https .* or a loopback address/);
    }
  });

  it('takes the origin the browser used, as a TLS proxy forwards it, as our own for form posts', async () => {
    const post = (origin: string, headers: Record<string, string>) =>
      t.app.request('http://10.0.0.5:3000/v1/studies', { method: 'POST', headers: { 'content-type': 'text/plain', authorization: `Bearer ${keys.admin}`, origin, ...headers }, body: 'x' });
    // Past the cross-site check, the route refuses the text body itself (415).
    expect((await post('https://maas.example.com', { host: 'maas.example.com', 'x-forwarded-proto': 'https' })).status).toBe(415);
    expect((await post('https://maas.example.com', { host: '10.0.0.5:3000', 'x-forwarded-host': 'maas.example.com', 'x-forwarded-proto': 'https' })).status).toBe(415);
    expect((await post('https://maas.example.com:443', { host: 'maas.example.com:443', 'x-forwarded-proto': 'https' })).status).toBe(415);
    expect((await post('http://10.0.0.5:3000', {})).status).toBe(415);
    for (const [origin, headers] of [
      ['https://evil.example', { host: 'maas.example.com', 'x-forwarded-proto': 'https' }],
      ['http://maas.example.com', { host: 'maas.example.com', 'x-forwarded-proto': 'https' }],
      ['null', { host: 'maas.example.com' }],
      ['https://maas.example.com', { host: 'maas.example.com/x', 'x-forwarded-proto': 'https' }],
    ] as const) {
      expect((await post(origin, headers)).status, `${origin} ${JSON.stringify(headers)}`).toBe(403);
    }
  });

  it('authenticates by the cookie, and refuses a state change without the matching CSRF header', async () => {
    const { cookie, csrf } = await session(keys.admin);
    const me = await t.app.request('/ui/session', { headers: { cookie } });
    expect(await me.json()).toEqual({ open: false, projectId: 'acme', role: 'admin' });
    expect((await t.app.request('/v1/studies', { headers: { cookie } })).status).toBe(200);

    const makeKey = (headers: Record<string, string>) => t.app.request('/v1/keys', { method: 'POST', headers: { ...json, ...headers }, body: JSON.stringify({ role: 'read', name: 'x' }) });
    const none = await makeKey({ cookie });
    expect(none.status).toBe(403);
    expect(((await none.json()) as { error: { message: string } }).error.message).toContain('X-CSRF-Token header equal to the maas_csrf cookie');
    expect((await makeKey({ cookie, 'x-csrf-token': 'not-the-token' })).status).toBe(403);
    expect((await makeKey({ cookie, 'x-csrf-token': `${csrf.slice(0, -1)}${csrf.endsWith('A') ? 'B' : 'A'}` })).status).toBe(403);
    expect((await makeKey({ cookie, 'x-csrf-token': `${csrf}A` })).status).toBe(403);
    // The header alone, with no CSRF cookie, proves nothing.
    expect((await makeKey({ cookie: `maas_key=${keys.admin}`, 'x-csrf-token': csrf })).status).toBe(403);
    expect((await makeKey({ cookie, 'x-csrf-token': csrf })).status).toBe(201);
    // A key in a header wins over the cookie and needs no token (scripts are not browsers).
    expect((await makeKey({ cookie, authorization: `Bearer ${keys.admin}` })).status).toBe(201);
    // The cookie still obeys the key's role.
    const reader = await session(keys.read);
    expect((await makeKey({ cookie: reader.cookie, 'x-csrf-token': reader.csrf })).status).toBe(403);
  });

  it('answers the session for a key of any role, and the queues only for an admin', async () => {
    for (const role of ['read', 'predict'] as const) {
      const { cookie } = await session(keys[role]);
      const res = await t.app.request('/ui/session', { headers: { cookie } });
      expect(await res.json()).toEqual({ open: false, projectId: 'acme', role });
      expect((await t.app.request('/ui/queues', { headers: { cookie } })).status).toBe(403);
    }
  });

  it('refuses a bad key, a revoked one and a malformed body', async () => {
    const bad = await login('maas_000000000000_wrongwrongwrongwrongwrongwrongwrongwrongwro');
    expect(bad.status).toBe(401);
    expect(bad.headers.getSetCookie()).toEqual([]);
    const missing = await t.app.request('/ui/login', { method: 'POST', headers: json, body: JSON.stringify({}) });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: { message: string } }).error.message).toContain('key');
    const form = await t.app.request('/ui/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `key=${keys.admin}` });
    expect(form.status).toBe(415);
    const huge = await t.app.request('/ui/login', { method: 'POST', headers: json, body: JSON.stringify({ key: 'k'.repeat(5000) }) });
    expect(huge.status).toBe(413);
    const revoked = await createKey(t.repo, { project: 'acme', role: 'admin', name: 'gone' });
    const { cookie } = await session(revoked.secret);
    await t.repo.keys.revoke(undefined, revoked.id);
    const after = await t.app.request('/v1/studies', { headers: { cookie } });
    expect(after.status).toBe(401);
    expect(((await after.json()) as { error: { message: string } }).error.message).toContain('sign in to the dashboard again');
    expect((await login(revoked.secret)).status).toBe(401);
  });

  it('clears both cookies on logout, which a signed-in browser asks with its CSRF token', async () => {
    const res = await t.app.request('/ui/logout', { method: 'POST', headers: json, body: '{}' });
    expect(res.status).toBe(204);
    const set = setCookies(res);
    expect(set.maas_key).toMatch(/^maas_key=; Max-Age=0; /);
    expect(set.maas_csrf).toMatch(/^maas_csrf=; Max-Age=0; /);

    // Another site's page cannot sign the browser out: without the token nothing is cleared.
    const { cookie, csrf } = await session(keys.admin);
    const forged = await t.app.request('/ui/logout', { method: 'POST', headers: { ...json, cookie }, body: '{}' });
    expect(forged.status).toBe(403);
    expect(forged.headers.getSetCookie()).toEqual([]);
    const own = await t.app.request('/ui/logout', { method: 'POST', headers: { ...json, cookie, 'x-csrf-token': csrf }, body: '{}' });
    expect(own.status).toBe(204);
    expect(Object.keys(setCookies(own)).sort()).toEqual(['maas_csrf', 'maas_key']);
  });
});

describe('dashboard sign-in failures', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('sqlite');
    await createKey(t.repo, { project: 'acme', role: 'admin', name: 'a' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('counts like other failed authentications: past the limit the address gets 429', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 31; i++) {
      const res = await t.app.request('/ui/login', { method: 'POST', headers: json, body: JSON.stringify({ key: `guess-${i}` }) });
      statuses.push(res.status);
    }
    expect(statuses.slice(0, 30).every((s) => s === 401)).toBe(true);
    expect(statuses[30]).toBe(429);
    // The same address's failed API requests share the budget.
    expect((await t.app.request('/v1/studies', { headers: { authorization: 'Bearer nope' } })).status).toBe(429);
  });
});
