import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/create-app.ts';
import { Coordinator } from '../../src/coordinator/index.ts';
import { prepareDataset } from '../../src/data/index.ts';
import { ServiceBusyError } from '../../src/errors.ts';
import { createLogger } from '../../src/log.ts';
import { openQueues, type Queues } from '../../src/queue/index.ts';
import { Predictor } from '../../src/serving/predictor.ts';
import { repositorySource } from '../../src/serving/source.ts';
import { createRepository, type Repository } from '../../src/storage/index.ts';
import { backendFaultOf, buildModel, capWasmHeap, disposeModel, OutOfMemoryError, probeBackend, resetBackend, selectBackend, serializeModel, TrialFailure } from '../../src/model/index.ts';
import { freshDatabase, PROVIDERS, REDIS_URL, type TestDatabase } from '../helpers/databases.ts';
import { wineConfig, wineParams, wineRow } from '../helpers/wine.ts';

describe('backendFaultOf', () => {
  it('calls a wasm trap fatal, an allocation failure a fault for the probe to judge, and anything else ordinary', () => {
    const trap = new WebAssembly.RuntimeError('memory access out of bounds');
    expect(backendFaultOf(trap)).toEqual({ fatal: true, reason: 'RuntimeError: memory access out of bounds' });
    // Building a model wraps whatever it threw in a TrialFailure: the cause is read.
    expect(backendFaultOf(new TrialFailure('memory access out of bounds', { cause: trap }))?.fatal).toBe(true);
    expect(backendFaultOf(new Error('Aborted(OOM). Build with -sASSERTIONS for more info.'))?.fatal).toBe(true);
    expect(backendFaultOf(new RangeError('Array buffer allocation failed'))).toEqual({ fatal: false, reason: 'RangeError: Array buffer allocation failed' });
    // Over TRIAL_MEMORY_MB is this service's own limit, not a fault of the backend.
    expect(backendFaultOf(new OutOfMemoryError('the trial held 900 MiB of tensors after epoch 1, over its limit of 512 MiB (TRIAL_MEMORY_MB)'))).toBeNull();
    expect(backendFaultOf(new Error('connect EHOSTUNREACH 10.0.0.1:5432 (host unreachable)'))).toBeNull();
    expect(backendFaultOf(new Error('Training diverged: loss is NaN at epoch 3'))).toBeNull();
  });
});

const config = wineConfig;
const params = wineParams;
const rows = [wineRow];

/**
 * Poisons this process's wasm backend for real, as the 32×8192 MLP did when training ran
 * in the api's process: with the heap capped at 48 MiB, a 4×1024 MLP's first training step
 * exhausts it, emscripten's malloc returns 0, tfjs writes tensors there, and wasm traps.
 */
async function poisonWasm(): Promise<void> {
  expect(capWasmHeap(48 * 2 ** 20)).toBe(true);
  const model = tf.sequential();
  try {
    model.add(tf.layers.dense({ units: 1024, inputShape: [784], activation: 'relu' }));
    for (let i = 1; i < 4; i++) model.add(tf.layers.dense({ units: 1024, activation: 'relu' }));
    model.add(tf.layers.dense({ units: 10, activation: 'softmax' }));
    model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
    await model.fit(tf.zeros([40, 784]), tf.oneHot(tf.zeros([40], 'int32'), 10), { epochs: 1, batchSize: 32, verbose: 0 });
    throw new Error('training did not exhaust the capped heap');
  } catch (err) {
    expect(err).toBeInstanceOf(WebAssembly.RuntimeError);
  }
  expect((await probeBackend()).ok).toBe(false);
}

/**
 * The api's predict after its wasm backend is poisoned: the backend is reset (a new WebAssembly
 * instance) and the next predict answers as before; when no reset can be made, predict and
 * /healthz answer 503 and /healthz says why.
 */
