import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Params } from '../../src/domain.ts';
import type { StudyConfig } from '../../src/schemas.ts';
import { createRandomSampler, rngFor, type FrozenTrial, type SearchSpace } from '../../src/search/index.ts';
import { pedAnova } from '../../src/search/importance/index.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { PROVIDERS } from '../helpers/databases.ts';

/**
 * GET /v1/studies/{id}/importance over a real database: trials are created and completed
 * through the repository, as a worker would, without training anything.
 */
const space: SearchSpace = {
  families: ['mlp', 'rnn'],
  params: {
    mlp: { units: { type: 'int', low: 16, high: 256, log: true }, learningRate: { type: 'float', low: 1e-5, high: 1, log: true }, optimizer: { type: 'categorical', choices: ['adam', 'sgd'] } },
    rnn: { cell: { type: 'categorical', choices: ['lstm', 'gru'] }, learningRate: { type: 'float', low: 1e-5, high: 1, log: true }, optimizer: { type: 'categorical', choices: ['adam', 'sgd'] } },
  },
};

/** An accuracy (maximized) that only the learning rate moves: best at 1e-3. */
const accuracy = (p: Params) => 1 - (Math.log10(p.learningRate as number) + 3) ** 2 / 25;

const config = (projectId: string): StudyConfig => ({
  objective: { metric: 'val_accuracy', direction: 'maximize' },
  budget: { maxTrials: 40, maxEpochs: 3, parallelism: 1, trialTimeoutSeconds: 3600, maxRetries: 2 },
  search: { algorithm: 'random', families: space.families, space },
  earlyStopping: { patience: 2, minDelta: 0 },
  seed: projectId.length,
  promoteTo: 'importance',
  device: 'auto',
});

const artifact = { topology: {}, weightSpecs: [], weights: new Uint8Array(0) };

describe.each(PROVIDERS)('study importance on %s', (provider) => {
  let t: TestApp;
  let datasets: Record<string, string>;

  beforeAll(async () => {
    t = await startTestApp(provider);
    datasets = {};
    for (const projectId of ['default', 'other']) {
      const id = randomUUID();
      await t.repo.datasets.create({ projectId, id, name: 'd', kind: 'tabular', task: 'classification', target: 'y', rows: 2, summary: { rows: 2 }, preprocessing: { kind: 'tabular' }, features: new Float32Array([1, 2]), labels: new Float32Array([0, 1]) });
      datasets[projectId] = id;
    }
  });
  afterAll(async () => t?.close());

  /** A study of `projectId` with `completed` trials completed, `failed` ended as failed and one left queued. */
  async function seed(projectId: string, completed: number, failed = 0): Promise<{ id: string; trials: FrozenTrial[] }> {
    const study = await t.repo.studies.create({ id: randomUUID(), projectId, name: 'imp', datasetId: datasets[projectId]!, config: config(projectId) });
    const sampler = createRandomSampler();
    const made: FrozenTrial[] = [];
    const rows: { id: string; studyId: string; number: number; family: string; params: Params }[] = [];
    for (let number = 0; number < completed + failed + 1; number++) {
      const params = sampler.sample(space, made, { direction: 'maximize', rng: rngFor(5, number) });
      made.push({ number, params, state: 'queued', value: null });
      rows.push({ id: randomUUID(), studyId: study.id, number, family: params.family as string, params });
    }
    expect(await t.repo.trials.createAll(rows)).toHaveLength(rows.length);
    const trials: FrozenTrial[] = [];
    for (const [i, row] of rows.slice(0, completed + failed).entries()) {
      await t.repo.trials.start(row.id, 'test', 'cpu');
      if (i < completed) {
        const value = accuracy(row.params);
        expect(await t.repo.trials.complete(row.id, 1, { value, metrics: { val_accuracy: value }, epochs: 1, bestEpoch: 1, durationMs: 1, artifact })).toBe(true);
        trials.push({ number: row.number, params: row.params, state: 'completed', value });
      } else {
        expect(await t.repo.trials.end(row.id, 'failed', 'boom')).toBe(true);
      }
    }
    return { id: study.id, trials };
  }

  const get = async (id: string) => {
    const res = await t.app.request(`/v1/studies/${id}/importance`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('ranks the parameter that decides the objective first, from the completed trials only, reading the direction', async () => {
    const study = await seed('default', 30, 3);
    const { status, body } = await get(study.id);
    expect(status, JSON.stringify(body)).toBe(200);
    const expected = pedAnova(space, study.trials, { direction: 'maximize' });
    expect(body).toEqual({ method: 'ped-anova', trials: 30, params: expected.status === 'ok' ? expected.params : [] });
    const params = body.params as { name: string; importance: number }[];
    expect(params[0]?.name).toBe('learningRate');
    expect(params.map((p) => p.name).sort()).toEqual(['family', 'learningRate', 'mlp.units', 'optimizer', 'rnn.cell']);
    expect(params.reduce((s, p) => s + p.importance, 0)).toBeCloseTo(1, 12);
    // Minimizing the same values would be asking what makes a trial worst: a different answer.
    expect(pedAnova(space, study.trials, { direction: 'minimize' })).not.toEqual(expected);
  });

  it('answers 409 with how many trials there are while fewer than 10 have completed', async () => {
    const study = await seed('default', 3, 1);
    const { status, body } = await get(study.id);
    expect(status).toBe(409);
    expect(body).toEqual({ error: { code: 'conflict', message: `study '${study.id}' has 3 completed trials; importance needs at least 10` } });
  });

  it("answers 404 for another project's study, as for a missing one", async () => {
    const other = await seed('other', 12);
    for (const id of [other.id, randomUUID()]) {
      const { status, body } = await get(id);
      expect(status).toBe(404);
      expect(body).toEqual({ error: { code: 'not_found', message: `study '${id}' does not exist` } });
    }
  });

  it('reads at most the latest completed trials it is asked for', async () => {
    const study = await seed('default', 12, 2);
    const latest = await t.repo.trials.completed(study.id, 5);
    expect(latest.map((r) => r.number)).toEqual([11, 10, 9, 8, 7]);
    expect(latest[0]).toEqual({ number: 11, params: study.trials[11]!.params, value: study.trials[11]!.value });
  });

  it('is described in the OpenAPI document with its operationId and error answers', async () => {
    const doc = (await (await t.app.request('/openapi.json')).json()) as { paths: Record<string, { get?: { operationId?: string; responses: Record<string, unknown> } }> };
    const op = doc.paths['/v1/studies/{id}/importance']?.get;
    expect(op?.operationId).toBe('getStudyImportance');
    expect(Object.keys(op?.responses ?? {})).toEqual(expect.arrayContaining(['200', '404', '409']));
  });
});
