/**
 * Bull Board, read-only, at /ui/queues: every job of the trial and study-event queues, for an
 * operator debugging the cluster. Its page and assets come from @bull-board/ui in node_modules;
 * nothing comes from the network (its page's Google Fonts link is removed, and the CSP below
 * would refuse it anyway), so the board uses system fonts.
 */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { HonoAdapter } from '@bull-board/hono';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Queue } from 'bullmq';
import { ForbiddenError } from '../../errors.ts';
import { DEFAULT_PROJECT } from '../../storage/index.ts';
import { errorBody } from '../errors.ts';
import { principalOf } from '../auth.ts';

/** Where the board is mounted. */
export const BULL_BOARD_PATH = '/ui/queues';

/**
 * Its script and styles are same-origin files; its React styles some elements inline, and
 * its own page inlines a loading spinner's styles. Nothing else may load.
 */
const CSP = ["default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'", "img-src 'self' data:", "font-src 'self' data:", "connect-src 'self'", "frame-ancestors 'self'", "base-uri 'self'", "form-action 'self'", "object-src 'none'"].join('; ');

export function mountBullBoard(app: OpenAPIHono, queues: Queue[]): void {
  const adapter = new HonoAdapter(serveStatic).setBasePath(BULL_BOARD_PATH);
  createBullBoard({
    // The board's adapter types name its own copy of bullmq's Queue; ours is the same class.
    queues: queues.map((q) => new BullMQAdapter(q as never, { readOnlyMode: true })),
    // @bull-board/hono pins a patch release of @bull-board/api of its own; only their type declarations differ.
    serverAdapter: adapter as unknown as Parameters<typeof createBullBoard>[0]['serverAdapter'],
    options: { uiConfig: { boardTitle: 'maas queues', hideDocsLink: true, miscLinks: [{ text: 'Dashboard', url: '/' }] } },
  });

  // The wildcard also matches the bare path.
  app.use(`${BULL_BOARD_PATH}/*`, async (c, next) => {
    // Read-only twice over: the adapters refuse changes, and nothing but reads reaches them.
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
      return c.json(errorBody('method_not_allowed', `the queue board is read-only; ${c.req.method} is not allowed`), 405, { Allow: 'GET, HEAD' });
    }
    // Jobs carry the ids of every project's studies and trials: only the operator's project sees them.
    const principal = principalOf(c);
    if (principal.role !== 'admin' || principal.projectId !== DEFAULT_PROJECT) {
      throw new ForbiddenError(`the queue board shows the jobs of every project, so it needs an admin key of the project '${DEFAULT_PROJECT}'; this key is ${principal.role} of '${principal.projectId}'`);
    }
    await next();
    c.header('Content-Security-Policy', CSP);
    // Its page links a Google Fonts stylesheet; the board is served offline, so the link goes.
    if (c.res.headers.get('content-type')?.startsWith('text/html')) {
      const page = (await c.res.text()).replace(/<link[^>]+href="https:\/\/fonts\.googleapis\.com[^>]*>/g, '');
      const headers = new Headers(c.res.headers);
      headers.delete('content-length');
      c.res = new Response(page, { status: c.res.status, headers });
    }
  });
  // Its page is at the bare path (routes are strict); the usual link with a slash leads there.
  app.get(`${BULL_BOARD_PATH}/`, (c) => c.redirect(BULL_BOARD_PATH, 301));
  app.route(BULL_BOARD_PATH, adapter.registerPlugin());
}
