import { randomUUID } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareDataset, type ClassPrediction } from '../../src/data/index.ts';
import { ConflictError, ValidationError } from '../../src/errors.ts';
import { createLogger } from '../../src/log.ts';
import type { StudyConfig } from '../../src/schemas.ts';
import { Predictor } from '../../src/serving/predictor.ts';
import { repositorySource } from '../../src/serving/source.ts';
import { buildModel, disposeModel, serializeModel } from '../../src/model/index.ts';
import { startTestApp, studyEnd, type TestApp } from '../helpers/app.ts';
import { PROVIDERS } from '../helpers/databases.ts';

/**
 * Strict predict on a real trained model: nothing is filled in unasked (a missing or misspelled
 * column is refused, null asks for imputation), numbers that cannot reach the model are refused,
 * and an output that is not finite is an error naming who is to blame, never a null.
 */
const params = { family: 'mlp', layers: 1, units: 8, activation: 'relu', dropout: 0, batchNorm: false, learningRate: 0.05, batchSize: 8, optimizer: 'adam' };

function csv(): string {
  const lines = ['x,z,color,class'];
  for (let i = 0; i < 60; i++) {
    const x = ((i * 37) % 19) / 9 - 1 || 0.5;
    lines.push([x, ((i * 53) % 13) / 6 - 1, ['red', 'blue', 'green'][i % 3], x > 0 ? 'pos' : 'neg'].join(','));
  }
  return `${lines.join('\n')}\n`;
}

/** The error `promise` rejects with. */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: Error) => err,
  );
}

