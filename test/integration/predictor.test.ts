import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareDataset } from '../../src/data/index.ts';
import { createLogger } from '../../src/log.ts';
import { Predictor } from '../../src/serving/predictor.ts';
import { repositorySource } from '../../src/serving/source.ts';
import { createRepository, type Repository } from '../../src/storage/index.ts';
import { buildModel, disposeModel, selectBackend, serializeModel } from '../../src/model/index.ts';
import { freshDatabase, type TestDatabase } from '../helpers/databases.ts';
import { wineConfig, wineParams, wineRow } from '../helpers/wine.ts';

const config = wineConfig;
const params = wineParams;

/** The warm model cache under concurrent requests while the alias moves. */
describe('predictor', () => {
  let database: TestDatabase;
  let repo: Repository;
  let predictor: Predictor;
  const rows = [wineRow];

  /** Registers an untrained model (seeded) as the next version of "wine". */
  async function version(datasetId: string, seed: number) {
    const study = await repo.studies.create({ id: randomUUID(), projectId: 'default', name: 'wine', datasetId, config });
    const trial = (await repo.trials.create({ id: randomUUID(), studyId: study.id, number: 0, family: 'mlp', params }))!;
    await repo.trials.start(trial.id, 'test', 'cpu');
    const model = buildModel('mlp', params, { kind: 'tabular', task: 'classification', inputShape: [13], outputs: 3 }, seed);
    const artifact = await serializeModel(model);
    disposeModel(model);
    await repo.trials.complete(trial.id, 1, { value: 1, metrics: { val_loss: 1 }, epochs: 1, bestEpoch: 1, durationMs: 1, artifact });
    return (await repo.models.promoteStudy({ projectId: 'default', modelName: 'wine', studyId: study.id, trialId: trial.id, datasetId, family: 'mlp', metrics: {}, message: () => 'done' }))!;
  }

  beforeAll(async () => {
    await selectBackend('cpu');
    database = await freshDatabase('sqlite');
    repo = createRepository(database.url);
    predictor = new Predictor(repositorySource(repo), createLogger('error'));
  });
  afterAll(async () => {
    predictor?.close();
    await repo?.close();
    await database?.drop();
  });

  it('serves concurrent requests across alias moves with one warm model per served version', async () => {
    const csv = readFileSync(join(import.meta.dirname, '../fixtures/wine.csv'), 'utf8');
    const prepared = prepareDataset({ csv, kind: 'tabular', target: 'cultivar', seed: 0 });
    const dataset = await repo.datasets.create({ projectId: 'default',
      id: randomUUID(), name: 'wine', kind: 'tabular', task: prepared.task, target: 'cultivar', rows: prepared.encoded.rows, summary: prepared.summary,
      preprocessing: { ...prepared.preprocessing, spec: prepared.spec, trainRows: prepared.encoded.trainRows }, features: prepared.encoded.features, labels: prepared.encoded.labels,
    });
    const v1 = await version(dataset.id, 1);
    const unhandled: unknown[] = [];
    const onUnhandled = (err: unknown) => unhandled.push(err);
    process.on('unhandledRejection', onUnhandled);
    try {
      const first = await Promise.all(Array.from({ length: 8 }, () => predictor.predict('default', 'wine', rows)));
      expect(first.every((r) => r.model.version === 1)).toBe(true);
      const baseline = tf.memory().numTensors;

      const v2 = await version(dataset.id, 2);
      expect(v2.version).toBe(2);
      const second = await Promise.all(Array.from({ length: 8 }, () => predictor.predict('default', 'wine', rows)));
      expect(second.every((r) => r.model.version === 2)).toBe(true);
      expect(second[0]!.predictions).not.toEqual(first[0]!.predictions);

      // Moving the alias back and forth while requests are in flight.
      const mixed = await Promise.all([
        predictor.predict('default', 'wine', rows),
        repo.models.setAlias('default', 'wine', 'champion', v1.id).then(() => predictor.predict('default', 'wine', rows)),
        predictor.predict('default', 'wine', rows),
      ]);
      expect(mixed[1].model.version).toBe(1);
      expect(await predictor.predict('default', 'wine', rows)).toMatchObject({ model: { version: 1 } });
      await new Promise((r) => setTimeout(r, 50));
      // One model warm, as before the moves: every replaced version was released.
      expect(tf.memory().numTensors).toBe(baseline);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
