import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKEND_NAMES } from '../../src/model/index.ts';
import { freshDatabase, PROVIDERS, REDIS_URL, type TestDatabase } from '../helpers/databases.ts';
import { mnistCsv, mnistRows } from '../helpers/mnist.ts';
import { eventually, freePort, startMaas, stopAll, type MaasProcess } from '../helpers/processes.ts';

/**
 * The whole path on real parts: an api process and two worker processes on
 * real Redis and each database; a real dataset uploaded over HTTP; a study
 * searched with parallelism 2; the champion promoted; predictions on rows the
 * search never saw.
 */
describe.each(PROVIDERS)('end to end on %s', (provider) => {
  let database: TestDatabase;
  let base: string;
  const prefix = `e2e-${randomUUID()}`;
  const processes: MaasProcess[] = [];

  beforeAll(async () => {
    database = await freshDatabase(provider);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const env = { DATABASE_URL: database.url, REDIS_URL, QUEUE_PREFIX: prefix, PORT: String(port), COORDINATOR_INTERVAL_MS: '1000' };
    const api = startMaas('api', env);
    processes.push(api, startMaas('worker', env), startMaas('worker', env));
    await Promise.all([api.waitForLog('api listening'), ...processes.slice(1).map((w) => w.waitForLog('worker ready'))]);
  });

  afterAll(async () => {
    await stopAll(processes, prefix);
    await database?.drop();
  });

  const json = async (path: string, init?: RequestInit) => {
    const res = await fetch(`${base}${path}`, init);
    return { status: res.status, body: (await res.json()) as any };
  };
  const post = (path: string, body: unknown) => json(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('uploads real digits, searches, ranks, promotes and predicts better than the majority class', async () => {
    const form = new FormData();
    form.set('file', new File([mnistCsv(mnistRows(0, 60))], 'digits.csv', { type: 'text/csv' }));
    form.set('name', 'digits');
    form.set('kind', 'image');
    form.set('target', 'label');
    form.set('shape', '28,28,1');
    const upload = await json('/v1/datasets', { method: 'POST', body: form });
    expect(upload.status).toBe(201);
    expect(upload.body).toMatchObject({ rows: 600, task: 'classification', summary: { shape: [28, 28, 1], split: { train: 480, validation: 120 } } });
    expect(upload.body.summary.classes).toHaveLength(10);

    const created = await post('/v1/studies', {
      name: 'digits',
      datasetId: upload.body.id,
      objective: { metric: 'val_accuracy', direction: 'maximize' },
      budget: { maxTrials: 4, maxEpochs: 5, parallelism: 2 },
      search: { algorithm: 'random', families: ['mlp', 'cnn'], space: { mlp: { units: { type: 'int', low: 32, high: 128 } }, cnn: { blocks: 1, filters: 4, denseUnits: 32 } } },
      earlyStopping: { patience: 2, minDelta: 0.001 },
      seed: 11,
    });
    expect(created.status).toBe(202);
    expect(['queued', 'running']).toContain(created.body.state);
    const studyId: string = created.body.id;

    // Epochs are visible while a trial runs.
    const live = await eventually(async () => {
      const { body } = await json(`/v1/studies/${studyId}/trials`);
      const running = body.trials.find((t: any) => t.state === 'running' && t.epochs >= 1);
      return running ?? undefined;
    }, 'a running trial with a reported epoch');
    const partial = await json(`/v1/studies/${studyId}/trials/${live.id}`);
    expect(partial.body.curve.length).toBeGreaterThanOrEqual(1);

    const study = await eventually(async () => {
      const { body } = await json(`/v1/studies/${studyId}`);
      return ['completed', 'failed', 'cancelled'].includes(body.state) ? body : undefined;
    }, 'the study to end', 300_000);
    expect(study.state, study.message).toBe('completed');
    expect(study.counts).toMatchObject({ completed: 4, queued: 0, running: 0 });

    const { body: board } = await json(`/v1/studies/${studyId}/leaderboard`);
    expect(board.trials).toHaveLength(4);
    expect(board.trials.map((t: any) => t.rank)).toEqual([1, 2, 3, 4]);
    const values = board.trials.map((t: any) => t.value as number);
    expect(values).toEqual([...values].sort((a, b) => b - a));
    for (const t of board.trials) {
      expect(t.state).toBe('completed');
      // The worker's choice on this machine; every trial of one worker reports the same.
      expect(BACKEND_NAMES).toContain(t.backend);
      expect(t.params.family).toBe(t.family);
      expect(t.epochs).toBeGreaterThan(0);
      expect(t.durationMs).toBeGreaterThan(0);
      expect(t.metrics.val_accuracy).toBe(t.value);
    }
    expect(new Set(board.trials.map((t: any) => t.worker)).size).toBe(2);

    // Each trial's curve has one row per epoch, 1..epochs.
    for (const t of board.trials) {
      const { body } = await json(`/v1/studies/${studyId}/trials/${t.id}`);
      expect(body.curve.map((e: any) => e.epoch)).toEqual(Array.from({ length: t.epochs }, (_, i) => i + 1));
    }

    // parallelism 2: some two trials ran at the same time.
    const { body: all } = await json(`/v1/studies/${studyId}/trials`);
    expect(all.trials).toHaveLength(4);
    const spans = all.trials.map((t: any) => [Date.parse(t.startedAt), Date.parse(t.endedAt)] as const);
    const overlapping = spans.some(([s1, e1]: readonly number[], i: number) => spans.some(([s2, e2]: readonly number[], j: number) => i !== j && s1! < e2! && s2! < e1!));
    expect(overlapping).toBe(true);
    // The seed draws both families; each trial's params belong to its family only.
    expect(new Set(all.trials.map((t: any) => t.family))).toEqual(new Set(['mlp', 'cnn']));

    const { body: model } = await json('/v1/models/digits');
    expect(model.aliases.champion).toBe(1);
    expect(model.versions[0]).toMatchObject({ version: 1, trialId: board.trials[0].id, studyId });
    expect(study.model).toEqual({ name: 'digits', version: 1 });

    // Held-out digits the study never saw: indices 700..729 of each class.
    const holdout = mnistRows(700, 730);
    const predicted = await post('/v1/models/digits/predict', { instances: holdout.map((r) => r.pixels) });
    expect(predicted.status).toBe(200);
    expect(predicted.body.predictions).toHaveLength(holdout.length);
    const first = predicted.body.predictions[0];
    expect(Object.keys(first.probabilities)).toHaveLength(10);
    expect(Object.values(first.probabilities as Record<string, number>).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 3);
    const correct = predicted.body.predictions.filter((p: any, i: number) => p.label === String(holdout[i]!.label)).length;
    const accuracy = correct / holdout.length;
    const majority = 0.1; // the held-out set is balanced over ten digits
    console.log(`[${provider}] families ${all.trials.map((t: any) => `${t.family}:${t.value?.toFixed(3)}`).join(' ')}; champion ${board.trials[0].family} val_accuracy ${values[0]}; held-out accuracy ${accuracy.toFixed(3)} vs majority ${majority}`);
    expect(accuracy).toBeGreaterThan(majority + 0.4);
  });
});
