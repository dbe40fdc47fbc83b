import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepository, type Repository } from '../../src/storage/index.ts';
import type { StudyConfig } from '../../src/schemas.ts';
import { freshDatabase, PROVIDERS, type TestDatabase } from '../helpers/databases.ts';

/**
 * A rung keeps the metrics its trial had there (what MO-ASHA ranks a rung by), on both
 * databases: pause stores them, rungs returns them, and a rung row written before they were
 * kept reads back as null.
 */
const config: StudyConfig = {
  objective: { metric: 'val_accuracy', direction: 'maximize' },
  objectives: [{ metric: 'val_accuracy', direction: 'maximize' }, { metric: 'param_count', direction: 'minimize' }],
  budget: { maxTrials: 3, maxEpochs: 9, parallelism: 1, trialTimeoutSeconds: 3600, maxRetries: 2 },
  search: { algorithm: 'random', families: ['mlp'], space: {} },
  earlyStopping: { patience: 2, minDelta: 0 },
  seed: 7,
  promoteTo: 'demo',
  device: 'auto',
};
const artifact = { topology: {}, weightSpecs: [], weights: new Uint8Array([1]) };

describe.each(PROVIDERS)('rung metrics on %s', (provider) => {
  let database: TestDatabase;
  let repo: Repository;
  let studyId: string;

  beforeAll(async () => {
    database = await freshDatabase(provider);
    repo = createRepository(database.url);
    const datasetId = randomUUID();
    await repo.datasets.create({ projectId: 'default', id: datasetId, name: 'd', kind: 'tabular', task: 'classification', target: 'y', rows: 1, summary: {}, preprocessing: {}, features: new Float32Array(1), labels: new Float32Array(1) });
    studyId = (await repo.studies.create({ id: randomUUID(), projectId: 'default', name: 's', datasetId, config })).id;
  });
  afterAll(async () => {
    await repo?.close();
    await database?.drop();
  });

  it('stores the metrics of each rung a trial pauses at, and returns them with the rungs', async () => {
    const t = (await repo.trials.create({ id: randomUUID(), studyId, number: 0, family: 'mlp', params: { family: 'mlp' } }))!;
    await repo.trials.start(t.id, 'w1', 'cpu');
    const atRung0 = { val_accuracy: 0.625, val_loss: 0.8, param_count: 1234, predict_ms_per_row: 0.0125, train_seconds: 1.5 };
    expect(await repo.trials.pause(t.id, 1, { rung: 0, epoch: 1, value: 0.625, metrics: atRung0, durationMs: 1500, artifact })).toBe(true);
    expect(await repo.trials.rungs(studyId)).toEqual([{ trialId: t.id, rung: 0, epoch: 1, value: 0.625, metrics: atRung0 }]);
    // The trial keeps them too: one pruned at this rung has its costs, as a completed one does.
    expect((await repo.trials.get(t.id))?.metrics).toEqual(atRung0);

    // Promoted, resumed, paused again: each rung keeps its own metrics.
    expect(await repo.trials.promote(t.id, 1)).toBe(true);
    await repo.trials.start(t.id, 'w2', 'cpu');
    const atRung1 = { ...atRung0, val_accuracy: 0.75, train_seconds: 4.25 };
    // A stale attempt writes nothing.
    expect(await repo.trials.pause(t.id, 1, { rung: 1, epoch: 3, value: 0.5, metrics: { val_accuracy: 0.5 }, durationMs: 1, artifact })).toBe(false);
    expect(await repo.trials.pause(t.id, 2, { rung: 1, epoch: 3, value: 0.75, metrics: atRung1, durationMs: 4250, artifact })).toBe(true);
    const rungs = (await repo.trials.rungs(studyId)).sort((a, b) => a.rung - b.rung);
    expect(rungs).toEqual([
      { trialId: t.id, rung: 0, epoch: 1, value: 0.625, metrics: atRung0 },
      { trialId: t.id, rung: 1, epoch: 3, value: 0.75, metrics: atRung1 },
    ]);
  });

  it('reads a rung row without metrics (written before they were kept) as null', async () => {
    const t = (await repo.trials.create({ id: randomUUID(), studyId, number: 1, family: 'mlp', params: { family: 'mlp' } }))!;
    await repo.db.trialRung.create({ data: { trialId: t.id, rung: 0, epoch: 1, value: 0.5 } });
    expect((await repo.trials.rungs(studyId)).find((r) => r.trialId === t.id)).toEqual({ trialId: t.id, rung: 0, epoch: 1, value: 0.5, metrics: null });
  });
});
