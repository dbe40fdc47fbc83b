import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { prepareDataset, type ClassPrediction } from '../../src/data/index.ts';
import { NotFoundError } from '../../src/errors.ts';
import { createLogger, type Logger } from '../../src/log.ts';
import { Predictor } from '../../src/serving/predictor.ts';
import { repositorySource, type ModelSource } from '../../src/serving/source.ts';
import { createRepository, type Repository } from '../../src/storage/index.ts';
import { selectBackend } from '../../src/model/index.ts';
import { freshDatabase, type TestDatabase } from '../helpers/databases.ts';
import { eventually } from '../helpers/processes.ts';
import { registerWineVersion, wineRow } from '../helpers/wine.ts';

/** Dynamic batching in the predictor, and versions named by number, on a real (untrained) wine model. */
describe('serving: batching and selectors', () => {
  let database: TestDatabase;
  let repo: Repository;
  let datasetId: string;

  /** The wine dataset, stored in `projectId`. */
  const wineDataset = async (projectId: string) => {
    const csv = readFileSync(join(import.meta.dirname, '../fixtures/wine.csv'), 'utf8');
    const prepared = prepareDataset({ csv, kind: 'tabular', target: 'cultivar', seed: 0 });
    return (await repo.datasets.create({
      projectId, id: randomUUID(), name: 'wine', kind: 'tabular', task: prepared.task, target: 'cultivar', rows: prepared.encoded.rows, summary: prepared.summary,
      preprocessing: { ...prepared.preprocessing, spec: prepared.spec, trainRows: prepared.encoded.trainRows }, features: prepared.encoded.features, labels: prepared.encoded.labels,
    })).id;
  };
  /** `count` versions of `name` in `projectId`, the last one champion. */
  const versionsOf = async (projectId: string, name: string, count: number, dataset?: string) => {
    const id = dataset ?? (await wineDataset(projectId));
    const made = [];
    for (let seed = 1; seed <= count; seed++) made.push((await registerWineVersion(repo, { projectId, datasetId: id, name, seed })).version);
    return made;
  };
  /** A source that counts the models it hands out (loads) by version id, and how many load at once. */
  const counting = (source: ModelSource) => {
    const loads = new Map<string, number>();
    const at = { now: 0, most: 0 };
    const counted: ModelSource = {
      ...source,
      async parts(ref) {
        loads.set(ref.id, (loads.get(ref.id) ?? 0) + 1);
        at.most = Math.max(at.most, ++at.now);
        try {
          // Long enough for the other requests to arrive while this load runs.
          await new Promise((r) => setTimeout(r, 20));
          return await source.parts(ref);
        } finally {
          at.now--;
        }
      },
    };
    return { source: counted, loads, at };
  };
  /** A logger that records the version ids of the models released. */
  const recording = () => {
    const released: string[] = [];
    const base = createLogger('error');
    const log: Logger = { ...base, info: (msg, fields) => void (msg === 'model released' && released.push(fields?.versionId as string)), child: () => log };
    return { log, released };
  };

  beforeAll(async () => {
    await selectBackend('cpu');
    database = await freshDatabase('sqlite');
    repo = createRepository(database.url);
    datasetId = await wineDataset('default');
    await registerWineVersion(repo, { projectId: 'default', datasetId, name: 'wine', seed: 1 });
    await registerWineVersion(repo, { projectId: 'default', datasetId, name: 'wine', seed: 2 });
  });
  afterAll(async () => {
    await repo?.close();
    await database?.drop();
  });

  /** 40 requests of 1 to 3 distinct rows each (79 rows: more than one batch of 64). */
  const requests = Array.from({ length: 40 }, (_, r) =>
    Array.from({ length: 1 + (r % 3) }, (_, i) => ({ ...wineRow, alcohol: 11 + ((r * 3 + i) % 40) / 10, proline: 300 + 25 * r + i })),
  );

  it('answers concurrent requests, coalesced into few model calls, exactly as it answers them one by one', async () => {
    const alone = new Predictor(repositorySource(repo), createLogger('error'), { batch: false });
    const batched = new Predictor(repositorySource(repo), createLogger('error'), { batch: { maxBatchSize: 64, maxWaitMs: 50 } });
    const calls = vi.spyOn(tf.LayersModel.prototype, 'predict');
    try {
      const sequential = [];
      for (const instances of requests) sequential.push(await alone.predict('default', 'wine', instances));
      expect(calls).toHaveBeenCalledTimes(requests.length);

      calls.mockClear();
      const concurrent = await Promise.all(requests.map((instances) => batched.predict('default', 'wine', instances)));
      const sizes = calls.mock.calls.map(([x]) => (x as tf.Tensor).shape[0]);
      expect(sizes.every((n) => n! <= 64)).toBe(true);
      expect(sizes.reduce((a, b) => a! + b!, 0)).toBe(requests.flat().length);
      expect(sizes.length).toBeLessThan(requests.length / 4);

      for (const [r, answer] of concurrent.entries()) {
        const expected = sequential[r]!;
        expect(answer.model).toEqual({ name: 'wine', version: 2, alias: 'champion' });
        expect(answer.predictions).toHaveLength(requests[r]!.length);
        for (const [i, p] of (answer.predictions as ClassPrediction[]).entries()) {
          const q = expected.predictions[i] as ClassPrediction;
          expect(p.label).toBe(q.label);
          for (const [label, prob] of Object.entries(q.probabilities)) expect(p.probabilities[label]).toBeCloseTo(prob, 6);
        }
      }
    } finally {
      calls.mockRestore();
      alone.close();
      batched.close();
    }
  });

  it('serves a version named by number with alias null, keeps an alias answer as before, and describes the version', async () => {
    const predictor = new Predictor(repositorySource(repo), createLogger('error'));
    try {
      const byNumber = await predictor.predict('default', 'wine', [wineRow], { version: 1 });
      expect(byNumber.model).toEqual({ name: 'wine', version: 1, alias: null });
      const byAlias = await predictor.predict('default', 'wine', [wineRow], 'champion');
      expect(byAlias.model).toEqual({ name: 'wine', version: 2, alias: 'champion' });
      expect(byAlias.predictions).not.toEqual(byNumber.predictions);
      expect(await predictor.predict('default', 'wine', [wineRow], { version: 2 })).toEqual({ ...byAlias, model: { ...byAlias.model, alias: null } });

      const signature = await predictor.signature('default', 'wine', { version: 2 });
      expect(signature).toMatchObject({ name: 'wine', version: 2, inputShape: [13], preprocessing: { kind: 'tabular', task: 'classification', target: 'cultivar' } });
      expect((await predictor.signature('default', 'wine', { alias: 'champion' })).version).toBe(2);

      await expect(predictor.predict('default', 'wine', [wineRow], { version: 3 })).rejects.toThrow(new NotFoundError('version 3 of model', 'wine'));
      await expect(predictor.signature('default', 'wine', { alias: 'staging' })).rejects.toThrow(new NotFoundError("alias 'staging' of model", 'wine'));
      await expect(predictor.predict('default', 'nope', [wineRow], { version: 1 })).rejects.toThrow(new NotFoundError('model', 'nope'));
      // Another project's model does not exist there.
      await expect(predictor.predict('acme', 'wine', [wineRow], { version: 1 })).rejects.toThrow(new NotFoundError('model', 'wine'));
    } finally {
      predictor.close();
    }
  });

  it('reuses cached lookups until a write through its repository, and another process\'s for at most cacheMs', async () => {
    const source = repositorySource(repo, { cacheMs: 60_000 });
    const other = createRepository(database.url);
    const predictor = new Predictor(source, createLogger('error'));
    try {
      const [v1, v2] = await repo.models.versions('default', 'wine');
      expect(await source.resolve('default', 'wine', { alias: 'champion' })).toMatchObject({ id: v2!.id, version: 2 });
      expect(await source.resolve('default', 'wine', { version: 1 })).toEqual({ id: v1!.id, projectId: 'default', name: 'wine', version: 1, movedAt: 0 });
      // Another process's move is not seen while the lookup is cached...
      await other.models.setAlias('default', 'wine', 'champion', v1!.id);
      expect((await source.resolve('default', 'wine', { alias: 'champion' }))?.version).toBe(2);
      // ...but a write through this repository clears the cache: its own moves take effect at once.
      await repo.models.setAlias('default', 'wine', 'staging', v2!.id);
      expect((await predictor.predict('default', 'wine', [wineRow])).model.version).toBe(1);
      await repo.models.setAlias('default', 'wine', 'champion', v2!.id);
      expect((await predictor.predict('default', 'wine', [wineRow])).model.version).toBe(2);
      expect((await predictor.predict('default', 'wine', [wineRow], 'staging')).model).toEqual({ name: 'wine', version: 2, alias: 'staging' });
      await repo.models.deleteAlias('default', 'wine', 'staging');
      await expect(predictor.predict('default', 'wine', [wineRow], 'staging')).rejects.toThrow(new NotFoundError("alias 'staging' of model", 'wine'));
      // With no cache, every lookup asks the database.
      await other.models.setAlias('default', 'wine', 'champion', v1!.id);
      expect((await repositorySource(repo).resolve('default', 'wine', { alias: 'champion' }))?.version).toBe(1);
      await other.models.setAlias('default', 'wine', 'champion', v2!.id);
    } finally {
      predictor.close();
      await other.close();
    }
  });

  it("keeps each project's versions asked for by number warm while another project asks for many, loading few at once", async () => {
    const [a, b] = [await versionsOf('pins-a', 'wine', 2), await versionsOf('pins-b', 'wine', 8)];
    const { source, loads, at } = counting(repositorySource(repo));
    const predictor = new Predictor(source, createLogger('error'));
    try {
      for (const v of a) await predictor.predict('pins-a', 'wine', [wineRow], { version: v.version });
      // pins-b fills its own share, all at once.
      await Promise.all(b.map((v) => predictor.predict('pins-b', 'wine', [wineRow], { version: v.version })));
      expect(at.most).toBeLessThanOrEqual(2);
      for (const v of a) await predictor.predict('pins-a', 'wine', [wineRow], { version: v.version });
      expect(a.map((v) => loads.get(v.id))).toEqual([1, 1]);
      expect(b.map((v) => loads.get(v.id))).toEqual(b.map(() => 1));
    } finally {
      predictor.close();
    }
  });

  it('keeps a version at least minKeepMs before another takes its place, serving the other for its request alone meanwhile', async () => {
    const [v1, v2] = await versionsOf('pins-c', 'wine', 2);
    const { log, released } = recording();
    const { source, loads } = counting(repositorySource(repo));
    const patient = new Predictor(source, log, { pinned: { perProject: 1, minKeepMs: 600_000 } });
    const eager = new Predictor(repositorySource(repo), log, { pinned: { perProject: 1, minKeepMs: 0 } });
    try {
      await patient.predict('pins-c', 'wine', [wineRow], { version: 1 });
      expect((await patient.predict('pins-c', 'wine', [wineRow], { version: 2 })).model.version).toBe(2);
      expect(await eventually(async () => (released.includes(v2!.id) ? true : undefined), 'v2 to be released after its request', 10_000, 20)).toBe(true);
      await patient.predict('pins-c', 'wine', [wineRow], { version: 1 });
      await patient.predict('pins-c', 'wine', [wineRow], { version: 2 });
      expect([loads.get(v1!.id), loads.get(v2!.id)]).toEqual([1, 2]);
      expect(released).not.toContain(v1!.id);

      await eager.predict('pins-c', 'wine', [wineRow], { version: 1 });
      await eager.predict('pins-c', 'wine', [wineRow], { version: 2 });
      expect(await eventually(async () => (released.includes(v1!.id) ? true : undefined), 'v1 to be released', 10_000, 20)).toBe(true);
    } finally {
      patient.close();
      eager.close();
    }
  });

  it('answers 404 for a version deleted by another process while a cached lookup still names it', async () => {
    const [v1] = await versionsOf('gone', 'wine', 2);
    const source = repositorySource(repo, { cacheMs: 60_000 });
    const other = createRepository(database.url);
    const predictor = new Predictor(source, createLogger('error'));
    try {
      expect((await source.resolve('gone', 'wine', { version: 1 }))?.id).toBe(v1!.id);
      expect(await other.models.deleteVersion('gone', 'wine', 1)).toBe('deleted');
      await expect(predictor.predict('gone', 'wine', [wineRow], { version: 1 })).rejects.toThrow(new NotFoundError('version 1 of model', 'wine'));
    } finally {
      predictor.close();
      await other.close();
    }
  });

  it('releases the version of a deleted alias: at once when deleted here, on the next request when deleted elsewhere', async () => {
    const [v1, v2] = await versionsOf('aliases', 'wine', 3);
    const { log, released } = recording();
    const predictor = new Predictor(repositorySource(repo), log);
    const other = createRepository(database.url);
    try {
      await repo.models.setAlias('aliases', 'wine', 'temp', v1!.id);
      await other.models.setAlias('aliases', 'wine', 'elsewhere', v2!.id);
      expect((await predictor.predict('aliases', 'wine', [wineRow], 'temp')).model.version).toBe(1);
      expect((await predictor.predict('aliases', 'wine', [wineRow], 'elsewhere')).model.version).toBe(2);
      await repo.models.deleteAlias('aliases', 'wine', 'temp');
      expect(await eventually(async () => (released.includes(v1!.id) ? true : undefined), 'v1 to be released', 10_000, 20)).toBe(true);
      // This process is not told of another's delete: the next request finds the alias gone.
      await other.models.deleteAlias('aliases', 'wine', 'elsewhere');
      expect(released).not.toContain(v2!.id);
      await expect(predictor.predict('aliases', 'wine', [wineRow], 'elsewhere')).rejects.toThrow(new NotFoundError("alias 'elsewhere' of model", 'wine'));
      expect(await eventually(async () => (released.includes(v2!.id) ? true : undefined), 'v2 to be released', 10_000, 20)).toBe(true);
    } finally {
      predictor.close();
      await other.close();
    }
  });
});
