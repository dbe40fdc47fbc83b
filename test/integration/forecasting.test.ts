import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, studyEnd, uploadForm, type TestApp } from '../helpers/app.ts';

/**
 * Forecasting through the API on real series from R's datasets package: the
 * studies choose window and horizon, the service scores the last-value
 * baseline, and the promoted model forecasts from raw values.
 */
const fixture = (name: string) => readFileSync(join(import.meta.dirname, '../fixtures', name), 'utf8');

interface Study {
  id: string;
  state: string;
  config: { window: number; horizon: number; baseline: { method: string; metric: string; value: number } };
  best: { family: string; value: number } | null;
}

describe('time-series forecasting', () => {
  let t: TestApp;
  const post = (path: string, body: unknown) =>
    t.app.request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  beforeAll(async () => {
    t = await startTestApp('sqlite', { withWorker: true, backend: 'wasm' });
  });
  afterAll(async () => t?.close());

  it('forecasts Nottingham temperatures on unseen years far better than the last value', { timeout: 300_000 }, async () => {
    // nottem: monthly mean air temperature at Nottingham, 1920-1939. The last two years are never uploaded.
    const lines = fixture('nottem.csv').trim().split('\n');
    const heldOut = 24;
    const upload = await t.app.request('/v1/datasets', {
      method: 'POST',
      body: uploadForm(`${lines.slice(0, lines.length - heldOut).join('\n')}\n`, { name: 'nottem', kind: 'timeseries' }),
    });
    const dataset = (await upload.json()) as { id: string; task: string; target: string; summary: { series: unknown; split: unknown } };
    expect(upload.status, JSON.stringify(dataset)).toBe(201);
    expect(dataset).toMatchObject({ task: 'forecasting', target: 'temperature' });
    expect(dataset.summary.series).toMatchObject({ length: 216, timeColumn: 'month', start: '1920-01', end: '1937-12' });
    expect(dataset.summary.split).toMatchObject({ method: 'time', train: 173, validation: 43 });

    const window = 24;
    const horizon = 6;
    const res = await post('/v1/studies', {
      name: 'nottem',
      datasetId: dataset.id,
      window,
      horizon,
      objective: { metric: 'val_mae' },
      budget: { maxTrials: 3, maxEpochs: 40, parallelism: 1 },
      search: {
        families: ['mlp', 'rnn', 'transformer'],
        space: {
          mlp: { learningRate: 0.003, batchSize: 16, optimizer: 'adam' },
          rnn: { units: 32, layers: 1, learningRate: 0.003, batchSize: 16, optimizer: 'adam' },
          transformer: { modelDim: 32, heads: 2, blocks: 1, ffDim: 64, learningRate: 0.003, batchSize: 16, optimizer: 'adam' },
        },
      },
      earlyStopping: { patience: 8 },
      seed: 3,
    });
    const created = (await res.json()) as Study;
    expect(res.status, JSON.stringify(created)).toBe(202);
    expect(created.config).toMatchObject({ window, horizon, baseline: { method: 'last value', metric: 'val_mae' } });
    const end = await studyEnd(t.repo, created.id);
    expect(end.state, end.errors).toBe('completed');
    const study = (await (await t.app.request(`/v1/studies/${created.id}`)).json()) as Study;

    // Rolling forecasts over the held-out years, each from the 24 months before it (raw values).
    const values = lines.slice(1).map((line) => Number(line.split(',')[1]));
    const origins = Array.from({ length: heldOut - horizon + 1 }, (_, i) => values.length - heldOut + i);
    const predict = await post('/v1/models/nottem/predict', { instances: origins.map((o) => values.slice(o - window, o)) });
    const body = (await predict.json()) as { predictions: Array<{ forecast: number[] }> };
    expect(predict.status, JSON.stringify(body)).toBe(200);
    let model = 0;
    let naive = 0;
    origins.forEach((o, i) => {
      const forecast = body.predictions[i]?.forecast ?? [];
      expect(forecast).toHaveLength(horizon);
      forecast.forEach((f, k) => {
        model += Math.abs(f - (values[o + k] as number));
        naive += Math.abs((values[o - 1] as number) - (values[o + k] as number));
      });
    });
    model /= origins.length * horizon;
    naive /= origins.length * horizon;
    console.log(`nottem: champion ${study.best?.family} val_mae ${study.best?.value.toFixed(2)} vs last value ${study.config.baseline.value.toFixed(2)}; held-out MAE ${model.toFixed(2)} vs last value ${naive.toFixed(2)} °F`);
    expect(study.best?.value).toBeLessThan(study.config.baseline.value / 2);
    expect(model).toBeLessThan(naive / 2);
  });

  it('forecasts a target with covariates (UK Seatbelts) and takes windows keyed by column', { timeout: 300_000 }, async () => {
    const upload = await t.app.request('/v1/datasets', { method: 'POST', body: uploadForm(fixture('seatbelts.csv'), { name: 'seatbelts', kind: 'timeseries', target: 'drivers' }) });
    const dataset = (await upload.json()) as { id: string; summary: { series: { valueColumns: string[] } } };
    expect(upload.status, JSON.stringify(dataset)).toBe(201);
    expect(dataset.summary.series.valueColumns).toEqual(['drivers', 'front', 'kms', 'petrol', 'law']);

    const res = await post('/v1/studies', {
      name: 'seatbelts',
      datasetId: dataset.id,
      window: 12,
      horizon: 3,
      objective: { metric: 'val_mae' },
      budget: { maxTrials: 2, maxEpochs: 40 },
      search: { families: ['mlp'], space: { mlp: { learningRate: 0.003, batchSize: 16, optimizer: 'adam', layers: 1, dropout: 0 } } },
      earlyStopping: { patience: 8 },
      seed: 1,
    });
    const created = (await res.json()) as Study;
    expect(res.status, JSON.stringify(created)).toBe(202);
    const end = await studyEnd(t.repo, created.id);
    expect(end.state, end.errors).toBe('completed');
    const study = (await (await t.app.request(`/v1/studies/${created.id}`)).json()) as Study;
    console.log(`seatbelts: champion val_mae ${study.best?.value.toFixed(1)} vs last value ${study.config.baseline.value.toFixed(1)} drivers`);
    expect(study.best?.value).toBeLessThan(study.config.baseline.value);

    const rows = fixture('seatbelts.csv').trim().split('\n').slice(-12).map((line) => line.split(',').slice(1).map(Number));
    const column = (c: number) => rows.map((r) => r[c] as number);
    const byColumn = { drivers: column(0), front: column(1), kms: column(2), petrol: column(3), law: column(4) };
    const asColumns = await (await post('/v1/models/seatbelts/predict', { instances: [byColumn] })).json();
    const asSteps = await (await post('/v1/models/seatbelts/predict', { instances: [rows] })).json();
    const forecast = (asColumns as { predictions: Array<{ forecast: number[] }> }).predictions[0]?.forecast;
    expect(forecast).toHaveLength(3);
    expect(asSteps).toEqual(asColumns);
    for (const f of forecast ?? []) expect(f).toBeGreaterThan(500);

    const bad = await post('/v1/models/seatbelts/predict', { instances: [{ ...byColumn, kms: byColumn.kms.slice(1) }] });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('instances[0].kms');
  });

  it('refuses studies whose window and horizon do not fit, and leaves nothing behind', async () => {
    const upload = await t.app.request('/v1/datasets', { method: 'POST', body: uploadForm(fixture('airpassengers.csv'), { name: 'air', kind: 'timeseries' }) });
    const { id } = (await upload.json()) as { id: string };
    const before = await t.repo.db.study.count();
    const base = { name: 'air', datasetId: id, objective: { metric: 'val_mae' }, budget: { maxTrials: 1, maxEpochs: 1 } };
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ horizon: 3 }, 'window', 'is required for a time-series dataset'],
      [{ window: 12 }, 'horizon', 'is required'],
      [{ window: 12, horizon: 40 }, 'horizon', 'longer than the validation period (the last 29 of 144 steps)'],
      [{ window: 120, horizon: 6 }, 'window', 'at most 108'],
      [{ window: 12, horizon: 3, objective: { metric: 'val_accuracy' } }, 'objective.metric', 'not available for forecasting'],
    ];
    for (const [extra, field, rule] of cases) {
      const res = await post('/v1/studies', { ...base, ...extra });
      const text = await res.text();
      expect(res.status, text).toBe(400);
      expect(text).toContain(field);
      expect(text).toContain(rule);
    }
    const tabular = await t.app.request('/v1/datasets', { method: 'POST', body: uploadForm(fixture('wine.csv'), { name: 'wine', kind: 'tabular', target: 'cultivar' }) });
    const wine = (await tabular.json()) as { id: string };
    const res = await post('/v1/studies', { ...base, datasetId: wine.id, objective: { metric: 'val_accuracy' }, window: 12 });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('applies only to time-series datasets');
    expect(await t.repo.db.study.count()).toBe(before);
  });
});
