import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, studyEnd, uploadForm, type TestApp } from '../helpers/app.ts';

/**
 * Sequence classification through the API on real data: UCI 8×8 digits
 * written as sequences of 8 steps × 8 features (JSONL), every sixth held
 * out, raw step arrays sent to predict.
 */
describe('sequence classification', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('sqlite', { withWorker: true, backend: 'wasm' });
  });
  afterAll(async () => t?.close());

  it('learns digits from their rows as steps and beats the majority class on unseen ones', { timeout: 300_000 }, async () => {
    const lines = readFileSync(join(import.meta.dirname, '../fixtures/digits-8x8-sequences.jsonl'), 'utf8').trim().split('\n');
    const train = lines.filter((_, i) => i % 6 !== 0);
    const test = lines.filter((_, i) => i % 6 === 0).map((l) => JSON.parse(l) as { rows: number[][]; digit: number });

    const upload = await t.app.request('/v1/datasets', { method: 'POST', body: uploadForm(`${train.join('\n')}\n`, { name: 'digit-rows', kind: 'sequence', target: 'digit' }, 'digits.jsonl') });
    const dataset = (await upload.json()) as { id: string; task: string; summary: unknown };
    expect(upload.status, JSON.stringify(dataset)).toBe(201);
    expect(dataset.task).toBe('classification');

    const res = await t.app.request('/v1/studies', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'digit-rows', datasetId: dataset.id, objective: { metric: 'val_accuracy' },
        budget: { maxTrials: 3, maxEpochs: 15, parallelism: 1 },
        search: {
          families: ['mlp', 'rnn', 'transformer'],
          space: { mlp: { learningRate: 0.01, batchSize: 32 }, rnn: { units: 32, layers: 1, learningRate: 0.01, batchSize: 32 }, transformer: { modelDim: 32, heads: 4, blocks: 1, ffDim: 64, learningRate: 0.005, batchSize: 32 } },
        },
        earlyStopping: { patience: 4 },
        seed: 5,
      }),
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const end = await studyEnd(t.repo, id);
    expect(end.state, end.errors).toBe('completed');

    const predict = await t.app.request('/v1/models/digit-rows/predict', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instances: test.map((r) => r.rows) }),
    });
    expect(predict.status).toBe(200);
    const { predictions } = (await predict.json()) as { predictions: { label: string }[] };
    const accuracy = predictions.filter((p, i) => p.label === String(test[i]!.digit)).length / test.length;
    const counts = new Map<number, number>();
    for (const r of test) counts.set(r.digit, (counts.get(r.digit) ?? 0) + 1);
    const majority = Math.max(...counts.values()) / test.length;
    const board = (await (await t.app.request(`/v1/studies/${id}/leaderboard`)).json()) as { trials: { family: string; value: number }[] };
    console.log(`digit rows: ${board.trials.map((x) => `${x.family}:${x.value.toFixed(3)}`).join(' ')}; held-out accuracy ${accuracy.toFixed(3)} vs majority ${majority.toFixed(3)}`);
    expect(accuracy).toBeGreaterThan(majority + 0.4);
  });
});