describe.each(PROVIDERS)('strict predict on %s', (provider) => {
  let t: TestApp;
  let predictor: Predictor;
  let datasetId: string;
  const predict = (model: string, instances: unknown[]) => predictor.predict('default', model, instances);

  beforeAll(async () => {
    t = await startTestApp(provider, { withWorker: true });
    predictor = new Predictor(repositorySource(t.repo), createLogger('error'));
    const prepared = prepareDataset({ csv: csv(), kind: 'tabular', target: 'class', seed: 0 });
    datasetId = (await t.repo.datasets.create({
      id: randomUUID(), projectId: 'default', name: 'strict', kind: 'tabular', task: prepared.task, target: 'class', rows: prepared.encoded.rows, summary: prepared.summary,
      preprocessing: { ...prepared.preprocessing, spec: prepared.spec, trainRows: prepared.encoded.trainRows }, features: prepared.encoded.features, labels: prepared.encoded.labels,
    })).id;
    // A real model: one tiny study, trained by the worker.
    const res = await t.app.request('/v1/studies', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'strict', datasetId, objective: { metric: 'val_accuracy' }, budget: { maxTrials: 1, maxEpochs: 3 }, promotion: 'always', seed: 1,
        search: { families: ['mlp'], space: { mlp: { layers: 1, units: 8, learningRate: 0.05, batchSize: 8, dropout: 0, optimizer: 'adam' } } },
      }),
    });
    const created = (await res.json()) as { id: string };
    expect(res.status, JSON.stringify(created)).toBe(202);
    expect((await studyEnd(t.repo, created.id, 120_000)).state).toBe('completed');
  });
  afterAll(async () => {
    predictor?.close();
    await t?.close();
  });

  /** Registers a model of untrained weights, transformed by `weights`, as the champion of `name`. */
  async function version(name: string, weights: (w: tf.Tensor) => tf.Tensor) {
    const config: StudyConfig = {
      objective: { metric: 'val_accuracy', direction: 'maximize' },
      budget: { maxTrials: 1, maxEpochs: 1, parallelism: 1, trialTimeoutSeconds: 3600, maxRetries: 2 },
      search: { algorithm: 'random', families: ['mlp'], space: {} },
      earlyStopping: { patience: 1, minDelta: 0 }, seed: 1, promoteTo: name, device: 'auto',
    };
    const study = await t.repo.studies.create({ id: randomUUID(), projectId: 'default', name, datasetId, config });
    const trial = (await t.repo.trials.create({ id: randomUUID(), studyId: study.id, number: 0, family: 'mlp', params }))!;
    await t.repo.trials.start(trial.id, 'test', 'cpu');
    const model = buildModel('mlp', params, { kind: 'tabular', task: 'classification', inputShape: [5], outputs: 2 }, 1);
    const changed = tf.tidy(() => model.getWeights().map(weights));
    model.setWeights(changed);
    tf.dispose(changed);
    const artifact = await serializeModel(model);
    disposeModel(model);
    await t.repo.trials.complete(trial.id, 1, { value: 1, metrics: {}, epochs: 1, bestEpoch: 1, durationMs: 1, artifact });
    await t.repo.models.promoteStudy({ projectId: 'default', modelName: name, studyId: study.id, trialId: trial.id, datasetId, family: 'mlp', metrics: {}, message: () => 'set up' });
  }

  it('answers complete instances; null asks for the training mean or the missing category', async () => {
    const { predictions } = await predict('strict', [{ x: 0.8, z: 0, color: 'red' }, { x: -0.8, z: 0, color: 'blue', class: 'neg' }]);
    expect((predictions as ClassPrediction[]).map((p) => p.label)).toEqual(['pos', 'neg']);
    const pre = (await t.repo.datasets.get(datasetId))!.preprocessing as { columns: { name: string; mean?: number }[] };
    const [x, z] = pre.columns.map((c) => c.mean);
    const [imputed, explicit] = await Promise.all([predict('strict', [{ x: null, z: null, color: 'red' }]), predict('strict', [{ x, z, color: 'red' }])]);
    expect(imputed.predictions).toEqual(explicit.predictions);
    expect(Object.values((imputed.predictions[0] as ClassPrediction).probabilities).every(Number.isFinite)).toBe(true);
  });

  it('refuses {} and a misspelled column, naming them', async () => {
    const empty = (await rejection(predict('strict', [{}]))) as ValidationError;
    expect(empty).toBeInstanceOf(ValidationError);
    expect(empty.field).toBe('instances[0].x');
    expect(empty.rule).toBe('is required; send null to ask for imputation (also missing: z, color)');
    const ok = { x: 1, z: 0, color: 'red' };
    const typo = (await rejection(predict('strict', [ok, ok, ok, { x: 1, z: 0, colour: 'red' }]))) as ValidationError;
    expect(typo).toBeInstanceOf(ValidationError);
    expect(typo.field).toBe('instances[3].colour');
    expect(typo.rule).toBe('is not a column of this model; columns are x, z, color');
  });

  it('refuses numbers that cannot reach the model', async () => {
    const huge = (await rejection(predict('strict', [{ x: 1e308, z: 0, color: 'red' }]))) as ValidationError;
    expect(huge).toBeInstanceOf(ValidationError);
    expect(huge.field).toBe('instances[0].x');
    expect(huge.message).toContain('too large');
    const text = (await rejection(predict('strict', [{ x: 'Infinity', z: 0, color: 'red' }]))) as ValidationError;
    expect(text.field).toBe('instances[0].x');
    expect(text.rule).toContain('must be a finite number');
  });

  it('never answers a non-finite output: the input (400) or the model (409) is named', async () => {
    // Weights of 1e30: an ordinary input overflows float32 inside the model, the training means do not.
    await version('overflows', (w) => w.mul(1e30));
    const driven = (await rejection(predict('overflows', [{ x: 0, z: 0, color: 'red' }, { x: 1, z: 1, color: 'red' }]))) as ValidationError;
    expect(driven).toBeInstanceOf(ValidationError);
    expect(driven.field).toMatch(/^instances\[\d\]$/);
    expect(driven.rule).toContain('drives the model to a non-finite output');
    await version('broken', (w) => w.mul(Number.NaN));
    const broken = await rejection(predict('broken', [{ x: 0, z: 0, color: 'red' }]));
    expect(broken).toBeInstanceOf(ConflictError);
    expect(broken.message).toContain('model broken v1 gives non-finite outputs even for the training means');
  });
});
