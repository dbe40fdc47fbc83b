import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepository, type Repository } from '../../src/storage/index.ts';
import { freshDatabase, REDIS_URL, type TestDatabase } from '../helpers/databases.ts';
import { mnistCsv, mnistRows } from '../helpers/mnist.ts';
import { eventually, freePort, startMaas, stopAll, type MaasProcess } from '../helpers/processes.ts';

/** Time limits, cancellation and promotion, on an api and one worker process. */
describe('study lifecycle', () => {
  let database: TestDatabase;
  let repo: Repository;
  let base: string;
  let datasetId: string;
  const prefix = `life-${randomUUID()}`;
  const processes: MaasProcess[] = [];

  beforeAll(async () => {
    database = await freshDatabase('sqlite');
    repo = createRepository(database.url);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const env = { DATABASE_URL: database.url, REDIS_URL, QUEUE_PREFIX: prefix, PORT: String(port), COORDINATOR_INTERVAL_MS: '500' };
    processes.push(startMaas('api', env), startMaas('worker', env));
    await Promise.all([processes[0]!.waitForLog('api listening'), processes[1]!.waitForLog('worker ready')]);
    const form = new FormData();
    form.set('file', new File([mnistCsv(mnistRows(0, 30))], 'digits.csv'));
    form.set('name', 'digits');
    form.set('kind', 'image');
    form.set('target', 'label');
    datasetId = ((await (await fetch(`${base}/v1/datasets`, { method: 'POST', body: form })).json()) as { id: string }).id;
  });

  afterAll(async () => {
    await stopAll(processes, prefix);
    await repo?.close();
    await database?.drop();
  });

  const post = async (path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, body === undefined ? { method: 'POST' } : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as any };
  };
  const ended = (id: string) =>
    eventually(async () => {
      const s = await repo.studies.get(id);
      return s && !['queued', 'running'].includes(s.state) ? s : undefined;
    }, `study ${id} to end`, 120_000);
  const study = (name: string, budget: object, extra: object = {}) =>
    post('/v1/studies', { name, datasetId, objective: { metric: 'val_accuracy' }, budget, search: { families: ['mlp'], space: { mlp: { layers: 1, units: 32 } } }, seed: 5, ...extra });

  it('stops at the time limit: queued trials cancelled, the running one keeps its best epoch, the best is promoted', async () => {
    const { body } = await study('timed', { maxTrials: 500, maxEpochs: 1000, parallelism: 1, timeLimitSeconds: 3 }, { earlyStopping: { patience: 1000 } });
    const done = await ended(body.id);
    expect(done.state).toBe('completed');
    expect(done.message).toMatch(/^time limit reached; best trial #\d+/);
    const trials = await repo.trials.list(body.id);
    expect(trials.length).toBeLessThan(500);
    expect(trials.some((t) => ['queued', 'running'].includes(t.state))).toBe(false);
    expect(trials.filter((t) => t.state === 'completed').length).toBeGreaterThanOrEqual(1);
    expect(done.endedAt!.getTime() - done.createdAt.getTime()).toBeLessThan(60_000);
    expect(await repo.models.versions('default', 'timed')).toHaveLength(1);
  });

  it('cancels a running study: the running trial stops at its next epoch, nothing is promoted', async () => {
    const { body } = await study('cancelled', { maxTrials: 5, maxEpochs: 1000, parallelism: 1 }, { earlyStopping: { patience: 1000 } });
    await eventually(async () => ((await repo.trials.list(body.id)).some((t) => t.state === 'running' && t.epochs >= 1) ? true : undefined), 'a running trial');
    const cancelled = await post(`/v1/studies/${body.id}/cancel`, {});
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.state).toBe('cancelled');
    const trials = await eventually(async () => {
      const ts = await repo.trials.list(body.id);
      return ts.every((t) => !['queued', 'running'].includes(t.state)) ? ts : undefined;
    }, 'every trial to stop');
    expect(trials.every((t) => t.state === 'cancelled')).toBe(true);
    expect(trials[0]!.epochs).toBeLessThan(1000);
    expect(await repo.models.versions('default', 'cancelled')).toHaveLength(0);
  });

  it('serves the champion and swaps versions without a restart when the alias moves', async () => {
    // 'always': the second version takes the alias whatever its score (the default, 'if-better', is tested in promotion.test.ts).
    for (const seed of [1, 2]) {
      const { body } = await study('served', { maxTrials: 1, maxEpochs: 2, parallelism: 1 }, { seed, promotion: 'always' });
      expect((await ended(body.id)).state).toBe('completed');
    }
    const pixels = mnistRows(500, 501).slice(0, 3).map((r) => r.pixels);
    const first = await post('/v1/models/served/predict', { instances: pixels });
    expect(first.status).toBe(200);
    expect(first.body.model).toEqual({ name: 'served', version: 2, alias: 'champion' });

    const moved = await post('/v1/models/served/promote', { version: 1 });
    expect(moved.body.aliases).toEqual({ champion: 1 });
    const second = await post('/v1/models/served/predict', { instances: pixels });
    expect(second.body.model.version).toBe(1);
    // Different weights give different probabilities: the served model really changed.
    expect(second.body.predictions[0].probabilities).not.toEqual(first.body.predictions[0].probabilities);
    const missing = await post('/v1/models/served/promote', { version: 9 });
    expect(missing.status).toBe(404);
  });
});
