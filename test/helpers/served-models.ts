import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { baselineOf, prepareDataset, preprocessingSchema, rawInstances, studySpec, trainingData, type ForecastSettings, type PrepareInput } from '../../src/data/index.ts';
import type { Family, Params, TaskSpec } from '../../src/domain.ts';
import { familiesFor } from '../../src/search/space.ts';
import type { DatasetRecord, Repository } from '../../src/storage/index.ts';
import { buildModel, disposeModel, serializeModel } from '../../src/model/index.ts';
import { mnistCsv, mnistRows } from './mnist.ts';
import { wineConfig } from './wine.ts';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, '../fixtures', name), 'utf8');

/** One small dataset of each kind, as prepareDataset takes it, with a forecaster's window and horizon. */
export const KINDS: { kind: PrepareInput['kind']; input: () => PrepareInput; forecast?: ForecastSettings }[] = [
  { kind: 'tabular', input: () => ({ csv: fixture('wine.csv'), kind: 'tabular', target: 'cultivar', seed: 0 }) },
  { kind: 'image', input: () => ({ csv: mnistCsv(mnistRows(0, 3)), kind: 'image', target: 'label', seed: 0 }) },
  { kind: 'text', input: () => ({ csv: fixture('reuters-acq-crude.csv'), kind: 'text', target: 'topic', seed: 0 }) },
  { kind: 'sequence', input: () => ({ csv: fixture('digits-8x8-sequences.jsonl').split('\n').slice(0, 60).join('\n'), kind: 'sequence', target: 'digit', seed: 0 }) },
  { kind: 'timeseries', input: () => ({ csv: fixture('airpassengers.csv'), kind: 'timeseries', seed: 0 }), forecast: { window: 12, horizon: 3 } },
];

const TRAINING = { learningRate: 0.01, batchSize: 8, optimizer: 'adam' };

/** Small parameters of `family` for data like `spec` (an embedding for token ids). */
export function smallParams(family: Family, spec: TaskSpec): Params {
  const embedding: Params = spec.vocabSize !== undefined ? { embeddingDim: 5 } : {};
  switch (family) {
    case 'mlp':
      return { family, layers: 1, units: 8, activation: 'relu', dropout: 0, batchNorm: false, ...TRAINING };
    case 'cnn':
      return { family, blocks: 1, filters: 4, kernelSize: 3, pooling: 'max', dropout: 0, denseUnits: 8, ...embedding, ...TRAINING };
    case 'rnn':
      return { family, cell: 'gru', layers: 1, units: 6, bidirectional: false, dropout: 0, ...embedding, ...TRAINING };
    case 'transformer':
      return { family, blocks: 1, heads: 2, modelDim: 8, ffDim: 16, dropout: 0, ...TRAINING };
  }
}

/** Every family a study offers for `spec`, and the transformer on tables too (offered there only when asked). */
export const familiesOf = (spec: TaskSpec): Family[] => [...new Set<Family>([...familiesFor(spec), 'transformer'])];

/** Prepares `input` and stores it in a project as the upload route would. */
export async function storeDataset(repo: Repository, projectId: string, name: string, input: PrepareInput): Promise<DatasetRecord> {
  const prepared = prepareDataset(input);
  return repo.datasets.create({
    id: randomUUID(), projectId, name, kind: prepared.kind, task: prepared.task, target: prepared.preprocessing.target, rows: prepared.encoded.rows, summary: prepared.summary,
    preprocessing: { ...prepared.preprocessing, spec: prepared.spec, trainRows: prepared.encoded.trainRows }, features: prepared.encoded.features, labels: prepared.encoded.labels,
  });
}

/** The task spec a study of `dataset` trains for. */
export const specOf = (dataset: DatasetRecord, forecast: Partial<ForecastSettings> = {}) => studySpec(dataset.preprocessing, forecast);

/**
 * Registers a seeded, untrained model of `family` as the next version of `name` (champion),
 * through a study (with its baseline) and a trial that records `curve` epoch by epoch.
 */
export async function registerVersion(
  repo: Repository,
  v: { projectId: string; name: string; dataset: DatasetRecord; family: Family; seed: number; forecast?: ForecastSettings; curve?: Record<string, number>[] },
) {
  const spec = specOf(v.dataset, v.forecast ?? {});
  const blobs = (await repo.datasets.data(v.dataset.id))!;
  const baseline = baselineOf(trainingData(v.dataset, blobs, v.forecast ?? {}));
  const metric = spec.task === 'classification' ? 'val_accuracy' : 'val_mae';
  const config = { ...wineConfig, objective: { metric, direction: metric === 'val_accuracy' ? 'maximize' : 'minimize' } as const, promoteTo: v.name, baseline, ...(v.forecast ?? {}) };
  const study = await repo.studies.create({ id: randomUUID(), projectId: v.projectId, name: `${v.name} search`, datasetId: v.dataset.id, config });
  const params = smallParams(v.family, spec);
  const trial = (await repo.trials.create({ id: randomUUID(), studyId: study.id, number: 0, family: v.family, params }))!;
  await repo.trials.start(trial.id, 'test', 'cpu');
  const curve = v.curve ?? [{ [metric]: 0.5 }];
  for (const [i, metrics] of curve.entries()) await repo.trials.recordEpoch(trial.id, 1, i + 1, metrics, { value: metrics[metric] ?? 0, epoch: i + 1, metrics });
  const model = buildModel(v.family, params, spec, v.seed);
  const artifact = await serializeModel(model);
  disposeModel(model);
  const metrics = curve.at(-1)!;
  await repo.trials.complete(trial.id, 1, { value: metrics[metric] ?? 0, metrics, epochs: curve.length, bestEpoch: curve.length, durationMs: 1, artifact });
  const version = await repo.models.promoteStudy({ projectId: v.projectId, modelName: v.name, studyId: study.id, trialId: trial.id, datasetId: v.dataset.id, family: v.family, metrics, message: () => 'done' });
  return { version: version!, studyId: study.id, trialId: trial.id, params, baseline };
}

/** Validation rows of a dataset as raw predict instances, `count` of them. */
export async function validationInstances(repo: Repository, dataset: DatasetRecord, count: number, forecast: Partial<ForecastSettings> = {}): Promise<unknown[]> {
  const training = trainingData(dataset, (await repo.datasets.data(dataset.id))!, forecast);
  const model = { ...preprocessingSchema.parse(dataset.preprocessing), ...forecast };
  return rawInstances(training, model, training.data.trainRows, Math.min(training.data.rows, training.data.trainRows + count));
}

/** Expects two predict answers' predictions to agree: labels exactly, every number within `tolerance`. */
export function sameNumbers(a: unknown, b: unknown, tolerance: number, path = 'predictions'): string[] {
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b) <= tolerance ? [] : [`${path}: ${a} vs ${b}`];
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return [`${path}: ${a.length} items vs ${b.length}`];
    return a.flatMap((x, i) => sameNumbers(x, b[i], tolerance, `${path}[${i}]`));
  }
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    return keys.flatMap((k) => sameNumbers((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], tolerance, `${path}.${k}`));
  }
  return a === b ? [] : [`${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`];
}
