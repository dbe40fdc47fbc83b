import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { studyEnd, uploadForm } from '../helpers/app.ts';
import { chartOption, launchBrowser, screenshot, startDashboard, watchProblems, type DashboardService } from '../helpers/browser.ts';

const wine = readFileSync(join(import.meta.dirname, '../fixtures/wine.csv'), 'utf8');

type Item = { name: string; value: [number, number]; trialId: string };
type ParetoChart = { series: { name: string; type: string; data: (Item | number[])[] }[]; xAxis: { name: string }[]; yAxis: { name: string }[] };
type Entry = { id: string; number: number; front: number | null; values: number[] | null; violation: number | null; feasible: boolean | null };
type Board = { objectives: { metric: string }[]; pareto: { hypervolume: number; size: number } | null; trials: Entry[] };

/** Sets a controlled input's value the way typing does, so preact's onInput sees it. */
async function fill(page: Page, selector: string, value: string): Promise<void> {
  await page.$eval(selector, (el, v) => {
    (el as HTMLInputElement).value = v;
    el.dispatchEvent(new Event('input', { bubbles: true }));
  }, value);
}

const options = (page: Page, name: string) => page.$$eval(`select[name="${name}"] option`, (os) => os.map((o) => (o as HTMLOptionElement).value));

/** Where a point of the Pareto chart is on the page (the chart scrolled into view first). */
function pointOnPage(page: Page, seriesName: string, value: [number, number]): Promise<{ x: number; y: number }> {
  return page.evaluate(`(async () => {
    const el = document.querySelector('[data-chart="pareto"]');
    el.scrollIntoView({ block: 'center' });
    const echarts = await import('/ui/vendor/echarts.mjs');
    const chart = echarts.getInstanceByDom(el);
    const index = chart.getOption().series.findIndex((s) => s.name === ${JSON.stringify(seriesName)});
    const [x, y] = chart.convertToPixel({ seriesIndex: index }, ${JSON.stringify(value)});
    const box = el.getBoundingClientRect();
    return { x: box.left + x, y: box.top + y };
  })()`) as Promise<{ x: number; y: number }>;
}

