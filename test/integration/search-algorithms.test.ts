/**
 * Search algorithms through the API and the coordinator, against real Redis and each
 * database, with no trainer: trials are ended by hand.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, uploadForm, type TestApp } from '../helpers/app.ts';
import { PROVIDERS } from '../helpers/databases.ts';

describe.each(PROVIDERS)('search algorithms on %s', (provider) => {
  let t: TestApp;
  let datasetId: string;
  beforeAll(async () => {
    t = await startTestApp(provider);
    const csv = readFileSync(join(import.meta.dirname, '../fixtures/wine.csv'), 'utf8');
    const res = await t.app.request('/v1/datasets', { method: 'POST', body: uploadForm(csv, { name: 'wine', kind: 'tabular', target: 'cultivar' }) });
    datasetId = ((await res.json()) as { id: string }).id;
  });
  afterAll(async () => t?.close());

  function post(search: object, budget: object = { maxTrials: 10, maxEpochs: 1, parallelism: 2 }) {
    return t.app.request('/v1/studies', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 's', datasetId, objective: { metric: 'val_loss' }, budget, search, seed: 3 }),
    });
  }

  /** A 3-point grid: layers 1..3, everything else fixed. */
  const grid = {
    algorithm: 'grid',
    families: ['mlp'],
    space: {
      mlp: {
        layers: { type: 'int', low: 1, high: 3 },
        units: 16,
        activation: 'relu',
        dropout: 0,
        batchNorm: false,
        learningRate: 0.001,
        batchSize: 32,
        optimizer: 'adam',
        classWeight: 'none',
      },
    },
  };

  it('refuses a grid over a float, naming the parameter, before anything is stored', async () => {
    const before = (await t.repo.studies.list('default')).length;
    const res = await post({ algorithm: 'grid', families: ['mlp'] });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { message: string } } & Record<string, unknown>;
    expect(JSON.stringify(body)).toContain('search.space.mlp.dropout');
    expect(JSON.stringify(body)).toContain('is a continuous float; grid search needs categorical or int parameters (or a constant)');
    expect((await t.repo.studies.list('default')).length).toBe(before);
  });

  it('refuses unknown and invalid options, naming search.options.<key>', async () => {
    const unknown = await post({ algorithm: 'tpe', options: { nStartup: 5 } });
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(await unknown.json())).toContain('search.options.nStartup');
    const invalid = await post({ algorithm: 'tpe', options: { gamma: 1.5 } });
    expect(invalid.status).toBe(400);
    expect(JSON.stringify(await invalid.json())).toContain('search.options.gamma: 1.5 must be a number > 0 and < 1');
  });

  it('stores the options and passes them to the sampler', async () => {
    const res = await post({ algorithm: 'evolution', families: ['mlp'], options: { populationSize: 4, sampleSize: 2 } });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const study = await t.repo.studies.get(id);
    expect(study?.config.search.options).toEqual({ populationSize: 4, sampleSize: 2 });
    await t.coordinator.cancel(id);
  });

  it('gives parallel trials distinct grid points and completes the study when the grid is exhausted', async () => {
    const res = await post(grid);
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    let trials = await t.repo.trials.list(id);
    // Both trials of the first tick were suggested in one go: the second saw the first in flight.
    expect(trials).toHaveLength(2);
    for (const x of trials) {
      await t.queues.trials.cpu.remove(x.id);
      await t.repo.trials.end(x.id, 'failed', 'test');
    }
    await t.coordinator.tick(id);
    trials = await t.repo.trials.list(id);
    expect(trials).toHaveLength(3); // the third and last point; no fourth trial
    await t.queues.trials.cpu.remove(trials[2]!.id);
    await t.repo.trials.end(trials[2]!.id, 'failed', 'test');
    await t.coordinator.tick(id);
    trials = await t.repo.trials.list(id);
    expect(trials.map((x) => x.params.layers).sort()).toEqual([1, 2, 3]);
    // Every trial failed, so the study ends as failed, but it ends: maxTrials (10) was not needed.
    const study = await t.repo.studies.get(id);
    expect(study?.state).toBe('failed');
    expect(study?.message).toBe('no trial completed: test');
  });
});
