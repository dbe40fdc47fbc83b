/**
 * Bounded work: each request that froze the service or gave a 500 in issue 12 now gets a
 * short 4xx naming the field and the rule, in bounded time, and writes nothing. Runs over
 * both databases against the real app (no worker). Durations are printed, not asserted.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StudyConfig } from '../../src/schemas.ts';
import { DEFAULT_PROJECT } from '../../src/storage/index.ts';
import { prepareDataset } from '../../src/data/index.ts';
import { PROVIDERS } from '../helpers/databases.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';

interface ErrorBody {
  error: { code: string; message: string; issues?: Array<{ field: string; value?: unknown; rule: string }> };
}

/** Error bodies stay this small whatever the request: 20 issues of short values at most. */
const SMALL = 16_000;

/** 40 rows, 64 numeric features, 2 classes: wide enough that an mlp's first layer matters. */
function wideCsv(): string {
  const header = [...Array.from({ length: 64 }, (_, k) => `f${k}`), 'label'].join(',');
  const lines = [header];
  for (let r = 0; r < 40; r++) lines.push([...Array.from({ length: 64 }, (_, k) => ((r * 7 + k * 3) % 17) / 4), r % 2 === 0 ? 'yes' : 'no'].join(','));
  return `${lines.join('\n')}\n`;
}

