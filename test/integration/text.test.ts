import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/data/index.ts';
import { startTestApp, studyEnd, uploadForm, type TestApp } from '../helpers/app.ts';

/**
 * Text classification through the API on real news stories (Reuters-21578
 * 'acq' vs 'crude', from Debian's r-cran-tm): every fifth story held out,
 * raw strings sent to predict.
 */
describe('text classification', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('sqlite', { withWorker: true, backend: 'wasm' });
  });
  afterAll(async () => t?.close());

  it('learns topics from raw text and beats the majority class on unseen stories', { timeout: 300_000 }, async () => {
    const { header, rows } = parseCsv(readFileSync(join(import.meta.dirname, '../fixtures/reuters-acq-crude.csv'), 'utf8'));
    const quote = (v: string) => `"${v.replaceAll('"', '""')}"`;
    const csv = (rs: string[][]) => `${header.join(',')}\n${rs.map((r) => r.map(quote).join(',')).join('\n')}\n`;
    const train = rows.filter((_, i) => i % 5 !== 0);
    const test = rows.filter((_, i) => i % 5 === 0);
    const textAt = header.indexOf('text');
    const topicAt = header.indexOf('topic');

    const upload = await t.app.request('/v1/datasets', { method: 'POST', body: uploadForm(csv(train), { name: 'reuters', kind: 'text', target: 'topic' }) });
    const dataset = (await upload.json()) as { id: string; summary: { text: { vocabularySize: number; sequenceLength: number } } };
    expect(upload.status).toBe(201);
    expect(dataset.summary.text.vocabularySize).toBeGreaterThan(500);

    const res = await t.app.request('/v1/studies', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'reuters', datasetId: dataset.id, objective: { metric: 'val_accuracy' },
        budget: { maxTrials: 4, maxEpochs: 10, parallelism: 1 },
        search: {
          families: ['mlp', 'rnn', 'transformer'],
          space: { mlp: { learningRate: 0.01, batchSize: 16, dropout: 0 }, rnn: { units: 16, layers: 1, bidirectional: false, learningRate: 0.01, batchSize: 16 }, transformer: { modelDim: 16, heads: 2, blocks: 1, ffDim: 32, learningRate: 0.005, batchSize: 16 } },
        },
        earlyStopping: { patience: 4 },
        seed: 3,
      }),
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const end = await studyEnd(t.repo, id);
    expect(end.state, end.errors).toBe('completed');

    const predict = await t.app.request('/v1/models/reuters/predict', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instances: test.map((r) => r[textAt]) }),
    });
    expect(predict.status).toBe(200);
    const { predictions } = (await predict.json()) as { predictions: { label: string }[] };
    const accuracy = predictions.filter((p, i) => p.label === test[i]![topicAt]).length / test.length;
    const majority = Math.max(...['acq', 'crude'].map((c) => test.filter((r) => r[topicAt] === c).length)) / test.length;
    const board = (await (await t.app.request(`/v1/studies/${id}/leaderboard`)).json()) as { trials: { family: string; value: number }[] };
    console.log(`reuters: ${board.trials.map((x) => `${x.family}:${x.value.toFixed(3)}`).join(' ')}; held-out accuracy ${accuracy.toFixed(3)} vs majority ${majority.toFixed(3)}`);
    expect(accuracy).toBeGreaterThan(majority);
    expect(accuracy).toBeGreaterThanOrEqual(0.85);
  });
});
