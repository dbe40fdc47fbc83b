import { randomUUID } from 'node:crypto';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApp } from '../../src/api/create-app.ts';
import { loadConfig } from '../../src/config.ts';
import { Coordinator } from '../../src/coordinator/index.ts';
import type { Family } from '../../src/domain.ts';
import { ServiceBusyError } from '../../src/errors.ts';
import { createLogger } from '../../src/log.ts';
import { openQueues, type Queues } from '../../src/queue/index.ts';
import { startStandalone } from '../../src/serve/index.ts';
import { InlineRunner } from '../../src/serving/inline-runner.ts';
import { ModelGoneError, type ModelRunner } from '../../src/serving/model-runner.ts';
import { Predictor, type PredictorOptions } from '../../src/serving/predictor.ts';
import { repositorySource } from '../../src/serving/source.ts';
import { ThreadedRunner } from '../../src/serving/threaded-runner.ts';
import { createRepository, type DatasetRecord, type Repository } from '../../src/storage/index.ts';
import { buildModel, disposeModel, selectBackend, serializeModel } from '../../src/model/index.ts';
import { freshDatabase, REDIS_URL, type TestDatabase } from '../helpers/databases.ts';
import { eventually } from '../helpers/processes.ts';
import { KINDS, registerVersion, sameNumbers, storeDataset, validationInstances } from '../helpers/served-models.ts';
import { wineConfig, wineParams, wineRow } from '../helpers/wine.ts';

/** A runner that tells when a model call starts and counts the rows of each call, around a real one. */
function watched(inner: ModelRunner) {
  const calls: number[] = [];
  let onCall: (() => void) | undefined;
  const runner: ModelRunner = {
    load: (key, artifact, inputShape) => inner.load(key, artifact, inputShape),
    predict: (key, features, count) => {
      calls.push(count);
      onCall?.();
      return inner.predict(key, features, count);
    },
    release: (key) => inner.release(key),
    reset: () => inner.reset(),
    close: () => inner.close(),
  };
  /** Resolves when the next model call starts. */
  const nextCall = () => new Promise<void>((resolve) => (onCall = resolve));
  return { runner, calls, nextCall };
}

/**
 * SERVE_THREADS: model calls on worker threads. The answers are the inline ones, batching still
 * coalesces, a released model leaves its thread, a thread that dies is replaced, and, the point of
 * it, the event loop answers other requests while a model computes.
 */
