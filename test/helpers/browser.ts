import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import type { AppDeps } from '../../src/api/create-app.ts';
import { startTestApp, type TestApp } from './app.ts';
import type { Provider } from './databases.ts';

const ARTIFACTS = join(import.meta.dirname, '../artifacts');

/** Headless Chromium: CHROMIUM_PATH, else the system's /usr/bin/chromium. Close it in afterAll. */
export function launchBrowser(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
}

/** Saves a full-page screenshot to test/artifacts/<name>.png (gitignored) for a person to look at. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: path as `${string}.png`, fullPage: true });
  return path;
}

export interface DashboardService extends TestApp {
  /** http://127.0.0.1:<port>, the address the page is opened at. */
  url: string;
}

/**
 * The real app (with the coordinator loop and one cpu worker unless `withWorker` is false)
 * listening on a free loopback port, so a browser can load the dashboard and its event streams.
 * `close()` stops the server, then the app.
 */
export async function startDashboard(provider: Provider = 'sqlite', options: { withWorker?: boolean; app?: Pick<AppDeps, 'corsOrigins' | 'rateLimitPerMinute' | 'quotas'> } = {}): Promise<DashboardService> {
  const t = await startTestApp(provider, { withWorker: options.withWorker ?? true, app: options.app });
  let server: ServerType | undefined;
  try {
    const port = await new Promise<number>((resolve, reject) => {
      server = serve({ fetch: t.app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => resolve(info.port));
      server.once('error', reject);
    });
    return {
      ...t,
      url: `http://127.0.0.1:${port}`,
      close: async () => {
        // Open event streams would keep the server from closing; they are dropped with their sockets.
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
        await new Promise<void>((resolve) => server!.close(() => resolve()));
        await t.close();
      },
    };
  } catch (err) {
    server?.close();
    await t.close();
    throw err;
  }
}

/**
 * Collects the page's console errors (among them CSP violations and failed loads, with the
 * address) and uncaught errors, so a test can assert there were none. `expected` leaves out
 * the errors it matches, such as an answer the page asks for knowing it may be a 409.
 */
export function watchProblems(page: Page, expected: RegExp[] = []): string[] {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const text = `console: ${m.text()}${m.location().url ? ` (${m.location().url})` : ''}`;
    if (!expected.some((e) => e.test(text))) problems.push(text);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${(e as Error).message}`));
  return problems;
}

/**
 * A chart's option as the page's ECharts instance holds it (a JSON copy), or null while the
 * chart is not drawn. The page's echarts module is imported by its import-map URL, which gives
 * the very instance the page uses; the code is a string so that the test runner's transform
 * leaves its import() alone.
 */
export function chartOption<T = unknown>(page: Page, id: string): Promise<T | null> {
  return page.evaluate(`(async () => {
    const el = document.querySelector(${JSON.stringify(`[data-chart="${id}"]`)});
    if (!el) return null;
    const echarts = await import('/ui/vendor/echarts.mjs');
    const option = echarts.getInstanceByDom(el)?.getOption();
    return option ? JSON.parse(JSON.stringify(option)) : null;
  })()`) as Promise<T | null>;
}
