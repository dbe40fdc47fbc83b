import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepository, migrate, type Repository } from '../../src/storage/index.ts';
import type { StudyConfig } from '../../src/schemas.ts';
import { freshDatabase, PROVIDERS, type TestDatabase } from '../helpers/databases.ts';

const config: StudyConfig = {
  objective: { metric: 'val_accuracy', direction: 'maximize' },
  budget: { maxTrials: 2, maxEpochs: 3, parallelism: 1, trialTimeoutSeconds: 3600, maxRetries: 2 },
  search: { algorithm: 'random', families: ['mlp'], space: {} },
  earlyStopping: { patience: 2, minDelta: 0 },
  seed: 7,
  promoteTo: 'demo',
  device: 'auto',
};

describe.each(PROVIDERS)('repository on %s', (provider) => {
  let database: TestDatabase;
  let repo: Repository;

  beforeAll(async () => {
    database = await freshDatabase(provider);
    repo = createRepository(database.url);
  });
  afterAll(async () => {
    await repo?.close();
    await database?.drop();
  });

  it('applies migrations once, recording them as prisma migrate does', async () => {
    expect(await migrate(database.url)).toEqual([]);
    const rows = await repo.db.$queryRawUnsafe<{ migration_name: string; checksum: string }[]>('SELECT migration_name, checksum FROM _prisma_migrations');
    expect(rows.map((r) => r.migration_name)).toContain('20261128000000_init');
    expect(rows[0]?.checksum).toMatch(/^[0-9a-f]{64}$/);
  });

  it('stores a dataset with its encoded data and lists it without the blobs', async () => {
    const id = randomUUID();
    await repo.datasets.create({ projectId: 'default', id, name: 'd', kind: 'tabular', task: 'classification', target: 'y', rows: 3, summary: { rows: 3 }, preprocessing: { kind: 'tabular' }, features: new Float32Array([1, 2, 3.5]), labels: new Float32Array([0, 1, 0]) });
    expect((await repo.datasets.list('default')).map((d) => d.id)).toContain(id);
    const data = await repo.datasets.data(id);
    expect([...data!.features]).toEqual([1, 2, 3.5]);
    expect([...data!.labels]).toEqual([0, 1, 0]);
  });

  it('keeps a write made while another request of the process has a transaction open, when that one rolls back', async () => {
    const row = (id: string) => ({ id, name: id, kind: 'tabular', task: 'classification', target: 'y', rows: 1, summary: '{}', preprocessing: '{}' });
    const [inside, outside] = [randomUUID(), randomUUID()];
    let began!: () => void;
    const open = new Promise<void>((resolve) => (began = resolve));
    const rolledBack = repo.db.$transaction(async (tx) => {
      await tx.dataset.create({ data: row(inside) });
      began();
      await new Promise((resolve) => setTimeout(resolve, 100));
      throw new Error('rolled back');
    });
    await open;
    // One statement, outside any transaction (SQLite once ran it inside the open one).
    await repo.db.dataset.create({ data: row(outside) });
    await expect(rolledBack).rejects.toThrow('rolled back');
    const ids = (await repo.datasets.list('default')).map((d) => d.id);
    expect(ids).toContain(outside);
    expect(ids).not.toContain(inside);
  });

  it('neither claims nor records an epoch of a trial whose study has ended', async () => {
    const datasetId = randomUUID();
    await repo.datasets.create({ projectId: 'default', id: datasetId, name: 'd', kind: 'tabular', task: 'classification', target: 'y', rows: 1, summary: {}, preprocessing: {}, features: new Float32Array(1), labels: new Float32Array(1) });
    const study = await repo.studies.create({ id: randomUUID(), projectId: 'default', name: 's', datasetId, config });
    const [running, queued] = await Promise.all([0, 1].map((number) => repo.trials.create({ id: randomUUID(), studyId: study.id, number, family: 'mlp', params: { family: 'mlp' } })));
    expect((await repo.trials.start(running!.id, 'w1', 'cpu'))?.trial.attempts).toBe(1);
    const best = { value: 0.5, epoch: 1, metrics: { val_accuracy: 0.5 } };
    expect(await repo.trials.recordEpoch(running!.id, 1, 1, { val_accuracy: 0.5 }, best)).toBe(true);

    expect(await repo.studies.transition(study.id, ['queued', 'running'], 'cancelled')).toBe(true);
    expect(await repo.trials.recordEpoch(running!.id, 1, 2, { val_accuracy: 0.6 }, best)).toBe(false);
    expect(await repo.trials.start(queued!.id, 'w1', 'cpu')).toBeNull();
    expect((await repo.trials.curve(running!.id)).map((e) => e.epoch)).toEqual([1]);
  });

  it('lists a study\'s unfinished trials with its trial and failure counts, as the summaries do', async () => {
    const datasetId = randomUUID();
    await repo.datasets.create({ projectId: 'default', id: datasetId, name: 'd', kind: 'tabular', task: 'classification', target: 'y', rows: 1, summary: {}, preprocessing: {}, features: new Float32Array(1), labels: new Float32Array(1) });
    const study = await repo.studies.create({ id: randomUUID(), projectId: 'default', name: 's', datasetId, config });
    expect(await repo.trials.unfinished(study.id)).toEqual({ trials: [], total: 0, failed: 0 });
    const rows = [0, 1, 2, 3, 4, 5].map((number) => ({ id: randomUUID(), studyId: study.id, number, family: 'mlp', params: { family: 'mlp', units: 8 * (number + 1), relu: number % 2 === 0 } }));
    const [t0, t1, t2, t3, t4] = (await repo.trials.createAll(rows))!;
    await repo.trials.end(t0!.id, 'failed', 'boom');
    await repo.trials.end(t1!.id, 'failed', 'bang');
    await repo.trials.start(t2!.id, 'w', 'cpu');
    await repo.trials.start(t3!.id, 'w', 'cpu');
    const best = { value: 0.25, epoch: 1, metrics: { val_accuracy: 0.25 } };
    await repo.trials.recordEpoch(t3!.id, 1, 1, { val_accuracy: 0.25 }, best);
    await repo.trials.pause(t3!.id, 1, { rung: 0, epoch: 1, value: 0.25, metrics: { val_accuracy: 0.25 }, durationMs: 1, artifact: { topology: {}, weightSpecs: [], weights: new Uint8Array([1]) } });
    await repo.trials.start(t4!.id, 'w', 'cpu');
    await repo.trials.complete(t4!.id, 1, { value: 0.5, metrics: { val_accuracy: 0.5 }, epochs: 1, bestEpoch: 1, durationMs: 1, artifact: { topology: {}, weightSpecs: [], weights: new Uint8Array([1]) } });
    const unfinished = await repo.trials.unfinished(study.id);
    expect(unfinished.total).toBe(6);
    expect(unfinished.failed).toBe(2);
    expect(unfinished.trials.map((t) => [t.number, t.state])).toEqual([[2, 'running'], [3, 'paused'], [5, 'queued']]);
    const summaries = (await repo.trials.summaries(study.id)).filter((t) => ['running', 'paused', 'queued'].includes(t.state));
    expect(unfinished.trials).toEqual(summaries);
    expect(unfinished.trials[1]).toMatchObject({ value: 0.25, rung: 0, retries: 0, error: null, params: { family: 'mlp', units: 32, relu: false } });
  });

  it('creates each trial number once and records a result once', async () => {
    const datasetId = randomUUID();
    await repo.datasets.create({ projectId: 'default', id: datasetId, name: 'd', kind: 'tabular', task: 'classification', target: 'y', rows: 1, summary: {}, preprocessing: {}, features: new Float32Array(1), labels: new Float32Array(1) });
    const study = await repo.studies.create({ id: randomUUID(), projectId: 'default', name: 's', datasetId, config });
    expect(study.config.seed).toBe(7);
    const t = await repo.trials.create({ id: randomUUID(), studyId: study.id, number: 0, family: 'mlp', params: { family: 'mlp', units: 8 } });
    expect(t).not.toBeNull();
    expect(await repo.trials.create({ id: randomUUID(), studyId: study.id, number: 0, family: 'mlp', params: { family: 'mlp' } })).toBeNull();
    // Several at once are all created or none: number 1 is not left behind when 0 is taken.
    const row = (number: number) => ({ id: randomUUID(), studyId: study.id, number, family: 'mlp', params: { family: 'mlp' } });
    expect(await repo.trials.createAll([row(1), row(0)])).toBeNull();
    expect((await repo.trials.summaries(study.id)).map((x) => x.number)).toEqual([0]);

    const best = { value: 0.5, epoch: 1, metrics: { val_accuracy: 0.5 } };
    expect((await repo.trials.start(t!.id, 'w1', 'cpu'))?.trial.attempts).toBe(1);
    expect(await repo.trials.running(t!.id)).toBe(true);
    expect((await repo.trials.summaries(study.id)).map((x) => [x.number, x.state, x.params])).toEqual([[0, 'running', { family: 'mlp', units: 8 }]]);
    // A second worker takes the trial over: the first attempt's reports no longer count.
    expect((await repo.trials.start(t!.id, 'w2', 'cpu'))?.trial.attempts).toBe(2);
    expect(await repo.trials.recordEpoch(t!.id, 1, 1, { val_accuracy: 0.9 }, best)).toBe(false);
    expect(await repo.trials.recordEpoch(t!.id, 2, 1, { val_accuracy: 0.5 }, best)).toBe(true);
    expect(await repo.trials.recordEpoch(t!.id, 2, 1, { val_accuracy: 0.5 }, best)).toBe(true);
    const result = { value: 0.5, metrics: { val_accuracy: 0.5 }, epochs: 1, bestEpoch: 1, durationMs: 10, artifact: { topology: { a: 1 }, weightSpecs: [], weights: new Uint8Array([1, 2]) } };
    expect(await repo.trials.complete(t!.id, 1, result)).toBe(false);
    expect(await repo.trials.artifact(t!.id)).toBeNull();
    expect(await repo.trials.end(t!.id, 'failed', 'stale attempt', { attempt: 1 })).toBe(false);
    expect(await repo.trials.complete(t!.id, 2, result)).toBe(true);
    expect(await repo.trials.complete(t!.id, 2, result)).toBe(false);
    expect(await repo.trials.running(t!.id)).toBe(false);
    expect(await repo.trials.start(t!.id, 'w2', 'cpu')).toBeNull();
    expect(await repo.trials.curve(t!.id)).toHaveLength(1);
    expect([...(await repo.trials.artifact(t!.id))!.weights]).toEqual([1, 2]);

    await checkpointsContract(repo, study.id);

    const promote = (studyId: string) =>
      repo.models.promoteStudy({ projectId: 'default', modelName: 'demo', studyId, trialId: t!.id, datasetId, family: 'mlp', metrics: { val_accuracy: 0.5 }, message: (v) => `promoted as v${v}` });
    const v1 = (await promote(study.id))!;
    expect(v1.version).toBe(1);
    expect(await repo.studies.get(study.id)).toMatchObject({ state: 'completed', message: 'promoted as v1' });
    // Ending a study twice registers nothing more.
    expect(await promote(study.id)).toBeNull();
    // A study cancelled before it could be promoted is not promoted.
    const other = await repo.studies.create({ id: randomUUID(), projectId: 'default', name: 's2', datasetId, config });
    expect(await repo.studies.transition(other.id, ['queued', 'running'], 'cancelled')).toBe(true);
    expect(await repo.studies.transition(other.id, ['queued', 'running'], 'completed')).toBe(false);
    expect(await promote(other.id)).toBeNull();
    expect(v1.aliases).toEqual(['champion']);
    expect((await repo.models.byAlias('default', 'demo', 'champion'))?.id).toBe(v1.id);
    expect(await repo.models.list('default')).toMatchObject([{ name: 'demo', versions: 1, aliases: { champion: 1 } }]);
  });
});