describe.each(PROVIDERS)('bounded work on %s', (provider) => {
  let t: TestApp;
  let datasetId = '';

  const postJson = (path: string, body: string) => t.app.request(path, { method: 'POST', body, headers: { 'content-type': 'application/json' } });

  function study(search: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { name: `bounded-${randomUUID()}`, datasetId, objective: { metric: 'val_accuracy' }, budget: { maxTrials: 2, maxEpochs: 1 }, search, ...extra };
  }

  /** Posts `body`, prints how long the answer took, and checks a small 400 whose message holds every part of `says`. */
  async function refused(path: string, body: string, ...says: string[]): Promise<ErrorBody['error']> {
    const started = performance.now();
    const res = await postJson(path, body);
    const text = await res.text();
    console.log(`${provider} ${path}: ${(body.length / 1e6).toFixed(1)} MB body answered ${res.status} in ${(performance.now() - started).toFixed(0)} ms, ${text.length} bytes`);
    expect(res.status, text.slice(0, 500)).toBe(400);
    expect(text.length).toBeLessThan(SMALL);
    const { error } = JSON.parse(text) as ErrorBody;
    for (const part of says) expect(error.message).toContain(part);
    return error;
  }

  /** No study was stored by a refused request. */
  async function noStudies(): Promise<void> {
    expect(await t.repo.studies.list(DEFAULT_PROJECT)).toEqual([]);
  }

  beforeAll(async () => {
    t = await startTestApp(provider);
    // Stored directly: uploads are not what this file tests.
    const prepared = prepareDataset({ csv: wideCsv(), kind: 'tabular', target: 'label', seed: 0 });
    const dataset = await t.repo.datasets.create({
      id: randomUUID(), projectId: DEFAULT_PROJECT, name: 'wide', kind: 'tabular', task: prepared.task, target: 'label', rows: prepared.encoded.rows, summary: prepared.summary,
      preprocessing: { ...prepared.preprocessing, spec: prepared.spec, trainRows: prepared.encoded.trainRows }, features: prepared.encoded.features, labels: prepared.encoded.labels,
    });
    datasetId = dataset.id;
  });
  afterAll(async () => {
    await t?.close();
  });

  describe('search space limits', () => {
    it('refuses a categorical of 1,000,000 choices (18 MB) with the count and the limit', async () => {
      const choices = Array.from({ length: 1_000_000 }, (_, i) => `activation-${i}`);
      const body = JSON.stringify(study({ families: ['mlp'], space: { mlp: { activation: { type: 'categorical', choices } } } }));
      expect(body.length).toBeGreaterThan(18_000_000);
      const error = await refused('/v1/studies', body, 'search.space.mlp.activation.choices', 'has 1,000,000 choices; the limit is 1,000');
      expect(error.issues).toHaveLength(1);
      await noStudies();
    });

    it('refuses a string choice longer than 200 characters', async () => {
      const body = JSON.stringify(study({ families: ['mlp'], space: { mlp: { activation: { type: 'categorical', choices: ['relu', 'x'.repeat(100_000)] } } } }));
      await refused('/v1/studies', body, 'search.space.mlp.activation.choices[1]', 'has 100000 characters; the limit is 200');
      await noStudies();
    });

    it('refuses a grid of more than 1,000,000 points, counted rather than listed', async () => {
      const space = { mlp: { units: { type: 'int', low: 1, high: 8192 }, layers: { type: 'int', low: 1, high: 32 }, dropout: 0, learningRate: 0.01 } };
      const body = JSON.stringify(study({ algorithm: 'grid', families: ['mlp'], space }));
      await refused('/v1/studies', body, 'search.space', 'has more than 1,000,000 grid points');
      await noStudies();
    });

    it('refuses the issue\'s mlp of 32 layers × 8192 units by its parameter count, without building it', async () => {
      const body = JSON.stringify(study({ families: ['mlp'], space: { mlp: { layers: 32, units: 8192 } } }));
      const error = await refused('/v1/studies', body, 'search.space.mlp', '"layers":32', '"units":8192', 'parameters (8.3 GB of float32 weights)', 'the limit is 100,000,000 (MAX_MODEL_PARAMS)');
      expect(error.issues?.[0]?.field).toBe('search.space.mlp');
      await noStudies();
    });
  });

  describe('JSON shape limits, on every JSON route', () => {
    const deep = `{"name":${'['.repeat(4111)}${']'.repeat(4111)}}`;

    it.each(['/v1/studies', '/v1/models/m/promote', '/v1/models/m/predict', '/v1/datasets/samples/mnist'])('refuses a body nested 4,111 deep on %s', async (path) => {
      const error = await refused(path, deep, 'body: is nested more than 64 levels deep', 'the limit is 64');
      expect(error.issues?.[0]?.field).toBe('body');
    });

    it('refuses an array of more than 1,000,000 items', async () => {
      await refused('/v1/models/m/predict', `{"instances":[${Array(1_000_001).fill('0').join(',')}]}`, 'body: has an array of more than 1,000,000 items');
    });
  });

  describe('error bodies stay small', () => {
    it('refuses 130,000 invalid families with one issue (this was a 500: zod overflowed the stack)', async () => {
      const body = JSON.stringify(study({ families: Array(130_000).fill(1) }));
      const error = await refused('/v1/studies', body, 'search.families', 'has 130,000 families; the limit is 4');
      expect(error.issues).toHaveLength(1);
      expect(JSON.stringify(error.issues?.[0]?.value).length).toBeLessThanOrEqual(202);
      await noStudies();
    });

    it('echoes the first 20 of 20,000 unknown fields, says how many more, and cuts long values', async () => {
      const fields = Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`extra${i}`, 'v'.repeat(300)]));
      const error = await refused('/v1/studies', JSON.stringify(study({ families: ['mlp'] }, fields)), 'extra0: ', 'is not a known field', 'and 19,980 more issues');
      expect(error.issues).toHaveLength(20);
      for (const issue of error.issues ?? []) expect(String(issue.value).length).toBeLessThanOrEqual(200);
      await noStudies();
    });
  });

  it('a stored space over a limit fails its study at the next tick instead of freezing the coordinator', async () => {
    // Written past the api, as a study stored before the limits existed would be.
    const choices = Array.from({ length: 1_000_000 }, (_, i) => i);
    const config: StudyConfig = {
      objective: { metric: 'val_accuracy', direction: 'maximize' },
      budget: { maxTrials: 2, maxEpochs: 1, parallelism: 1, trialTimeoutSeconds: 3600, maxRetries: 0 },
      search: { algorithm: 'random', families: ['mlp'], space: { families: ['mlp'], params: { mlp: { units: { type: 'categorical', choices } } } } },
      earlyStopping: { patience: 3, minDelta: 0 },
      seed: 1,
      promoteTo: 'over-limit',
      device: 'auto',
    };
    const id = randomUUID();
    await t.repo.studies.create({ id, projectId: DEFAULT_PROJECT, name: 'over-limit', datasetId, config });
    const started = performance.now();
    await t.coordinator.tick(id).catch(() => undefined);
    console.log(`${provider}: tick over a stored 1,000,000-choice space took ${(performance.now() - started).toFixed(0)} ms`);
    const stored = await t.repo.studies.get(id);
    expect(stored?.state).toBe('failed');
    expect(stored?.message).toContain('has 1,000,000 choices; the limit is 1,000');
    expect(stored?.message?.length).toBeLessThan(SMALL);
    expect(await t.repo.trials.list(id)).toEqual([]);
  });
});
