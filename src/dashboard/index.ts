import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { errorBody } from '../api/errors.ts';
import type { Repository } from '../storage/index.ts';
import { registerSession } from './session.ts';
import { contentSecurityPolicy, publicFile, vendorFiles, type StaticFile } from './static.ts';

export interface DashboardDeps {
  repo: Repository;
  /** Called on a failed login, like a failed authentication of any other request (the failure rate limit). */
  onFailure?: (c: Context) => Promise<void>;
}

function send(c: Context, file: StaticFile | null, cacheControl: string): Response {
  if (!file) return c.json(errorBody('not_found', `no dashboard file at ${c.req.path}`), 404);
  const headers = { 'Content-Type': file.contentType, 'Cache-Control': cacheControl, ETag: file.etag };
  if (c.req.header('if-none-match') === file.etag) return c.body(null, 304, headers);
  return c.body(file.body as Uint8Array<ArrayBuffer>, 200, headers);
}

/**
 * The dashboard at `/`: the page, its modules under /ui/app/, the allowlisted browser builds of
 * preact, htm and echarts under /ui/vendor/, and the cookie login under /ui/. Registered with
 * plain routes (static files) or hidden ones (login), so none of it enters /openapi.json.
 */
export function registerDashboard(app: OpenAPIHono, deps: DashboardDeps): void {
  const vendor = vendorFiles();

  app.get('/', async (c) => {
    const file = await publicFile('index.html');
    if (file) c.header('Content-Security-Policy', contentSecurityPolicy(new TextDecoder().decode(file.body)));
    return send(c, file, 'no-cache');
  });
  // Revalidated on every load (cheap with the ETag), so a new version of a page is never mixed with an old one.
  app.get('/ui/app/*', async (c) => send(c, await publicFile(c.req.path.slice('/ui/app/'.length)), 'no-cache'));
  app.get('/ui/vendor/:name', async (c) => send(c, await vendor(c.req.param('name')), 'public, max-age=86400'));

  registerSession(app, deps);
}
