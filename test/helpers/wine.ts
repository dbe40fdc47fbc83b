import { randomUUID } from 'node:crypto';
import type { StudyConfig } from '../../src/schemas.ts';
import type { Repository } from '../../src/storage/index.ts';
import { buildModel, disposeModel, serializeModel } from '../../src/model/index.ts';

/** A one-trial study config for the wine fixture (13 columns, 3 cultivars), for tests that register models directly. */
export const wineConfig: StudyConfig = {
  objective: { metric: 'val_loss', direction: 'minimize' },
  budget: { maxTrials: 1, maxEpochs: 1, parallelism: 1, trialTimeoutSeconds: 3600, maxRetries: 2 },
  search: { algorithm: 'random', families: ['mlp'], space: {} },
  earlyStopping: { patience: 1, minDelta: 0 },
  seed: 1,
  promoteTo: 'wine',
  device: 'auto',
};
export const wineParams = { family: 'mlp', layers: 1, units: 8, activation: 'relu', dropout: 0, batchNorm: false, learningRate: 0.01, batchSize: 16, optimizer: 'adam' };
export const wineRow = { alcohol: 13.2, malic_acid: 1.78, ash: 2.14, alcalinity_of_ash: 11.2, magnesium: 100, total_phenols: 2.65, flavanoids: 2.76, nonflavanoid_phenols: 0.26, proanthocyanins: 1.28, color_intensity: 4.38, hue: 1.05, od280_od315: 3.4, proline: 1050 };

/** Registers a seeded, untrained wine model as the next version of `name` in a project, as champion. */
export async function registerWineVersion(repo: Repository, v: { projectId: string; datasetId: string; name: string; seed: number }) {
  const study = await repo.studies.create({ id: randomUUID(), projectId: v.projectId, name: v.name, datasetId: v.datasetId, config: { ...wineConfig, promoteTo: v.name } });
  const trial = (await repo.trials.create({ id: randomUUID(), studyId: study.id, number: 0, family: 'mlp', params: wineParams }))!;
  await repo.trials.start(trial.id, 'test', 'cpu');
  const model = buildModel('mlp', wineParams, { kind: 'tabular', task: 'classification', inputShape: [13], outputs: 3 }, v.seed);
  const artifact = await serializeModel(model);
  disposeModel(model);
  await repo.trials.complete(trial.id, 1, { value: 1, metrics: { val_loss: 1 }, epochs: 1, bestEpoch: 1, durationMs: 1, artifact });
  const version = await repo.models.promoteStudy({ projectId: v.projectId, modelName: v.name, studyId: study.id, trialId: trial.id, datasetId: v.datasetId, family: 'mlp', metrics: { val_loss: 1 }, message: () => 'done' });
  return { studyId: study.id, trialId: trial.id, version: version! };
}