/**
 * Checkpoints, rungs and pauses (ASHA) as the repository stores them: a paused trial is
 * promoted once, resumes from its checkpoint with its curve intact, and a takeover after a
 * crash resumes from the last checkpointed epoch, never from epoch 1.
 */
async function checkpointsContract(repo: Repository, studyId: string): Promise<void> {
  const t = (await repo.trials.create({ id: randomUUID(), studyId, number: 1, family: 'mlp', params: { family: 'mlp' } }))!;
  const cp = (epoch: number) => ({
    epoch,
    stopper: { best: 0.1 * epoch, bestAt: epoch, wait: 0, lastEpoch: epoch },
    bestEpoch: epoch,
    bestMetrics: { val_accuracy: 0.1 * epoch },
    weights: new Uint8Array([epoch, 1]),
    optimizer: new Uint8Array([epoch, 2]),
    best: new Uint8Array([epoch, 3]),
  });
  const record = (attempt: number, epoch: number) =>
    repo.trials.recordEpoch(t.id, attempt, epoch, { val_accuracy: 0.1 * epoch }, { value: 0.1 * epoch, epoch, metrics: { val_accuracy: 0.1 * epoch } }, cp(epoch));
  const artifact = { topology: {}, weightSpecs: [], weights: new Uint8Array([9]) };

  const first = (await repo.trials.start(t.id, 'w1', 'cpu'))!;
  expect(first.checkpoint).toBeNull();
  const claimedAt = (await repo.db.trial.findUniqueOrThrow({ where: { id: t.id } })).reportedAt!;
  await new Promise((resolve) => setTimeout(resolve, 5));
  expect(await record(1, 1)).toBe(true);
  // An epoch is a report: the stuck-trial check reads it.
  expect((await repo.db.trial.findUniqueOrThrow({ where: { id: t.id } })).reportedAt!.getTime()).toBeGreaterThan(claimedAt.getTime());
  expect(await record(1, 2)).toBe(true);
  expect(await repo.trials.pause(t.id, 1, { rung: 0, epoch: 2, value: 0.2, metrics: { val_accuracy: 0.2, param_count: 10 }, durationMs: 5, artifact })).toBe(true);
  expect(await repo.trials.get(t.id)).toMatchObject({ state: 'paused', rung: 0, durationMs: 5 });
  expect(await repo.trials.rungs(studyId)).toEqual([{ trialId: t.id, rung: 0, epoch: 2, value: 0.2, metrics: { val_accuracy: 0.2, param_count: 10 } }]);
  expect(await repo.trials.count(studyId, ['paused'])).toBe(1);

  expect(await repo.trials.promote(t.id, 1)).toBe(true);
  expect(await repo.trials.promote(t.id, 1)).toBe(false);
  const second = (await repo.trials.start(t.id, 'w2', 'cpu'))!;
  expect(second.trial).toMatchObject({ state: 'running', rung: 1, attempts: 2, epochs: 2, bestEpoch: 2 });
  expect(second.trial.value).toBeCloseTo(0.2);
  expect(second.checkpoint).toMatchObject({ epoch: 2, bestEpoch: 2, bestMetrics: { val_accuracy: 0.2 } });
  expect([...second.checkpoint!.weights, ...second.checkpoint!.optimizer, ...second.checkpoint!.best]).toEqual([2, 1, 2, 2, 2, 3]);
  expect(await record(2, 3)).toBe(true);

  // The worker dies after epoch 3 was recorded; epoch 4's record never landed. Another worker resumes after 3.
  const third = (await repo.trials.start(t.id, 'w3', 'cpu'))!;
  expect(third.checkpoint?.epoch).toBe(3);
  expect((await repo.trials.curve(t.id)).map((e) => e.epoch)).toEqual([1, 2, 3]);
  expect(await record(2, 4)).toBe(false);
  expect(await record(3, 4)).toBe(true);
  expect(await record(3, 4)).toBe(true);
  expect((await repo.trials.curve(t.id)).map((e) => [e.epoch, e.attempt])).toEqual([[1, 1], [2, 1], [3, 2], [4, 3]]);
  // An epoch recorded without a checkpoint leaves the last one as it was.
  expect(await repo.trials.recordEpoch(t.id, 3, 4, { val_accuracy: 0.4 }, { value: 0.4, epoch: 4, metrics: { val_accuracy: 0.4 } })).toBe(true);
  expect([...(await repo.trials.checkpoint(t.id))!.weights]).toEqual([4, 1]);
  expect((await repo.trials.metricsAtEpoch(studyId, 4, ['running'])).map((m) => m.val_accuracy)).toEqual([0.4]);
  expect(await repo.trials.metricsAtEpoch(studyId, 4, ['running'], t.id)).toEqual([]);
  // Other bytes than the paused segment's model: completing replaces it.
  const result = { value: 0.4, metrics: { val_accuracy: 0.4 }, epochs: 4, bestEpoch: 4, durationMs: 9, artifact: { ...artifact, weights: new Uint8Array([7, 7]) }, pruned: 'pruned by the median rule at epoch 4' };
  expect(await repo.trials.complete(t.id, 3, result)).toBe(true);
  expect(await repo.trials.get(t.id)).toMatchObject({ state: 'pruned', error: 'pruned by the median rule at epoch 4', epochs: 4, bestEpoch: 4, durationMs: 9, metrics: { val_accuracy: 0.4 } });
  expect((await repo.trials.get(t.id))?.value).toBeCloseTo(0.4);
  expect((await repo.trials.get(t.id))?.endedAt).toBeInstanceOf(Date);
  expect((await repo.trials.checkpoint(t.id))?.epoch).toBe(4);
  expect([...(await repo.trials.artifact(t.id))!.weights]).toEqual([7, 7]);
}

