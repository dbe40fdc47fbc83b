import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';

const publicDir = join(import.meta.dirname, '../../src/dashboard/public');

/** The dashboard's files: fixed types, no way out of its folder, only the allowlisted vendor modules. */
describe('dashboard files', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('sqlite');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('serves the page with a CSP that allows exactly its import map', async () => {
    const res = await t.app.request('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await res.text();
    expect(html).toBe(readFileSync(join(publicDir, 'index.html'), 'utf8'));
    const map = /<script type="importmap">([\s\S]*?)<\/script>/.exec(html)![1]!;
    expect(JSON.parse(map).imports).toEqual({ preact: '/ui/vendor/preact.mjs', 'preact/hooks': '/ui/vendor/preact-hooks.mjs', htm: '/ui/vendor/htm.mjs', echarts: '/ui/vendor/echarts.mjs' });
    const csp = res.headers.get('content-security-policy')!;
    const hash = createHash('sha256').update(map).digest('base64');
    expect(csp).toContain(`script-src 'self' 'sha256-${hash}';`);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    // The app-wide secure headers stay on.
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('serves its modules and styles with fixed types and revalidation', async () => {
    const js = await t.app.request('/ui/app/app.js');
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe('no-cache');
    expect(await js.text()).toBe(readFileSync(join(publicDir, 'app.js'), 'utf8'));
    const etag = js.headers.get('etag')!;
    const again = await t.app.request('/ui/app/app.js', { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    expect((await t.app.request('/ui/app/pages/study.js')).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await t.app.request('/ui/app/style.css')).headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect((await t.app.request('/ui/app/favicon.svg')).headers.get('content-type')).toBe('image/svg+xml');
  });

  it('answers 404 for unknown files and types', async () => {
    for (const path of ['/ui/app/nope.js', '/ui/app/pages/nope.js', '/ui/app/', '/ui/app/pages', '/ui/app/index.ts', '/ui/app/.hidden.js', '/ui/app/app.js.map']) {
      const res = await t.app.request(path);
      expect(res.status, path).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code, path).toBe('not_found');
    }
  });

  it('never reads outside its folder, however the path is spelled', async () => {
    // Targets of a type the dashboard serves (.json, .js), three and four folders up.
    const paths = [
      '/ui/app/%2e%2e/%2e%2e/%2e%2e/package.json',
      '/ui/app/pages/%2e%2e/%2e%2e/%2e%2e/%2e%2e/package.json',
      '/ui/app/%2e%2e/%2e%2e/%2e%2e/node_modules/htm/dist/htm.mjs',
      '/ui/app/..%5c..%5c..%5cpackage.json',
      '/ui/app/%2e%2e/index.ts',
      '/ui/app/..%2fstatic.ts',
      '/ui/app/%2e%2e%2f%2e%2e%2fapi%2fauth.ts',
      '/ui/app/pages/%2e%2e/%2e%2e/static.ts',
      '/ui/app/..%5cstatic.ts',
      '/ui/app/%2fetc%2fpasswd',
      '/ui/app//etc/passwd',
      '/ui/app/pages/..%2f..%2f..%2f..%2fpackage.json',
      '/ui/app/app.js%00.css',
      '/ui/vendor/..%2f..%2fpackage.json',
      '/ui/vendor/%2e%2e%2fpackage.json',
    ];
    for (const path of paths) {
      const res = await t.app.request(path);
      expect(res.status, path).toBe(404);
      const body = await res.text();
      expect(body, path).not.toContain('"dependencies"');
      expect(body, path).not.toContain('export');
      expect(body, path).not.toContain('root:');
    }
  });

  it('serves only the allowlisted vendor modules, as JavaScript', async () => {
    const expected: Record<string, string> = { 'preact.mjs': 'createElement', 'preact-hooks.mjs': 'useState', 'htm.mjs': 'export', 'echarts.mjs': 'getInstanceByDom' };
    for (const [name, text] of Object.entries(expected)) {
      const res = await t.app.request(`/ui/vendor/${name}`);
      expect(res.status, name).toBe(200);
      expect(res.headers.get('content-type'), name).toBe('text/javascript; charset=utf-8');
      expect(res.headers.get('cache-control'), name).toContain('max-age=');
      expect(await res.text(), name).toContain(text);
    }
    for (const name of ['package.json', 'preact', 'hono.mjs', 'echarts.js', 'constructor', '__proto__', 'toString']) {
      expect((await t.app.request(`/ui/vendor/${name}`)).status, name).toBe(404);
    }
  });

  it('keeps the dashboard out of the OpenAPI document', async () => {
    const doc = (await (await t.app.request('/openapi.json')).json()) as { paths: Record<string, unknown> };
    const paths = Object.keys(doc.paths);
    expect(paths.filter((p) => p === '/' || p.startsWith('/ui'))).toEqual([]);
    expect(paths).toContain('/v1/studies');
  });
});
