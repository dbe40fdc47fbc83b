import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/data/index.ts';
import { PROVIDERS } from '../helpers/databases.ts';
import { startTestApp, uploadForm, type TestApp } from '../helpers/app.ts';
import { eventually } from '../helpers/processes.ts';

/**
 * Tabular data through the whole path: real CSVs (UCI wine, diabetes),
 * every fifth row held out before upload, raw rows (values by column name)
 * sent to predict, and the model compared with the trivial baseline.
 */
const fixture = (name: string) => parseCsv(readFileSync(join(import.meta.dirname, '../fixtures', name), 'utf8'));

function holdOut(name: string) {
  const { header, rows } = fixture(name);
  const toCsv = (rs: string[][]) => `${header.join(',')}\n${rs.map((r) => r.join(',')).join('\n')}\n`;
  const train = rows.filter((_, i) => i % 5 !== 0);
  const test = rows.filter((_, i) => i % 5 === 0);
  return { header, csv: toCsv(train), train, test };
}

describe.each(PROVIDERS)('tabular studies on %s', (provider) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(provider, { withWorker: true });
  });
  afterAll(async () => t?.close());

  const json = async (path: string, body?: unknown, form?: FormData) => {
    const init = form ? { method: 'POST', body: form } : body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
    const res = await t.app.request(path, init);
    return { status: res.status, body: (await res.json()) as any };
  };
  async function runStudy(datasetId: string, name: string, metric: string) {
    const created = await json('/v1/studies', {
      name, datasetId, objective: { metric }, budget: { maxTrials: 3, maxEpochs: 40, parallelism: 1 },
      search: { families: ['mlp'], space: { mlp: { learningRate: { type: 'float', low: 0.003, high: 0.01, log: true }, batchSize: 16, optimizer: 'adam' } } },
      earlyStopping: { patience: 6, minDelta: 0 }, seed: 4,
    });
    expect(created.status).toBe(202);
    return eventually(async () => {
      const { body } = await json(`/v1/studies/${created.body.id}`);
      return ['completed', 'failed'].includes(body.state) ? body : undefined;
    }, `study ${name}`, 240_000);
  }
  const instance = (header: string[], row: string[], skip: string) =>
    Object.fromEntries(header.flatMap((h, i) => (h === skip ? [] : [[h, h === 'sex' ? row[i] : Number(row[i])]]))) as Record<string, string | number | null>;

  it('classifies wines better than the majority class', async () => {
    const { header, csv, train, test } = holdOut('wine.csv');
    const upload = await json('/v1/datasets', undefined, uploadForm(csv, { name: 'wine', kind: 'tabular', target: 'cultivar' }));
    expect(upload.status).toBe(201);
    expect(upload.body.task).toBe('classification');
    expect(upload.body.summary.columns.filter((c: any) => c.type === 'numeric')).toHaveLength(13);
    const study = await runStudy(upload.body.id, 'wine', 'val_accuracy');
    expect(study.state, study.message).toBe('completed');

    const { status, body } = await json('/v1/models/wine/predict', { instances: test.map((r) => instance(header, r, 'cultivar')) });
    expect(status).toBe(200);
    const accuracy = body.predictions.filter((p: any, i: number) => p.label === test[i]![13]).length / test.length;
    const counts = new Map<string, number>();
    for (const r of train) counts.set(r[13]!, (counts.get(r[13]!) ?? 0) + 1);
    const majority = Math.max(...counts.values()) / train.length;
    console.log(`[${provider}] wine held-out accuracy ${accuracy.toFixed(3)} vs majority class ${majority.toFixed(3)}`);
    expect(accuracy).toBeGreaterThan(majority + 0.3);
  });

  it('predicts diabetes progression with a smaller error than the training mean', async () => {
    const { header, csv, train, test } = holdOut('diabetes.csv');
    const upload = await json('/v1/datasets', undefined, uploadForm(csv, { name: 'diabetes', kind: 'tabular', target: 'progression' }));
    expect(upload.status).toBe(201);
    expect(upload.body.task).toBe('regression');
    expect(upload.body.summary.columns.find((c: any) => c.name === 'sex').type).toBe('categorical');
    const study = await runStudy(upload.body.id, 'diabetes', 'val_mae');
    expect(study.state, study.message).toBe('completed');

    const target = header.indexOf('progression');
    const instances = test.map((r) => instance(header, r, 'progression'));
    // A missing value is filled the way training filled it, not refused.
    instances[0]!.bmi = null;
    const { status, body } = await json('/v1/models/diabetes/predict', { instances });
    expect(status).toBe(200);
    const truth = test.map((r) => Number(r[target]));
    const mean = train.reduce((s, r) => s + Number(r[target]), 0) / train.length;
    const mae = truth.reduce((s, y, i) => s + Math.abs(body.predictions[i].value - y), 0) / truth.length;
    const baseline = truth.reduce((s, y) => s + Math.abs(mean - y), 0) / truth.length;
    console.log(`[${provider}] diabetes held-out MAE ${mae.toFixed(1)} vs ${baseline.toFixed(1)} for the training mean`);
    expect(mae).toBeLessThan(baseline * 0.85);
  });
});