describe('serving on model threads', () => {
  let database: TestDatabase;
  let repo: Repository;
  let queues: Queues;
  const prefix = `serve-threads-${randomUUID()}`;
  const log = createLogger('error');
  /** The models served here, by name, with instances to send. */
  const served = new Map<string, unknown[]>();
  let wineDataset: DatasetRecord;
  /** 5,000 distinct wine rows: a call of the wide MLP on them takes a while on the cpu backend. */
  const wideRows = Array.from({ length: 5000 }, (_, i) => ({ ...wineRow, alcohol: 11 + (i % 40) / 10, proline: 300 + i }));

  const threaded = (threads: number, options: PredictorOptions = {}) => {
    const runner = new ThreadedRunner({ threads, backend: 'cpu' });
    return { runner, predictor: new Predictor(repositorySource(repo), log, { runner, ...options }) };
  };

  /** Registers an untrained (seeded) wine MLP of `layers` × `units` as the next version of `name`. */
  async function wineVersion(name: string, seed: number, layers = 1, units = 8) {
    const params = { ...wineParams, layers, units };
    const study = await repo.studies.create({ id: randomUUID(), projectId: 'default', name, datasetId: wineDataset.id, config: { ...wineConfig, promoteTo: name } });
    const trial = (await repo.trials.create({ id: randomUUID(), studyId: study.id, number: 0, family: 'mlp', params }))!;
    await repo.trials.start(trial.id, 'test', 'cpu');
    const model = buildModel('mlp', params, { kind: 'tabular', task: 'classification', inputShape: [13], outputs: 3 }, seed);
    const artifact = await serializeModel(model);
    disposeModel(model);
    await repo.trials.complete(trial.id, 1, { value: 1, metrics: { val_loss: 1 }, epochs: 1, bestEpoch: 1, durationMs: 1, artifact });
    return (await repo.models.promoteStudy({ projectId: 'default', modelName: name, studyId: study.id, trialId: trial.id, datasetId: wineDataset.id, family: 'mlp', metrics: {}, message: () => 'done' }))!;
  }

  beforeAll(async () => {
    await selectBackend('cpu');
    database = await freshDatabase('sqlite');
    repo = createRepository(database.url);
    queues = openQueues(REDIS_URL, prefix);
    // An MLP on a table, a CNN on images and a GRU on sequences and on a time series.
    const models: { name: string; kind: string; family: Family }[] = [
      { name: 'table-mlp', kind: 'tabular', family: 'mlp' },
      { name: 'image-cnn', kind: 'image', family: 'cnn' },
      { name: 'sequence-gru', kind: 'sequence', family: 'rnn' },
      { name: 'series-gru', kind: 'timeseries', family: 'rnn' },
    ];
    for (const m of models) {
      const kind = KINDS.find((k) => k.kind === m.kind)!;
      const dataset = await storeDataset(repo, 'default', m.name, kind.input());
      await registerVersion(repo, { projectId: 'default', name: m.name, dataset, family: m.family, seed: 3, ...(kind.forecast ? { forecast: kind.forecast } : {}) });
      served.set(m.name, await validationInstances(repo, dataset, 8, kind.forecast ?? {}));
      if (m.kind === 'tabular') wineDataset = dataset;
    }
    await wineVersion('wide', 1, 3, 256);
  });
  afterAll(async () => {
    await queues?.close();
    await repo?.close();
    await database?.drop();
  });

  it('answers exactly as the inline runner, for an MLP, a CNN and two GRUs, one thread per model by key', async () => {
    const inline = new Predictor(repositorySource(repo), log, { batch: false });
    const { runner, predictor } = threaded(2, { batch: false });
    try {
      for (const [name, instances] of served) {
        const a = await inline.predict('default', name, instances);
        const b = await predictor.predict('default', name, instances);
        expect(b.model).toEqual(a.model);
        expect(b.predictions).toHaveLength(instances.length);
        expect(sameNumbers(a.predictions, b.predictions, 1e-6)).toEqual([]);
      }
      // Each model is held by one thread only, whichever its key hashes to.
      const stats = await runner.stats();
      expect(stats.flatMap((s) => s.models)).toHaveLength(served.size);
      expect(new Set(stats.map((s) => s.threadId)).size).toBe(stats.length);
      expect(stats.every((s) => s.backend === 'cpu')).toBe(true);
    } finally {
      await inline.close();
      await predictor.close();
    }
    expect(runner.threads()).toEqual([]);
  });

  it('still coalesces concurrent requests into few model calls, each answered with its own rows', async () => {
    // 40 requests of 1 to 3 distinct rows each (79 rows: more than one batch of 64).
    const requests = Array.from({ length: 40 }, (_, r) => Array.from({ length: 1 + (r % 3) }, (_, i) => ({ ...wineRow, alcohol: 11 + ((r * 3 + i) % 40) / 10, proline: 300 + 25 * r + i })));
    const alone = new Predictor(repositorySource(repo), log, { batch: false });
    const w = watched(new ThreadedRunner({ threads: 1, backend: 'cpu' }));
    const batched = new Predictor(repositorySource(repo), log, { runner: w.runner, batch: { maxBatchSize: 64, maxWaitMs: 50 } });
    try {
      const sequential = [];
      for (const instances of requests) sequential.push(await alone.predict('default', 'table-mlp', instances));
      const concurrent = await Promise.all(requests.map((instances) => batched.predict('default', 'table-mlp', instances)));
      expect(w.calls.every((n) => n <= 64)).toBe(true);
      expect(w.calls.reduce((a, b) => a + b, 0)).toBe(requests.flat().length);
      expect(w.calls.length).toBeLessThan(requests.length / 4);
      for (const [r, answer] of concurrent.entries()) expect(sameNumbers(sequential[r]!.predictions, answer.predictions, 1e-6)).toEqual([]);
    } finally {
      await alone.close();
      await batched.close();
    }
  });

  it('frees a released version in its thread: after alias moves one model is left there, with its tensors only', async () => {
    await wineVersion('moving', 1);
    const { runner, predictor } = threaded(1);
    const rows = [wineRow];
    try {
      const first = await predictor.predict('default', 'moving', rows);
      const [one] = await runner.stats();
      expect(one!.models).toHaveLength(1);
      expect(one!.numTensors).toBeGreaterThan(0);

      const v2 = await wineVersion('moving', 2);
      const second = await Promise.all(Array.from({ length: 8 }, () => predictor.predict('default', 'moving', rows)));
      expect(second.every((r) => r.model.version === 2)).toBe(true);
      expect(second[0]!.predictions).not.toEqual(first.predictions);
      // The release waits for v1's batches; then v1's weights leave the thread.
      const [after] = await eventually(async () => {
        const stats = await runner.stats();
        return stats[0]?.models.length === 1 ? stats : undefined;
      }, 'v1 to leave its thread', 10_000, 20);
      expect(after!.models[0]!.startsWith(`${v2.id}/`)).toBe(true);
      expect(after!.numTensors).toBe(one!.numTensors);

      // Released in the runner itself: the key is gone from the thread, and a call for it says so.
      const key = after!.models[0]!;
      await runner.release(key);
      expect((await runner.stats())[0]).toMatchObject({ models: [], numTensors: 0 });
      await expect(runner.predict(key, new Float32Array(13), 1)).rejects.toBeInstanceOf(ModelGoneError);
      // The Predictor loads it again on its next request.
      expect(await predictor.predict('default', 'moving', rows)).toEqual(second[0]);
    } finally {
      await predictor.close();
    }
  });

  it('maas serve --from with SERVE_THREADS=2 answers as the inline predictor', async () => {
    const inline = new Predictor(repositorySource(repo), log, { batch: false });
    // Called through: only counted, so that a server that ignored SERVE_THREADS would fail here.
    const loads = vi.spyOn(ThreadedRunner.prototype, 'load');
    const server = await startStandalone({ from: { database: database.url }, config: loadConfig({ PORT: '0', HOST: '127.0.0.1', MAAS_BACKEND: 'cpu', LOG_LEVEL: 'error', SERVE_THREADS: '2' }), log });
    try {
      for (const [name, instances] of served) {
        const res = await fetch(`${server.url}/v1/models/${name}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances }) });
        expect(res.status).toBe(200);
        const body = (await res.json()) as { predictions: unknown[] };
        expect(sameNumbers((await inline.predict('default', name, instances)).predictions, body.predictions, 1e-6)).toEqual([]);
      }
      expect(loads).toHaveBeenCalledTimes(served.size);
    } finally {
      loads.mockRestore();
      await server.stop();
      await inline.close();
    }
  });

  it('mirrors to a shadow version on the threads too, without changing the answer', async () => {
    const v1 = await wineVersion('mirror', 1);
    const v2 = await wineVersion('mirror', 2);
    await repo.models.setAlias('default', 'mirror', 'mirrored', v1.id, { canary: [], shadow: { version: 2, share: 1 } });
    const threads = new ThreadedRunner({ threads: 2, backend: 'cpu' });
    const w = watched(threads);
    const predictor = new Predictor(repositorySource(repo), log, { runner: w.runner });
    const inline = new Predictor(repositorySource(repo), log, { batch: false });
    try {
      const answer = await predictor.predict('default', 'mirror', [wineRow], 'mirrored');
      expect(answer.model).toEqual({ name: 'mirror', version: 1, alias: 'mirrored' });
      expect(sameNumbers((await inline.predict('default', 'mirror', [wineRow], { version: 1 })).predictions, answer.predictions, 1e-6)).toEqual([]);
      await predictor.shadowsSettled();
      // One call for the answer, one for the shadow, each version held by a thread.
      expect(w.calls).toEqual([1, 1]);
      const keys = (await threads.stats()).flatMap((s) => s.models);
      expect(keys.map((k) => k.split('/')[0]).sort()).toEqual([v1.id, v2.id].sort());
    } finally {
      await predictor.close();
      await inline.close();
    }
  });

  it('replaces a killed thread: an idle one unnoticed, one killed mid-call as a backend fault (503); the next request is answered as before', async () => {
    const threads = new ThreadedRunner({ threads: 1, backend: 'cpu' });
    const w = watched(threads);
    const predictor = new Predictor(repositorySource(repo), log, { runner: w.runner, batch: false });
    try {
      const rows = wideRows.slice(0, 20);
      const before = await predictor.predict('default', 'wide', rows);
      const killed = threads.threads()[0]!;
      await killed.terminate();
      const fresh = await eventually(async () => threads.threads().find((t) => t.threadId !== killed.threadId), 'a new thread', 10_000, 20);
      // The model went with the thread: the Predictor loads it again into the new one, and the answer is the same.
      expect(await predictor.predict('default', 'wide', rows)).toEqual(before);
      expect((await threads.stats()).map((s) => [s.threadId, s.models.length])).toEqual([[fresh.threadId, 1]]);

      // Killed while it computes: that request is answered as the api's own backend fault is, the next one as before.
      const calling = w.nextCall();
      const failed = predictor.predict('default', 'wide', wideRows).catch((err: unknown) => err);
      await calling;
      await threads.threads()[0]!.terminate();
      const err = await failed;
      expect(err).toBeInstanceOf(ServiceBusyError);
      expect((err as Error).message).toMatch(/^the compute backend failed on this request \(ModelThreadDiedError: the model thread stopped during this call \(worker exited with code: 1\).*\); it has been reset; retry the request$/);
      expect(await predictor.predict('default', 'wide', rows)).toEqual(before);
    } finally {
      await predictor.close();
    }
  });

  it('answers /healthz while a threaded model call computes, and only after the call ends on the api thread', async () => {
    /** The order in which a long prediction and a /healthz asked once its model call has begun are answered. */
    async function healthDuring(runner: ModelRunner): Promise<string[]> {
      const w = watched(runner);
      const predictor = new Predictor(repositorySource(repo), log, { runner: w.runner, batch: false });
      const app: OpenAPIHono = createApp({ repo, coordinator: new Coordinator({ repo, queues, log, prefix }), predictor, queues, prefix, log });
      try {
        // Loaded (and its thread started) first, so that only the model call is left.
        await predictor.predict('default', 'wide', [wineRow]);
        const order: string[] = [];
        const calling = w.nextCall();
        const prediction = predictor.predict('default', 'wide', wideRows).then(() => order.push('prediction'));
        await calling;
        const health = Promise.resolve(app.request('/healthz')).then((res) => order.push(`healthz ${res.status}`));
        await Promise.all([prediction, health]);
        return order;
      } finally {
        await predictor.close();
      }
    }
    expect(await healthDuring(new ThreadedRunner({ threads: 1, backend: 'cpu' }))).toEqual(['healthz 200', 'prediction']);
    // The control: on the api's own thread the same call holds the event loop until it ends.
    expect(await healthDuring(new InlineRunner())).toEqual(['prediction', 'healthz 200']);
  });
});
