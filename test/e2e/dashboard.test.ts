import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { studyEnd, uploadForm } from '../helpers/app.ts';
import { chartOption, launchBrowser, screenshot, startDashboard, watchProblems, type DashboardService } from '../helpers/browser.ts';
import { eventually } from '../helpers/processes.ts';

const wine = readFileSync(join(import.meta.dirname, '../fixtures/wine.csv'), 'utf8');

/** A chart's option as the page's ECharts instance holds it. */
type ChartOption = { series: { name: string; type: string; data: unknown[]; markPoint?: { data: unknown[] } }[] };
const chartOf = (page: Page, id: string) => chartOption<ChartOption>(page, id);

/** Sets a controlled input's value the way typing does, so preact's onInput sees it. */
async function fill(page: Page, selector: string, value: string): Promise<void> {
  await page.$eval(selector, (el, v) => {
    (el as HTMLInputElement).value = v;
    el.dispatchEvent(new Event('input', { bubbles: true }));
  }, value);
}

describe('dashboard', () => {
  let service: DashboardService;
  let browser: Browser;

  beforeAll(async () => {
    service = await startDashboard('sqlite');
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await service?.close();
  });

  test('a study started from the form shows its trials and curves live, and a trial page', async () => {
    const upload = await service.app.request('/v1/datasets', { method: 'POST', body: uploadForm(wine, { name: 'wine', kind: 'tabular', target: 'cultivar' }) });
    expect(upload.status).toBe(201);

    const page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 1000 });
    // Importance answers 409 until a study has enough completed trials; the page shows that as a note.
    const problems = watchProblems(page, [/status of 409 .*\/importance\)$/]);
    const streams: string[] = [];
    page.on('request', (r) => {
      if (r.url().endsWith('/events')) streams.push(r.url());
    });
    await page.goto(`${service.url}/`);
    await page.waitForSelector('[data-testid="session"]');
    expect(await page.$eval('[data-testid="session"]', (e) => e.textContent)).toContain('open deployment');

    // The session line can show before the studies page has rendered (seen once in CI, under load).
    await page.waitForSelector('[data-testid="new-study"]');
    await page.click('[data-testid="new-study"]');
    await page.waitForSelector('[data-testid="study-form"] select[name="datasetId"] option');
    await fill(page, 'input[name="name"]', 'wine-ui');
    await page.click('input[name="families"][value="mlp"]');
    await fill(page, 'input[name="maxTrials"]', '3');
    await fill(page, 'input[name="maxEpochs"]', '3');
    await fill(page, 'input[name="parallelism"]', '1');
    // Seeded: an unseeded 3-trial search sometimes stays under the baseline, and the champion checks below would not hold.
    await fill(page, 'input[name="seed"]', '42');
    await page.select('select[name="algorithm"]', 'random');
    expect(await page.$eval('select[name="metric"]', (e) => (e as HTMLSelectElement).value)).toBe('val_accuracy');
    await screenshot(page, 'study-form');
    await page.click('[data-testid="start-study"]');

    await page.waitForFunction(() => /^#\/studies\/[^/]+$/.test(location.hash));
    const studyId = decodeURIComponent((await page.evaluate(() => location.hash)).split('/')[2]!);
    const study = await service.repo.studies.get(studyId);
    expect(study?.config.budget).toMatchObject({ maxTrials: 3, maxEpochs: 3, parallelism: 1 });
    expect(study?.config.seed).toBe(42);
    expect(study?.config.search.families).toEqual(['mlp']);
    // A mark on the window is lost on a reload: what follows must appear while it stays.
    await page.evaluate(() => ((window as unknown as { noReload: boolean }).noReload = true));

    await page.waitForSelector('[data-testid="leaderboard-row"]', { timeout: 120_000 });
    await eventually(async () => ((await chartOf(page, 'curves'))?.series.some((s) => s.data.length > 0) ? true : undefined), 'a learning curve drawn', 120_000);
    // The page's own echarts, not a copy left on the window for tests.
    expect(await page.evaluate(() => 'echarts' in window)).toBe(false);

    const end = await studyEnd(service.repo, studyId);
    expect(end, end.errors).toMatchObject({ state: 'completed' });
    // Every trial's row and curve arrive, and the champion decision, still without a reload.
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="leaderboard-row"][data-state="completed"]').length === 3, { timeout: 60_000 });
    await page.waitForSelector('[data-testid="champion-decision"]', { timeout: 60_000 });
    expect(await page.$eval('[data-testid="champion-decision"]', (e) => e.textContent)).toMatch(/^Champion moved to v1: best trial #\d+/);
    expect(await page.evaluate(() => (window as unknown as { noReload?: boolean }).noReload)).toBe(true);
    // Live by the event stream, not by the polling that stands in when there is none.
    expect(streams).toEqual([`${service.url}/v1/studies/${studyId}/events`]);
    expect(await page.$('[data-testid="polling-note"]')).toBeNull();

    const trials = await service.repo.trials.list(studyId);
    const curves = await chartOf(page, 'curves');
    expect(curves!.series.map((s) => s.name).sort()).toEqual(trials.map((t) => `#${t.number} mlp`).sort());
    for (const t of trials) {
      const series = curves!.series.find((s) => s.name === `#${t.number} mlp`)!;
      expect(series.data.map((p) => (p as number[])[0])).toEqual(Array.from({ length: t.epochs }, (_, i) => i + 1));
    }
    const history = await chartOf(page, 'history');
    const best = history!.series.find((s) => s.name === 'best so far')!;
    expect(best.data).toHaveLength(3);
    const bestValue = Math.max(...trials.map((t) => t.value!));
    expect((best.data[2] as number[])[1]).toBeCloseTo(bestValue, 10);
    expect(history!.series.some((s) => s.name.startsWith('baseline'))).toBe(true);
    const rows = await page.$$eval('[data-testid="leaderboard-row"]', (trs) => trs.map((tr) => tr.getAttribute('data-trial-id')));
    expect(rows).toHaveLength(3);
    // Three trials are too few for importance: the page says so instead of a chart.
    await page.waitForSelector('[data-testid="importance-note"]');
    expect(await page.$('[data-chart="parallel"]')).not.toBeNull();
    await screenshot(page, 'study');

    // Sorting by trial number, then the best trial's page.
    await page.click('th[data-sort="number"]');
    expect(await page.$$eval('[data-testid="leaderboard-row"]', (trs) => trs.map((tr) => tr.querySelector('td:nth-child(2)')!.textContent))).toEqual(['#0', '#1', '#2']);
    await page.click('th[data-sort="rank"]');
    await page.click('[data-testid="leaderboard-row"] td:nth-child(2) a');
    await page.waitForSelector('[data-chart="trial-curve"]');
    const top = trials.find((t) => t.id === rows[0])!;
    expect(await page.$eval('[data-testid="trial-backend"]', (e) => e.textContent)).toBe('cpu');
    expect(await page.$eval('[data-testid="trial-outcome"]', (e) => e.textContent)).toMatch(/trained all 3 epochs|stopped early/);
    const trialCurve = await chartOf(page, 'trial-curve');
    expect(trialCurve!.series.find((s) => s.name === 'val_accuracy')!.data).toHaveLength(top.epochs);
    expect(await page.$$eval('[data-testid="trial-params"] tr', (trs) => trs.length)).toBe(Object.keys(top.params).length);
    await screenshot(page, 'trial');

    await page.goto(`${service.url}/#/studies`);
    await page.waitForSelector('[data-testid="study-row"]');
    expect(await page.$eval('[data-testid="study-progress"]', (e) => e.textContent)).toContain('3 / 3 trials');
    await screenshot(page, 'studies');
    // With the stream refused (over the server's caps), the page reads the api instead: no curve of
    // a trial that has ended, and it tries the stream again a little later.
    const refused = await browser.newPage();
    await refused.setRequestInterception(true);
    const asked: string[] = [];
    refused.on('request', (r) => {
      asked.push(new URL(r.url()).pathname);
      if (r.url().includes('/events')) void r.respond({ status: 503, headers: { 'retry-after': '1' }, contentType: 'application/json', body: '{"error":{"code":"busy","message":"busy"}}' });
      else void r.continue();
    });
    await refused.goto(`${service.url}/#/studies/${encodeURIComponent(studyId)}`);
    await refused.waitForSelector('[data-testid="polling-note"]');
    await refused.waitForSelector('[data-testid="leaderboard-row"][data-state="completed"]');
    await eventually(async () => (asked.filter((p) => p.endsWith('/events')).length >= 2 ? true : undefined), 'the stream asked again', 30_000);
    expect(asked.filter((p) => /\/trials\/[^/]+$/.test(p))).toEqual([]);
    await refused.close();

    // A malformed hash gets the not-found notice over the studies, not a blank page.
    await page.goto(`${service.url}/#/studies/%E0`);
    await page.waitForSelector('[data-testid="not-found"]');
    expect(await page.$eval('[data-testid="not-found"]', (e) => e.textContent)).toContain('/studies/%E0');
    await page.waitForSelector('[data-testid="study-row"]');
    expect(problems).toEqual([]);
    await page.close();
  }, 300_000);

  test('a completed study is continued from its page through a confirmed form, and the page follows it live again', async () => {
    const upload = await service.app.request('/v1/datasets', { method: 'POST', body: uploadForm(wine, { name: 'wine-continue', kind: 'tabular', target: 'cultivar' }) });
    expect(upload.status).toBe(201);
    const { id: datasetId } = (await upload.json()) as { id: string };
    const json = { 'content-type': 'application/json' };
    const created = await service.app.request('/v1/studies', {
      method: 'POST', headers: json,
      body: JSON.stringify({ name: 'wine-continue', datasetId, objective: { metric: 'val_accuracy', direction: 'maximize' }, budget: { maxTrials: 2, maxEpochs: 2, parallelism: 1 }, search: { algorithm: 'random', families: ['mlp'] }, seed: 42 }),
    });
    const { id: studyId } = (await created.json()) as { id: string };
    expect(created.status).toBe(202);
    const first = await studyEnd(service.repo, studyId);
    expect(first, first.errors).toMatchObject({ state: 'completed' });

    const page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 1000 });
    // Importance answers 409 with few trials; the refused budget below answers 400 on purpose.
    const problems = watchProblems(page, [/status of 409 .*\/importance\)$/, /status of 400 .*\/continue\)$/]);
    const streams: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/events')) streams.push(r.url());
    });
    await page.goto(`${service.url}/#/studies/${encodeURIComponent(studyId)}`);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="leaderboard-row"][data-state="completed"]').length === 2, { timeout: 60_000 });
    await page.waitForSelector('h1 [data-state="completed"]');
    // Every state the page's badge shows from here on, and a mark a reload would lose.
    await page.evaluate(() => {
      const w = window as unknown as { noReload: boolean; states: string[] };
      w.noReload = true;
      w.states = ['completed'];
      new MutationObserver(() => {
        const state = document.querySelector('h1 [data-state]')?.getAttribute('data-state');
        if (state && state !== w.states.at(-1)) w.states.push(state);
      }).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
    });

    // A budget under the current one: the api's message is shown under the form, which stays open.
    await page.click('[data-testid="continue-study"]');
    await page.waitForSelector('[data-testid="continue-form"]');
    expect(await page.$eval('input[name="maxTrials"]', (e) => Number((e as HTMLInputElement).value))).toBeGreaterThan(2);
    await fill(page, 'input[name="maxTrials"]', '1');
    await page.click('[data-testid="continue-apply"]');
    await page.waitForSelector('[data-testid="confirm-continue"]');
    await page.click('[data-testid="continue-confirm-button"]');
    await page.waitForSelector('[data-testid="continue-error"]');
    expect(await page.$eval('[data-testid="continue-error"]', (e) => e.textContent)).toMatch(/maxTrials.*at least the study's current 2/);
    expect((await service.repo.studies.get(studyId))?.state).toBe('completed');

    await fill(page, 'input[name="maxTrials"]', '4');
    await page.click('[data-testid="continue-apply"]');
    await page.waitForSelector('[data-testid="confirm-continue"]');
    expect(await page.$eval('[data-testid="confirm-continue"]', (e) => e.textContent)).toContain('trials 2 → 4');
    await page.click('[data-testid="continue-confirm-button"]');
    await page.waitForSelector('[data-testid="continue-notice"]');
    expect(await page.$('[data-testid="continue-error"]')).toBeNull();

    // The new trials' rows and curves arrive by the reopened stream, and the study ends again, all without a reload.
    const again = await studyEnd(service.repo, studyId);
    expect(again, again.errors).toMatchObject({ state: 'completed' });
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="leaderboard-row"][data-state="completed"]').length === 4, { timeout: 60_000 });
    await page.waitForFunction(() => (window as unknown as { states: string[] }).states.at(-1) === 'completed' && (window as unknown as { states: string[] }).states.length > 1, { timeout: 60_000 });
    const seen = await page.evaluate(() => {
      const w = window as unknown as { noReload?: boolean; states: string[] };
      return { noReload: w.noReload, states: w.states };
    });
    expect(seen.noReload).toBe(true);
    // Running (perhaps queued first) and completed again.
    expect(seen.states[0]).toBe('completed');
    expect(seen.states).toContain('running');
    expect(seen.states.at(-1)).toBe('completed');
    expect(await page.$eval('[data-testid="study-budget"]', (e) => e.textContent)).toMatch(/^4 trials/);
    await page.waitForFunction(() => document.querySelector('[data-testid="study-progress"]')?.textContent?.startsWith('4 / 4 trials ended'), { timeout: 30_000 });

    // The api agrees, and the page shows its trials.
    const view = (await (await service.app.request(`/v1/studies/${studyId}`)).json()) as { state: string; counts: Record<string, number>; config: { budget: { maxTrials: number } }; resumedAt: string | null };
    expect(view).toMatchObject({ state: 'completed', config: { budget: { maxTrials: 4 } } });
    expect(view.resumedAt).not.toBeNull();
    expect(Object.values(view.counts).reduce((a, b) => a + b, 0)).toBe(4);
    const trials = await service.repo.trials.list(studyId);
    expect(trials.map((t) => t.number).sort()).toEqual([0, 1, 2, 3]);
    const rows = await page.$$eval('[data-testid="leaderboard-row"]', (trs) => trs.map((tr) => tr.getAttribute('data-trial-id')));
    expect(rows.sort()).toEqual(trials.map((t) => t.id).sort());
    await eventually(async () => ((await chartOf(page, 'curves'))?.series.length === 4 ? true : undefined), 'four learning curves drawn', 30_000);
    const curves = await chartOf(page, 'curves');
    for (const t of trials) {
      const series = curves!.series.find((s) => s.name === `#${t.number} mlp`)!;
      expect(series.data.map((p) => (p as number[])[0])).toEqual(Array.from({ length: t.epochs }, (_, i) => i + 1));
    }
    // One stream for the history to the first end, one more from the last event seen, not from the start.
    expect(streams).toHaveLength(2);
    expect(streams[0]).toBe(`${service.url}/v1/studies/${studyId}/events`);
    expect(streams[1]).toMatch(new RegExp(`^${service.url}/v1/studies/${studyId}/events\\?after=\\d+-\\d+$`));
    expect(await page.$('[data-testid="polling-note"]')).toBeNull();
    await screenshot(page, 'study-continued');
    expect(problems).toEqual([]);
    await page.close();
  }, 300_000);

  test('with keys, the dashboard asks for one and keeps it in an HttpOnly cookie guarded by a CSRF token', async () => {
    const made = await service.app.request('/v1/keys', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ role: 'admin', name: 'ui' }) });
    expect(made.status).toBe(201);
    const { secret } = (await made.json()) as { secret: string };
    // The api caches "no key exists" for a second.
    await new Promise((r) => setTimeout(r, 1100));

    const context = await browser.createBrowserContext();
    const page = await context.newPage();
    await page.goto(`${service.url}/`);
    await page.waitForSelector('[data-testid="login-form"]');

    await page.type('input[name="key"]', 'maas_000000000000_wrongwrongwrongwrongwrongwrongwrongwrongwro');
    await page.click('[data-testid="login-form"] button[type="submit"]');
    await page.waitForSelector('[data-testid="login-error"]');
    expect(await page.cookies()).toEqual([]);

    await page.$eval('input[name="key"]', (e) => ((e as HTMLInputElement).value = ''));
    await page.type('input[name="key"]', secret);
    await page.click('[data-testid="login-form"] button[type="submit"]');
    await page.waitForSelector('[data-testid="study-row"]');
    expect(await page.$eval('[data-testid="session"]', (e) => e.textContent)).toContain('admin');

    const cookies = await page.cookies();
    const key = cookies.find((c) => c.name === 'maas_key');
    const csrf = cookies.find((c) => c.name === 'maas_csrf');
    expect(key).toMatchObject({ value: secret, httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(csrf).toMatchObject({ httpOnly: false, sameSite: 'Strict' });
    expect(await page.evaluate(() => document.cookie)).not.toContain('maas_key');

    const post = (withToken: boolean) =>
      page.evaluate(async (token) => {
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (token) headers['X-CSRF-Token'] = document.cookie.match(/maas_csrf=([^;]+)/)![1]!;
        const res = await fetch('/v1/keys', { method: 'POST', headers, body: JSON.stringify({ role: 'read', name: 'from-the-page' }) });
        return { status: res.status, body: await res.json() };
      }, withToken);
    const refused = await post(false);
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toContain('X-CSRF-Token');
    expect((await post(true)).status).toBe(201);

    await page.click('[data-testid="logout"]');
    await page.waitForSelector('[data-testid="login-form"]');
    expect((await page.cookies()).map((c) => c.name)).toEqual([]);
    await screenshot(page, 'login');
    await context.close();
  }, 120_000);
});