describe.each(PROVIDERS)('predict after the compute backend breaks, on %s', (provider) => {
  let database: TestDatabase;
  let repo: Repository;
  let queues: Queues;
  const prefix = `faults-${randomUUID()}`;
  const log = createLogger('error');
  let datasetId: string;

  /** An app around `predictor`, as `createApp` builds it for `maas api`. */
  function appWith(predictor: Predictor): OpenAPIHono {
    return createApp({ repo, coordinator: new Coordinator({ repo, queues, log, prefix }), predictor, queues, prefix, log });
  }

  async function health(app: OpenAPIHono) {
    const res = await app.request('/healthz');
    return { status: res.status, body: (await res.json()) as { status: string; backend: string } };
  }

  beforeAll(async () => {
    await selectBackend('wasm');
    database = await freshDatabase(provider);
    repo = createRepository(database.url);
    queues = openQueues(REDIS_URL, prefix);
    const csv = readFileSync(join(import.meta.dirname, '../fixtures/wine.csv'), 'utf8');
    const prepared = prepareDataset({ csv, kind: 'tabular', target: 'cultivar', seed: 0 });
    datasetId = (
      await repo.datasets.create({
        id: randomUUID(), projectId: 'default', name: 'wine', kind: 'tabular', task: prepared.task, target: 'cultivar', rows: prepared.encoded.rows, summary: prepared.summary,
        preprocessing: { ...prepared.preprocessing, spec: prepared.spec, trainRows: prepared.encoded.trainRows }, features: prepared.encoded.features, labels: prepared.encoded.labels,
      })
    ).id;
    // An untrained (seeded) model as version 1 of "wine".
    const study = await repo.studies.create({ id: randomUUID(), projectId: 'default', name: 'wine', datasetId, config });
    const trial = (await repo.trials.create({ id: randomUUID(), studyId: study.id, number: 0, family: 'mlp', params }))!;
    await repo.trials.start(trial.id, 'test', 'wasm');
    const model = buildModel('mlp', params, { kind: 'tabular', task: 'classification', inputShape: [13], outputs: 3 }, 1);
    const artifact = await serializeModel(model);
    disposeModel(model);
    await repo.trials.complete(trial.id, 1, { value: 1, metrics: { val_loss: 1 }, epochs: 1, bestEpoch: 1, durationMs: 1, artifact });
    await repo.models.promoteStudy({ projectId: 'default', modelName: 'wine', studyId: study.id, trialId: trial.id, datasetId, family: 'mlp', metrics: {}, message: () => 'done' });
  });

  afterAll(async () => {
    // Leave a working backend for whatever runs next in this process.
    if (!(await probeBackend()).ok) await resetBackend();
    await selectBackend('cpu');
    await queues?.close();
    await repo?.close();
    await database?.drop();
  });

  it('resets a poisoned backend: the predict that met the fault is answered 503, the next one as before, and /healthz stays ok', async () => {
    const predictor = new Predictor(repositorySource(repo), log);
    const app = appWith(predictor);
    try {
      const before = await predictor.predict('default', 'wine', rows);
      expect(await health(app)).toMatchObject({ status: 200, body: { status: 'ok', backend: 'ok' } });

      await poisonWasm();
      const failed = await predictor.predict('default', 'wine', rows).catch((err: unknown) => err);
      expect(failed).toBeInstanceOf(ServiceBusyError);
      expect((failed as Error).message).toMatch(/compute backend failed on this request \(RuntimeError: (memory access out of bounds|Aborted\(\)).*\); it has been reset; retry/);

      // The model loads again into the fresh wasm instance and answers exactly as before the fault.
      expect(await predictor.predict('default', 'wine', rows)).toEqual(before);
      expect(await health(app)).toMatchObject({ status: 200, body: { backend: 'ok' } });
    } finally {
      predictor.close();
    }
  });

  it('resets a poisoned backend from /healthz alone, before any predict meets it', async () => {
    const predictor = new Predictor(repositorySource(repo), log);
    const app = appWith(predictor);
    try {
      const before = await predictor.predict('default', 'wine', rows);
      await poisonWasm();
      expect(await health(app)).toMatchObject({ status: 200, body: { backend: 'ok' } });
      expect((await probeBackend()).ok).toBe(true);
      expect(await predictor.predict('default', 'wine', rows)).toEqual(before);
    } finally {
      predictor.close();
    }
  });

  it('answers 503 to predict and to /healthz, saying why, while the backend cannot be reset', async () => {
    const predictor = new Predictor(repositorySource(repo), log, { resetBackend: () => Promise.reject(new Error('no new wasm instance could be made')) });
    const app = appWith(predictor);
    try {
      await predictor.predict('default', 'wine', rows);
      await poisonWasm();
      await expect(predictor.predict('default', 'wine', rows)).rejects.toThrow(/it is broken: .*a reset failed: no new wasm instance could be made/);
      const { status, body } = await health(app);
      expect(status).toBe(503);
      expect(body.status).toBe('unavailable');
      expect(body.backend).toMatch(/^broken: the probe failed: RuntimeError: .+; a reset failed: no new wasm instance could be made$/);
      // Refused at once, without touching the broken backend again.
      await expect(predictor.predict('default', 'wine', rows)).rejects.toThrow(/the compute backend is broken .*predictions resume once it is reset/);
    } finally {
      predictor.close();
    }
  });
});
