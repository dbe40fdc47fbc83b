import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerWineVersion } from '../helpers/wine.ts';
import { chartOption, launchBrowser, screenshot, startDashboard, watchProblems, type DashboardService } from '../helpers/browser.ts';

const WINE = join(import.meta.dirname, '../fixtures/wine.csv');
const MODEL = 'wine-e2e';

type ModelView = { aliases: Record<string, number> };
type AliasView = { version: number; canary: { version: number; weight: number }[]; shadow: { version: number; share: number } | null };

/**
 * The operations pages in real headless Chromium against the real service: upload a dataset
 * through the form, read its summary, move the champion from the model page (roll back and
 * promote, each confirmed), predict from the prefilled form (and see a 4xx inline), watch the
 * workers page, and open Bull Board. Every check reads the DOM or chart data and, for changes,
 * the api as well.
 */
describe('dashboard: datasets, models, workers', () => {
  let s: DashboardService;
  let browser: Browser;
  let page: Page;
  let problems: string[];
  let datasetId = '';

  const apiJson = async <T>(path: string, init: RequestInit = {}): Promise<T> => {
    const res = await fetch(`${s.url}${path}`, { ...init, headers: { 'content-type': 'application/json', ...(init.headers as Record<string, string>) } });
    expect(res.ok, `${path}: ${res.status}`).toBe(true);
    return (res.status === 204 ? null : await res.json()) as T;
  };
  const open = async (hash: string) => {
    await page.goto(`${s.url}/#${hash}`, { waitUntil: 'domcontentloaded' });
  };
  const texts = (selector: string) => page.$$eval(selector, (els) => els.map((e) => e.textContent?.trim() ?? ''));
  const championInDom = () => page.$eval('[data-testid=alias][data-alias=champion]', (e) => Number(e.getAttribute('data-version')));

  beforeAll(async () => {
    s = await startDashboard('sqlite');
    browser = await launchBrowser();
    page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    problems = watchProblems(page);
    page.on('response', (r) => {
      if (r.status() >= 500) problems.push(`${r.status()} ${r.url()}`);
    });
  });
  afterAll(async () => {
    await browser?.close();
    await s?.close();
  });

  it('uploads a dataset through the form and shows its summary', async () => {
    await open('/datasets');
    await page.waitForSelector('[data-testid=upload-form]');
    const file = await page.$('[data-testid=upload-form] input[name=file]');
    await file!.uploadFile(WINE);
    await page.type('[data-testid=upload-form] input[name=name]', 'wine from the form');
    await page.type('[data-testid=upload-form] input[name=target]', 'cultivar');
    await page.click('[data-testid=upload-button]');
    await page.waitForSelector('[data-testid=upload-result]');
    expect(await page.$eval('[data-testid=upload-result]', (e) => e.textContent)).toContain('wine from the form');
    await page.waitForSelector('[data-testid=dataset-row]');
    datasetId = (await page.$eval('[data-testid=dataset-row]', (e) => e.getAttribute('data-dataset')))!;
    const stored = await apiJson<{ name: string; rows: number; target: string }>(`/v1/datasets/${datasetId}`);
    expect(stored).toMatchObject({ name: 'wine from the form', rows: 178, target: 'cultivar' });
    await screenshot(page, 'dashboard-datasets');

    await page.click(`[data-testid=dataset-row][data-dataset="${datasetId}"] a`);
    await page.waitForSelector('[data-chart=class-counts] canvas');
    expect(await texts('[data-testid=class-row] td:first-child')).toEqual(['class_0', 'class_1', 'class_2']);
    const option = await chartOption<{ series: { data: number[] }[]; xAxis: { data: string[] }[] }>(page, 'class-counts');
    expect(option!.xAxis[0]!.data).toEqual(['class_0', 'class_1', 'class_2']);
    expect(option!.series[0]!.data).toEqual([59, 71, 48]);
    const train = Number(await page.$eval('[data-testid=split-train]', (e) => e.textContent));
    const validation = Number(await page.$eval('[data-testid=split-validation]', (e) => e.textContent));
    expect(train + validation).toBe(178);
    expect(await page.$$('[data-testid=column-row]')).toHaveLength(14);
    await page.waitForSelector('[data-testid=preview-table] tbody tr');
    await screenshot(page, 'dashboard-dataset');
  });

  it('moves the champion from the model page, confirming first', async () => {
    await registerWineVersion(s.repo, { projectId: 'default', datasetId, name: MODEL, seed: 1 });
    await registerWineVersion(s.repo, { projectId: 'default', datasetId, name: MODEL, seed: 2 });

    await open('/models');
    await page.waitForSelector(`[data-testid=model-row][data-model="${MODEL}"]`);
    expect(await page.$eval(`[data-testid=model-row][data-model="${MODEL}"] [data-testid=model-champion]`, (e) => e.textContent)).toBe('v2');
    await screenshot(page, 'dashboard-models');

    await page.click(`[data-testid=model-row][data-model="${MODEL}"] a`);
    await page.waitForSelector('[data-testid=alias][data-alias=champion]');
    expect(await championInDom()).toBe(2);
    expect(await page.$$('[data-testid=version-row]')).toHaveLength(2);

    // Roll back to v1: nothing moves until the confirmation.
    await page.click('[data-testid=rollback-button]');
    await page.waitForSelector('[data-testid=confirm-promote]');
    expect(await page.$eval('[data-testid=confirm-promote]', (e) => e.textContent)).toContain('from v2 to v1');
    expect((await apiJson<ModelView>(`/v1/models/${MODEL}`)).aliases.champion).toBe(2);
    await page.click('[data-testid=confirm-button]');
    await page.waitForSelector('[data-testid=alias][data-alias=champion][data-version="1"]');
    expect((await apiJson<ModelView>(`/v1/models/${MODEL}`)).aliases.champion).toBe(1);

    // Promote v2 again from its row; a cancelled confirmation changes nothing.
    await page.click('[data-testid=promote-button][data-version="2"]');
    await page.click('[data-testid=cancel-button]');
    expect(await page.$('[data-testid=confirm-promote]')).toBeNull();
    expect((await apiJson<ModelView>(`/v1/models/${MODEL}`)).aliases.champion).toBe(1);
    await page.click('[data-testid=promote-button][data-version="2"]');
    await page.click('[data-testid=confirm-button]');
    await page.waitForSelector('[data-testid=alias][data-alias=champion][data-version="2"]');
    expect(await page.$eval('[data-testid=promote-notice]', (e) => e.textContent)).toContain('champion now points to v2 (it was v1)');
    expect((await apiJson<ModelView>(`/v1/models/${MODEL}`)).aliases.champion).toBe(2);
    await screenshot(page, 'dashboard-model-promoted');
  });

  it('predicts from the form prefilled with a real row, and shows a 4xx inline', async () => {
    await page.waitForSelector('[data-testid=predict-form] input[data-field=alcohol]');
    const row = await page.$$eval('[data-testid=predict-form] input[data-field]', (els) => Object.fromEntries(els.map((e) => [e.getAttribute('data-field'), Number((e as HTMLInputElement).value)])));
    // The first validation row of the dataset, as the sample route gives it.
    const sample = await apiJson<{ instances: Record<string, number>[]; targets: string[] }>(`/v1/datasets/${datasetId}/sample?limit=1`);
    expect(Object.keys(row).sort()).toEqual(Object.keys(sample.instances[0]!).sort());
    for (const [k, v] of Object.entries(sample.instances[0]!)) expect(row[k]).toBeCloseTo(v, 6);

    await page.click('[data-testid=predict-button]');
    await page.waitForSelector('[data-testid=predict-result]');
    const shown = await page.$eval('[data-testid=predict-label]', (e) => e.textContent);
    const answer = await apiJson<{ predictions: { label: string }[] }>(`/v1/models/${MODEL}/predict`, { method: 'POST', body: JSON.stringify({ instances: [row] }) });
    expect(shown).toBe(answer.predictions[0]!.label);
    expect(await page.$$('[data-testid=probability-row]')).toHaveLength(3);
    expect(await page.$eval('[data-testid=predict-result]', (e) => e.textContent)).toContain(`this row's true class: ${sample.targets[0]}`);
    await screenshot(page, 'dashboard-model-predicted');

    // An alias deleted after the page loaded: the api's 404 names it, inline.
    await apiJson(`/v1/models/${MODEL}/promote`, { method: 'POST', body: JSON.stringify({ version: 1, alias: 'staging' }) });
    await page.reload({ waitUntil: 'domcontentloaded' });
    await page.waitForSelector('[data-testid=predict-form] select[name=alias] option[value=staging]');
    await page.select('[data-testid=predict-form] select[name=alias]', 'staging');
    await page.waitForSelector('[data-testid=predict-form] input[data-field=alcohol]');
    await apiJson(`/v1/models/${MODEL}/aliases/staging`, { method: 'DELETE' });
    await page.click('[data-testid=predict-button]');
    await page.waitForSelector('[data-testid=predict-error]');
    expect(await page.$eval('[data-testid=predict-error]', (e) => e.textContent)).toContain('staging');
    expect(await page.$('[data-testid=predict-result]')).toBeNull();
    // The browser logs that 404 itself; it was the one this step asked for.
    const expected = (p: string) => p.includes('/predict?alias=staging') && p.includes('404');
    expect(problems.filter(expected)).toHaveLength(1);
    problems.splice(0, problems.length, ...problems.filter((p) => !expected(p)));
  });

  it("sets an alias's canary and shadow from the model page, confirming first, then clears them", async () => {
    // v3 becomes the champion; v2 and v1 are there to be its canary and its shadow.
    await registerWineVersion(s.repo, { projectId: 'default', datasetId, name: MODEL, seed: 3 });
    const routing = () => apiJson<AliasView>(`/v1/models/${MODEL}/aliases/champion`);
    await open(`/models/${MODEL}`);
    // The page may already be at that address (a hash change alone loads nothing): load it anew.
    await page.reload({ waitUntil: 'domcontentloaded' });
    await page.waitForSelector('[data-testid=alias][data-alias=champion][data-version="3"]');
    await page.waitForSelector('[data-testid=routing-edit][data-alias=champion]');
    expect(await page.$('[data-testid=alias-routing]')).toBeNull();

    await page.click('[data-testid=routing-edit][data-alias=champion]');
    await page.waitForSelector('[data-testid=routing-form]');
    expect(await page.$eval('[data-testid=routing-form] select[name=version]', (e) => (e as HTMLSelectElement).value)).toBe('3');
    await page.click('[data-testid=add-canary]');
    await page.select('[data-testid=canary-row] select[name=canary-version]', '2');
    // A weight over 1 passes the form and is refused by the api, whose message names the field.
    await page.$eval('[data-testid=canary-row] input[name=canary-weight]', (e) => ((e as HTMLInputElement).value = ''));
    await page.type('[data-testid=canary-row] input[name=canary-weight]', '1.5');
    await page.select('[data-testid=routing-form] select[name=shadow-version]', '1');
    await page.$eval('[data-testid=routing-form] input[name=shadow-share]', (e) => ((e as HTMLInputElement).value = ''));
    await page.type('[data-testid=routing-form] input[name=shadow-share]', '0.2');
    await page.click('[data-testid=routing-apply]');
    await page.waitForSelector('[data-testid=confirm-routing]');
    await page.click('[data-testid=routing-confirm-button]');
    await page.waitForSelector('[data-testid=routing-error]');
    expect(await page.$eval('[data-testid=routing-error]', (e) => e.textContent)).toContain('canary[0].weight');
    expect(await routing()).toMatchObject({ version: 3, canary: [], shadow: null });
    await screenshot(page, 'dashboard-model-routing-form');

    // Fixed in the still-open form; nothing moves until the confirmation.
    await page.$eval('[data-testid=canary-row] input[name=canary-weight]', (e) => ((e as HTMLInputElement).value = ''));
    await page.type('[data-testid=canary-row] input[name=canary-weight]', '0.1');
    await page.click('[data-testid=routing-apply]');
    await page.waitForSelector('[data-testid=confirm-routing]');
    expect(await page.$eval('[data-testid=confirm-routing]', (e) => e.textContent)).toContain('from v3 (100%) to v3 (90%), v2 canary 10%, shadow v1 at 20%');
    expect(await routing()).toMatchObject({ canary: [], shadow: null });
    await page.click('[data-testid=routing-confirm-button]');
    await page.waitForSelector('[data-testid=alias-routing][data-alias=champion]');
    expect(await page.$eval('[data-testid=alias-routing][data-alias=champion]', (e) => e.textContent)).toBe('(90%), v2 canary 10%, shadow v1 at 20%');
    expect(await championInDom()).toBe(3);
    expect(await routing()).toMatchObject({ version: 3, canary: [{ version: 2, weight: 0.1 }], shadow: { version: 1, share: 0.2 } });
    expect(await page.$('[data-testid=routing-form]')).toBeNull();
    await screenshot(page, 'dashboard-model-routing');

    // "All to v3" clears the canary and the shadow, confirmed too.
    await page.click('[data-testid=routing-clear][data-alias=champion]');
    await page.waitForSelector('[data-testid=confirm-routing]');
    await page.click('[data-testid=routing-confirm-button]');
    await page.waitForSelector('[data-testid=routing-notice]');
    expect(await page.$('[data-testid=alias-routing]')).toBeNull();
    expect(await page.$eval('[data-testid=routing-notice]', (e) => e.textContent)).toContain('champion now routes to v3 (100%)');
    expect(await routing()).toMatchObject({ version: 3, canary: [], shadow: null });

    // The browser logs the 400 itself; it was the one this step asked for.
    const expected = (p: string) => p.includes('status of 400');
    expect(problems.filter(expected)).toHaveLength(1);
    problems.splice(0, problems.length, ...problems.filter((p) => !expected(p)));
    expect(problems).toEqual([]);
  });

  it('shows live workers and queue depths, and opens Bull Board', async () => {
    const trialId = 'e2e-queued-trial';
    await s.queues.trials.gpu.add('trial', { trialId, studyId: 'e2e' }, { jobId: trialId, delay: 3_600_000 });
    await open('/workers');
    await page.waitForSelector('[data-testid=worker-row]');
    const workers = await apiJson<{ workers: { id: string; backend: string }[] }>('/v1/workers');
    expect(await page.$$eval('[data-testid=worker-row]', (els) => els.map((e) => e.getAttribute('data-worker')))).toEqual(workers.workers.map((w) => w.id));
    expect(await page.$eval('[data-testid=worker-group]', (e) => e.getAttribute('data-backend'))).toBe('cpu');
    await page.waitForSelector('[data-testid=queue-row][data-queue=trials-gpu] [data-count=delayed]');
    expect(await page.$eval('[data-testid=queue-row][data-queue=trials-gpu] [data-count=delayed]', (e) => e.textContent)).toBe('1');
    expect(await texts('[data-testid=queue-row] td:first-child')).toEqual(['trials', 'trials-gpu', 'study-events']);
    // It refreshes by itself: a second delayed job shows without a reload.
    await s.queues.trials.gpu.add('trial', { trialId: `${trialId}-2`, studyId: 'e2e' }, { jobId: `${trialId}-2`, delay: 3_600_000 });
    await page.waitForFunction(() => document.querySelector('[data-testid=queue-row][data-queue=trials-gpu] [data-count=delayed]')?.textContent === '2', { timeout: 20_000 });
    await page.waitForSelector('[data-chart=queue-depth] canvas');
    await screenshot(page, 'dashboard-workers');

    const href = await page.$eval('[data-testid=bull-board-link]', (e) => e.getAttribute('href'));
    const board = await browser.newPage();
    const boardProblems = watchProblems(board);
    const external: string[] = [];
    board.on('request', (r) => {
      if (!r.url().startsWith(s.url)) external.push(r.url());
    });
    board.on('response', (r) => {
      if (r.status() >= 400) boardProblems.push(`${r.status()} ${r.url()}`);
    });
    await board.setViewport({ width: 1280, height: 900 });
    await board.goto(`${s.url}${href}`, { waitUntil: 'networkidle0' });
    await board.waitForFunction(() => document.body.innerText.includes('trials-gpu'), { timeout: 20_000 });
    await board.goto(`${s.url}/ui/queues/queue/trials-gpu?status=delayed`, { waitUntil: 'networkidle0' });
    await board.waitForFunction((id) => document.body.innerText.includes(id), { timeout: 20_000 }, trialId);
    await screenshot(board, 'dashboard-bull-board');
    expect(boardProblems).toEqual([]);
    expect(external).toEqual([]);
    await board.close();
    expect(problems).toEqual([]);
  });
});