describe('dashboard of a multi-objective study', () => {
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

  test('the form sends two objectives and a constraint; the page shows the front, its hypervolume and a Pareto chart', async () => {
    const upload = await service.app.request('/v1/datasets', { method: 'POST', body: uploadForm(wine, { name: 'wine', kind: 'tabular', target: 'cultivar' }) });
    expect(upload.status).toBe(201);

    const page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 1000 });
    const problems = watchProblems(page, [/status of 409 .*\/importance\)$/]);
    const posted: unknown[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST' && new URL(r.url()).pathname === '/v1/studies') posted.push(JSON.parse(r.postData() ?? 'null'));
    });
    await page.goto(`${service.url}/`);
    await page.waitForSelector('[data-testid="new-study"]');
    // The session line can show before the studies page has rendered (seen once in CI, under load).
    await page.waitForSelector('[data-testid="new-study"]');
    await page.click('[data-testid="new-study"]');
    await page.waitForSelector('[data-testid="study-form"] select[name="datasetId"] option');
    await fill(page, 'input[name="name"]', 'wine-mo');
    await page.click('input[name="families"][value="mlp"]');
    await fill(page, 'input[name="maxTrials"]', '5');
    await fill(page, 'input[name="maxEpochs"]', '2');
    await fill(page, 'input[name="parallelism"]', '1');
    // Seeded: this seed's five trials include networks both under and over 2,000 weights.
    await fill(page, 'input[name="seed"]', '7');

    expect(await options(page, 'algorithm')).toEqual(['random', 'tpe', 'evolution', 'grid']);
    expect(await options(page, 'second')).toEqual(['', 'val_loss', 'param_count', 'predict_ms_per_row', 'train_seconds']);
    expect(await page.$('select[name="third"]')).toBeNull();
    await page.select('select[name="second"]', 'param_count');
    await page.waitForSelector('select[name="third"]');
    expect(await options(page, 'third')).toEqual(['', 'val_loss', 'predict_ms_per_row', 'train_seconds']);
    expect(await options(page, 'algorithm')).toEqual(['nsga2', 'motpe', 'random', 'grid']);
    await page.select('select[name="algorithm"]', 'random');
    await page.select('select[name="constraintMetric"]', 'param_count');
    await page.waitForSelector('input[name="constraintValue"]');
    await page.select('select[name="constraintBound"]', 'max');
    await fill(page, 'input[name="constraintValue"]', '2000');
    await screenshot(page, 'study-form-multi-objective');
    await page.click('[data-testid="start-study"]');

    await page.waitForFunction(() => /^#\/studies\/[^/]+$/.test(location.hash));
    expect(posted).toHaveLength(1);
    expect(posted[0]).toMatchObject({ objectives: [{ metric: 'val_accuracy', direction: 'maximize' }, { metric: 'param_count' }], constraints: [{ metric: 'param_count', max: 2000 }], search: { algorithm: 'random' } });
    expect(posted[0]).not.toHaveProperty('objective');
    const studyId = decodeURIComponent((await page.evaluate(() => location.hash)).split('/')[2]!);
    const study = await service.repo.studies.get(studyId);
    expect(study?.config).toMatchObject({ objectives: [{ metric: 'val_accuracy', direction: 'maximize' }, { metric: 'param_count', direction: 'minimize' }], constraints: [{ metric: 'param_count', max: 2000 }] });
    expect(await page.$eval('[data-testid="study-objectives"]', (e) => e.textContent)).toBe('maximize val_accuracy, minimize param_count');
    expect(await page.$eval('[data-testid="study-constraints"]', (e) => e.textContent)).toBe('param_count ≤ 2,000');

    const end = await studyEnd(service.repo, studyId);
    expect(end, end.errors).toMatchObject({ state: 'completed' });
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="leaderboard-row"][data-state="completed"]').length === 5, { timeout: 60_000 });
    const board = (await (await service.app.request(`/v1/studies/${studyId}/leaderboard`)).json()) as Board;
    expect(board.pareto).not.toBeNull();
    const infeasible = board.trials.filter((t) => t.feasible === false);
    expect(infeasible.length).toBeGreaterThan(0);
    expect(infeasible.length).toBeLessThan(5);

    // The columns: the front, one per objective under its metric's name, feasibility.
    const headers = await page.$$eval('[data-testid="leaderboard"] th', (ths) => ths.map((th) => th.textContent));
    expect(headers).toEqual(['Rank', 'Trial', 'Family', 'State', 'Front', 'val_accuracy', 'param_count', 'Feasible', 'Epochs', 'Time', 'Params']);
    // Sorted by rank, the page's rows are the api's order, each with the api's front, values and feasibility.
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="leaderboard-row"][data-front]:not([data-front=""])').length === n, { timeout: 30_000 }, board.trials.length);
    const rows = await page.$$eval('[data-testid="leaderboard-row"]', (trs) => trs.map((tr) => ({ id: tr.getAttribute('data-trial-id'), cls: tr.className, cells: [...tr.querySelectorAll('td')].map((td) => td.textContent!.trim()) })));
    expect(rows.map((r) => r.id)).toEqual(board.trials.map((t) => t.id));
    for (const [i, t] of board.trials.entries()) {
      const cells = rows[i]!.cells;
      expect(cells[4]).toBe(String(t.front));
      expect(cells[5]).toBe(String(Number(t.values![0]!.toPrecision(4))));
      expect(cells[6]).toBe(t.values![1]!.toLocaleString('en-US'));
      if (t.feasible) expect(cells[7]).toBe('yes');
      else {
        expect(cells[7]).toBe(`no (violation ${Number(t.violation!.toPrecision(3))})`);
        expect(rows[i]!.cls).toBe('infeasible');
      }
    }

    // The front's size and hypervolume above the table.
    const summary = await page.$eval('[data-testid="pareto-summary"]', (e) => e.textContent);
    expect(summary).toContain(`Pareto front: ${board.pareto!.size} ${board.pareto!.size === 1 ? 'trial' : 'trials'}, hypervolume ${Number(board.pareto!.hypervolume.toPrecision(4))}`);

    // The chart: a point per finished trial, front 0 on its own series and joined by a step line.
    const chart = (await chartOption<ParetoChart>(page, 'pareto'))!;
    const series = (name: string) => chart.series.find((s) => s.name === name)!;
    const points = chart.series.filter((s) => s.type === 'scatter').flatMap((s) => s.data as Item[]);
    expect(points).toHaveLength(5);
    expect(points.map((p) => p.trialId).sort()).toEqual(board.trials.map((t) => t.id).sort());
    const front = board.trials.filter((t) => t.front === 0 && t.feasible);
    expect(front).toHaveLength(board.pareto!.size);
    expect((series('Pareto front').data as Item[]).map((p) => p.trialId).sort()).toEqual(front.map((t) => t.id).sort());
    expect((series('infeasible').data as Item[]).map((p) => p.trialId).sort()).toEqual(infeasible.map((t) => t.id).sort());
    expect(series('front line').data).toHaveLength(front.length);
    expect(chart.xAxis[0]!.name).toBe('val_accuracy (higher is better)');
    // Weight counts spanning two decades or more are drawn on a log scale, which the name says.
    const counts = board.trials.map((t) => t.values![1]!);
    expect(chart.yAxis[0]!.name).toBe(Math.max(...counts) / Math.min(...counts) >= 100 ? 'param_count (lower is better; log scale)' : 'param_count (lower is better)');
    await screenshot(page, 'study-multi-objective');

    // Hovering a point shows its trial and values; clicking it opens the trial.
    const target = front[0]!;
    const at = await pointOnPage(page, 'Pareto front', [target.values![0]!, target.values![1]!]);
    await page.mouse.move(at.x, at.y);
    await page.waitForFunction((n) => [...document.querySelectorAll('[data-chart="pareto"] div')].some((d) => d.textContent?.startsWith(`#${n} mlp`)), { timeout: 10_000 }, target.number);
    const tooltip = await page.$$eval('[data-chart="pareto"] div', (ds) => ds.map((d) => d.textContent ?? '').find((t) => /^#\d+ mlp/.test(t)));
    expect(tooltip).toContain(`param_count: ${target.values![1]!.toLocaleString('en-US')}`);
    await page.mouse.click(at.x, at.y);
    await page.waitForFunction((id) => location.hash.endsWith(`/trials/${encodeURIComponent(id)}`), { timeout: 10_000 }, target.id);
    await page.waitForSelector('[data-testid="trial-params"]');
    expect(problems).toEqual([]);
    await page.close();
  }, 300_000);
});
