import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey } from '../../src/auth/manage.ts';
import { selectBackend } from '../../src/model/index.ts';
import { startTestApp, uploadForm, type TestApp } from '../helpers/app.ts';
import { PROVIDERS } from '../helpers/databases.ts';
import { registerWineVersion } from '../helpers/wine.ts';

const wine = readFileSync(join(import.meta.dirname, '../fixtures/wine.csv'), 'utf8');
const air = readFileSync(join(import.meta.dirname, '../fixtures/airpassengers.csv'), 'utf8');

function csvRows(text: string): Record<string, string>[] {
  const [header, ...lines] = text.trim().split('\n');
  const names = (header as string).split(',');
  return lines.map((line) => Object.fromEntries(line.split(',').map((v, i) => [names[i] as string, v])));
}

type Sample = { datasetId: string; split: string; instances: unknown[]; targets: unknown[] };

/**
 * GET /v1/datasets/{id}/sample: real rows, decoded to what predict takes, cut out of the stored
 * blob by the database (so each row must match a row of the uploaded file exactly), bounded,
 * and only within the caller's project.
 */
describe.each(PROVIDERS)('dataset sample rows (%s)', (provider) => {
  let t: TestApp;
  const keys: Record<'acme' | 'globex', string> = { acme: '', globex: '' };
  const ids = { acmeWine: '', globexWine: '', acmeAir: '' };
  const get = (key: keyof typeof keys, path: string) => t.app.request(path, { headers: { authorization: `Bearer ${keys[key]}` } });

  beforeAll(async () => {
    await selectBackend('cpu');
    t = await startTestApp(provider);
    keys.acme = (await createKey(t.repo, { project: 'acme', role: 'write', name: 'w' })).secret;
    keys.globex = (await createKey(t.repo, { project: 'globex', role: 'write', name: 'w' })).secret;
    const up = async (key: keyof typeof keys, csv: string, fields: Record<string, string>) => {
      const res = await t.app.request('/v1/datasets', { method: 'POST', headers: { authorization: `Bearer ${keys[key]}` }, body: uploadForm(csv, fields) });
      expect(res.status).toBe(201);
      return ((await res.json()) as { id: string }).id;
    };
    ids.acmeWine = await up('acme', wine, { name: 'wine', kind: 'tabular', target: 'cultivar' });
    ids.globexWine = await up('globex', wine, { name: 'wine', kind: 'tabular', target: 'cultivar' });
    ids.acmeAir = await up('acme', air, { name: 'air', kind: 'timeseries', target: 'passengers' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers rows of the validation split, as the file had them, that predict takes unchanged', async () => {
    const res = await get('acme', `/v1/datasets/${ids.acmeWine}/sample?limit=3`);
    expect(res.status).toBe(200);
    const sample = (await res.json()) as Sample;
    expect(sample).toMatchObject({ datasetId: ids.acmeWine, split: 'validation' });
    expect(sample.instances).toHaveLength(3);
    const file = csvRows(wine);
    sample.instances.forEach((instance, i) => {
      const row = instance as Record<string, number>;
      expect(Object.keys(row)).not.toContain('cultivar');
      expect(Object.keys(row)).toHaveLength(13);
      // The decoded row is a row of the file (float32 rounding aside), with that row's class.
      const match = file.find((f) => Object.entries(row).every(([k, v]) => Math.abs(Number(f[k]) - v) <= 1e-4 * Math.max(1, Math.abs(v))));
      expect(match, JSON.stringify(row)).toBeDefined();
      expect(sample.targets[i]).toBe(match?.cultivar);
    });

    await registerWineVersion(t.repo, { projectId: 'acme', datasetId: ids.acmeWine, name: 'wine', seed: 1 });
    const predicted = await t.app.request('/v1/models/wine/predict', {
      method: 'POST',
      headers: { authorization: `Bearer ${keys.acme}`, 'content-type': 'application/json' },
      body: JSON.stringify({ instances: sample.instances }),
    });
    expect(predicted.status).toBe(200);
    expect(((await predicted.json()) as { predictions: unknown[] }).predictions).toHaveLength(3);
  });

  it('cuts time-series windows before the validation period', async () => {
    const missing = await get('acme', `/v1/datasets/${ids.acmeAir}/sample`);
    expect(missing.status).toBe(400);
    expect(await missing.text()).toContain('window');

    const res = await get('acme', `/v1/datasets/${ids.acmeAir}/sample?limit=2&window=12&horizon=3`);
    expect(res.status).toBe(200);
    const sample = (await res.json()) as Sample;
    const series = csvRows(air).map((r) => Number(r.passengers));
    const trainSteps = series.length - Math.round(series.length * 0.2);
    const dataset = (await (await get('acme', `/v1/datasets/${ids.acmeAir}`)).json()) as { summary: { split: { train: number } } };
    expect(dataset.summary.split.train).toBe(trainSteps);
    sample.instances.forEach((instance, i) => {
      const window = (instance as { passengers: number[] }).passengers;
      const expected = series.slice(trainSteps - 12 + i, trainSteps + i);
      expect(window.map((v) => Math.round(v))).toEqual(expected);
      expect((sample.targets[i] as number[]).map((v) => Math.round(v))).toEqual(series.slice(trainSteps + i, trainSteps + i + 3));
    });
  });

  it('answers images as their pixel arrays', async () => {
    const made = await t.app.request('/v1/datasets/samples/mnist', {
      method: 'POST',
      headers: { authorization: `Bearer ${keys.acme}`, 'content-type': 'application/json' },
      body: JSON.stringify({ count: 20 }),
    });
    expect(made.status).toBe(201);
    const id = ((await made.json()) as { id: string }).id;
    const sample = (await (await get('acme', `/v1/datasets/${id}/sample?limit=2`)).json()) as Sample;
    expect(sample.instances).toHaveLength(2);
    for (const image of sample.instances as number[][]) {
      expect(image).toHaveLength(784);
      expect(image.every((v) => v >= 0 && v <= 255)).toBe(true);
      expect(image.some((v) => v > 0)).toBe(true);
    }
    expect(sample.targets.every((l) => typeof l === 'string' && /^[0-9]$/.test(l))).toBe(true);
  });

  it('is bounded and names the field and the rule', async () => {
    for (const [query, field] of [
      ['limit=0', 'limit'],
      ['limit=21', 'limit'],
      ['limit=abc', 'limit'],
      ['window=12', 'window'],
    ] as const) {
      const res = await get('acme', `/v1/datasets/${ids.acmeWine}/sample?${query}`);
      expect(res.status, query).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toContain(field);
    }
    // The largest page is all that comes back, however many rows the split holds.
    const most = (await (await get('acme', `/v1/datasets/${ids.acmeWine}/sample?limit=20`)).json()) as Sample;
    expect(most.instances).toHaveLength(20);
  });

  it("answers another project's dataset like a missing one", async () => {
    const other = await get('acme', `/v1/datasets/${ids.globexWine}/sample`);
    expect(other.status).toBe(404);
    const missing = await get('acme', '/v1/datasets/no-such-dataset/sample');
    expect(missing.status).toBe(404);
    expect(((await other.json()) as { error: { message: string } }).error.message).toBe(((await missing.json()) as { error: { message: string } }).error.message.replace('no-such-dataset', ids.globexWine));
    expect((await get('globex', `/v1/datasets/${ids.globexWine}/sample`)).status).toBe(200);
  });
});
