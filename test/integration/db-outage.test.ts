/**
 * The database goes away in the middle of a trial: the worker reaches PostgreSQL through a proxy
 * that the test cuts after epoch 2 (every connection dropped, new ones refused) and restores about
 * 3 s later. The worker retries its writes until the database is back, so the trial completes in
 * its first attempt with every epoch recorded once; meanwhile health answers not-ready.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { OpenAPIHono } from '@hono/zod-openapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleepTrain } from '../../bench/sleep-train.ts';
import { registerHealth } from '../../src/api/health/index.ts';
import type { Logger } from '../../src/log.ts';
import { createRepository, type Repository } from '../../src/storage/index.ts';
import type { TrainInput } from '../../src/workers/training/index.ts';
import { startTrialWorker, type TrialWorker } from '../../src/workers/worker.ts';
import { startTestApp, studyEnd, uploadForm, type TestApp } from '../helpers/app.ts';
import { cuttableProxy, type CuttableProxy } from '../helpers/tcp-proxy.ts';

const EPOCHS = 6;
const OUTAGE_MS = 3000;

/** The sleeping stand-in for training, with `afterEpoch` run once each epoch's report has been taken, so a fault lands between two writes. */
function trainWithHook(afterEpoch: (epoch: number) => Promise<void>) {
  const train = sleepTrain(100);
  return (input: TrainInput) =>
    train({
      ...input,
      onEpoch: async (epoch, metrics, checkpoint) => {
        const next = await input.onEpoch!(epoch, metrics, checkpoint);
        await afterEpoch(epoch);
        return next;
      },
    });
}

/** A logger that keeps each line as "level message {fields}". */
function recorder(lines: string[], base: Record<string, unknown> = {}): Logger {
  const at = (level: string) => (msg: string, fields?: Record<string, unknown>) => lines.push(`${level} ${msg} ${JSON.stringify({ ...base, ...fields })}`);
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: (fields) => recorder(lines, { ...base, ...fields }) };
}

describe('a worker while PostgreSQL is briefly unavailable', () => {
  let t: TestApp;
  let proxy: CuttableProxy;
  let workerRepo: Repository;
  let worker: TrialWorker | undefined;

  beforeAll(async () => {
    t = await startTestApp('postgresql');
    await t.coordinator.start();
    // Only the worker goes through the proxy: the api and the coordinator keep their database.
    const url = new URL(t.databaseUrl);
    proxy = await cuttableProxy({ host: url.hostname, port: Number(url.port || 5432) });
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    workerRepo = createRepository(url.toString());
  });
  afterAll(async () => {
    await worker?.close(5000);
    await workerRepo?.close();
    await proxy?.close();
    await t?.close();
  });

  it('retries the trial’s writes until it is back: one attempt, every epoch once', async () => {
    const lines: string[] = [];
    const health = new OpenAPIHono();
    registerHealth(health, { repo: workerRepo, redis: t.queues.connection });
    let healthDuringOutage: number | undefined;
    let outage: Promise<void> | undefined;
    worker = startTrialWorker({
      repo: workerRepo,
      queues: t.queues,
      log: recorder(lines),
      prefix: t.prefix,
      backend: 'cpu',
      dbRetryMs: 30_000,
      train: trainWithHook(async (epoch) => {
        if (epoch !== 2) return;
        await proxy.cut();
        healthDuringOutage = (await health.request('/healthz')).status;
        outage = sleep(OUTAGE_MS).then(() => proxy.restore());
      }),
    });

    const csv = ['x1,x2,label', ...Array.from({ length: 40 }, (_, i) => `${(i % 7) / 7},${(i % 5) / 5},${i % 2 === 0 ? 'a' : 'b'}`)].join('\n');
    const upload = await t.app.request('/v1/datasets', { method: 'POST', body: uploadForm(csv, { name: 'tiny', kind: 'tabular', target: 'label' }) });
    expect(upload.status).toBe(201);
    const datasetId = ((await upload.json()) as { id: string }).id;
    const created = await t.app.request('/v1/studies', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'outage', datasetId, objective: { metric: 'val_loss' }, budget: { maxTrials: 1, maxEpochs: EPOCHS, parallelism: 1 }, search: { families: ['mlp'] }, seed: 1 }),
    });
    expect(created.status).toBe(202);
    const studyId = ((await created.json()) as { id: string }).id;

    const end = await studyEnd(t.repo, studyId, 60_000).catch((err: Error) => {
      throw new Error(`${err.message}; the worker logged:\n${lines.join('\n')}`);
    });
    const log = lines.join('\n');
    expect(end, log).toMatchObject({ state: 'completed' });
    await outage;
    expect(healthDuringOutage).toBe(503);
    expect((await health.request('/healthz')).status).toBe(200);

    const [trial, ...others] = await t.repo.trials.list(studyId);
    expect(others).toEqual([]);
    expect(trial).toMatchObject({ state: 'completed', attempts: 1, epochs: EPOCHS });
    const curve = await t.repo.trials.curve(trial!.id);
    expect(curve.map((e) => e.epoch)).toEqual(Array.from({ length: EPOCHS }, (_, i) => i + 1));
    expect(curve.every((e) => e.attempt === 1)).toBe(true);

    // The outage met epoch 3's write, was logged once, and its end too; the attempt never failed.
    expect(lines.filter((l) => l.startsWith('warn database unavailable; retrying')), log).toHaveLength(1);
    expect(log).toMatch(/^warn database unavailable; retrying .*"call":"record an epoch"/m);
    expect(log).toMatch(/^info database back /m);
    expect(log).not.toContain('trial attempt failed');
  });
});
