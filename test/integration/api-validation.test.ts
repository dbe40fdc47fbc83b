/**
 * Bad input never gives a 5xx and never leaves half a dataset or a study without
 * trials; every refusal names the field, the value and the rule. Runs over both
 * databases against the real app (no worker, so created trials stay queued).
 */
import { once } from 'node:events';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROVIDERS } from '../helpers/databases.ts';
import { startTestApp, uploadForm, type TestApp } from '../helpers/app.ts';

/** Small enough that every good fixture fits and the oversized one is cheap to build. */
const MAX_UPLOAD_BYTES = 16_000;

interface ErrorBody {
  error: { code: string; message: string; issues?: Array<{ field: string; value?: unknown; rule: string }> };
}

/** ~40 rows of a plausible churn table: numeric and categorical features, 3 classes. */
function tabularCsv(): string {
  const plans = ['basic', 'plus', 'pro'];
  const regions = ['north', 'south', 'east', 'west'];
  const outcomes = ['stay', 'downgrade', 'leave'];
  const lines = ['age,monthly_spend,plan,region,tenure_months,outcome'];
  for (let i = 0; i < 42; i++) {
    const age = 21 + ((i * 7) % 45);
    const spend = (12.5 + ((i * 13) % 90) + (i % 3) * 0.25).toFixed(2);
    const tenure = (i * 5) % 60;
    lines.push(`${age},${spend},${plans[i % 3]},${regions[(i * 3) % 4]},${tenure},${outcomes[(i + Math.floor(i / 5)) % 3]}`);
  }
  return `${lines.join('\n')}\n`;
}

/** 4×4 grayscale images with a label column first, two classes. */
function imageCsv(rows = 12, bad?: { row: number; pixel: number; text: string }): string {
  const header = ['label', ...Array.from({ length: 16 }, (_, k) => `p${k}`)].join(',');
  const lines = [header];
  for (let r = 0; r < rows; r++) {
    const pixels = Array.from({ length: 16 }, (_, k) => String((r * 31 + k * 17) % 256));
    if (bad?.row === r) pixels[bad.pixel] = bad.text;
    lines.push([r % 2 === 0 ? 'zero' : 'one', ...pixels].join(','));
  }
  return `${lines.join('\n')}\n`;
}

const TABULAR = { name: 'churn', kind: 'tabular', target: 'outcome' };

describe.each(PROVIDERS)('API input validation on %s', (provider) => {
  let t: TestApp;
  let tabularId = '';
  let imageId = '';
  let mnistId = '';

  const post = (path: string, body: BodyInit | undefined, headers: Record<string, string> = {}) =>
    t.app.request(path, { method: 'POST', body, headers });
  const postJson = (path: string, body: unknown) => post(path, JSON.stringify(body), { 'content-type': 'application/json' });
  const upload = (csv: string, fields: Record<string, string>) => post('/v1/datasets', uploadForm(csv, fields));

  /** Asserts a JSON error answer with `status` whose message names `field` (and `value` when given). */
  async function expectError(res: Response, status: number, field: string, ...values: string[]): Promise<ErrorBody['error']> {
    const text = await res.text();
    expect(res.status, text).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const { error } = JSON.parse(text) as ErrorBody;
    expect(error.message).toContain(field);
    for (const value of values) expect(error.message).toContain(value);
    return error;
  }

  beforeAll(async () => {
    t = await startTestApp(provider, { maxUploadBytes: MAX_UPLOAD_BYTES });
  });
  afterAll(async () => {
    await t?.close();
  });

  describe('datasets', () => {
    it('stores a good tabular upload and says what it understood', async () => {
      const res = await upload(tabularCsv(), TABULAR);
      expect(res.status, await res.clone().text()).toBe(201);
      const body = (await res.json()) as { id: string; kind: string; task: string; rows: number; summary: Record<string, unknown> };
      tabularId = body.id;
      expect(body).toMatchObject({ kind: 'tabular', task: 'classification', rows: 42 });
      expect(body.summary).toMatchObject({
        rows: 42,
        target: { name: 'outcome', task: 'classification' },
        split: { method: 'stratified', seed: 0, validationFraction: 0.2 },
      });
      const columns = body.summary.columns as Array<{ name: string; type: string }>;
      expect(Object.fromEntries(columns.map((c) => [c.name, c.type]))).toEqual({
        age: 'numeric', monthly_spend: 'numeric', plan: 'categorical', region: 'categorical', tenure_months: 'numeric', outcome: 'target',
      });
      const classes = body.summary.classes as Array<{ label: string; count: number }>;
      expect(classes.map((c) => c.label).sort()).toEqual(['downgrade', 'leave', 'stay']);
      expect(classes.reduce((sum, c) => sum + c.count, 0)).toBe(42);
      const split = body.summary.split as { train: number; validation: number };
      expect(split.train + split.validation).toBe(42);
      expect(split.validation).toBeGreaterThan(0);
    });

    it('stores a good 4x4 image upload with shape [4,4,1]', async () => {
      const res = await upload(imageCsv(), { name: 'tiny-digits', kind: 'image', target: 'label', shape: '4,4,1' });
      expect(res.status, await res.clone().text()).toBe(201);
      const body = (await res.json()) as { id: string; summary: { shape: number[]; pixelColumns: number } };
      imageId = body.id;
      expect(body.summary.shape).toEqual([4, 4, 1]);
      expect(body.summary.pixelColumns).toBe(16);
    });

    it('refuses an unterminated quote, naming the line', async () => {
      const csv = 'a,b,y\n1,2,x\n3,"never closed,y\n5,6,z\n';
      await expectError(await upload(csv, { ...TABULAR, target: 'y' }), 400, 'file', 'unterminated', 'line 3');
    });

    it('refuses a ragged row, naming the line', async () => {
      const csv = 'a,b,y\n1,2,x\n3,4\n5,6,z\n';
      await expectError(await upload(csv, { ...TABULAR, target: 'y' }), 400, 'file', 'line 3', '2 fields', 'header has 3');
    });

    it('refuses a non-numeric pixel, naming the value, line and column', async () => {
      const csv = imageCsv(12, { row: 4, pixel: 9, text: 'dark' });
      await expectError(await upload(csv, { name: 'img', kind: 'image', target: 'label' }), 400, 'file', '"dark"', 'line 6', 'p9');
    });

    it('refuses a missing target column, listing the columns', async () => {
      const error = await expectError(await upload(tabularCsv(), { ...TABULAR, target: 'churned' }), 400, 'target', '"churned"', 'age', 'plan', 'outcome');
      expect(error.issues?.[0]).toMatchObject({ field: 'target', value: 'churned' });
    });

    it('refuses a target with one class only', async () => {
      const csv = 'a,b,y\n1,2,yes\n3,4,yes\n5,6,yes\n7,8,yes\n';
      await expectError(await upload(csv, { ...TABULAR, target: 'y' }), 400, 'target', '"yes"', 'at least 2 classes');
    });

    it('refuses a shape that does not match the pixel columns', async () => {
      const error = await expectError(await upload(imageCsv(), { name: 'img', kind: 'image', target: 'label', shape: '5,5,1' }), 400, 'shape', '5,5,1', '16');
      expect(error.issues?.[0]?.field).toBe('shape');
    });

    it('refuses an unknown kind', async () => {
      await expectError(await upload(tabularCsv(), { ...TABULAR, kind: 'audio' }), 400, 'kind', '"audio"');
    });

    it('refuses a missing name', async () => {
      const { name: _, ...fields } = TABULAR;
      const error = await expectError(await upload(tabularCsv(), fields), 400, 'name', 'is required');
      expect(error.issues?.map((i) => i.field)).toContain('name');
    });

    it('refuses a form without a file field', async () => {
      const form = new FormData();
      for (const [k, v] of Object.entries(TABULAR)) form.set(k, v);
      const error = await expectError(await post('/v1/datasets', form), 400, 'file', 'is required');
      expect(error.issues?.[0]?.field).toBe('file');
    });

    it('refuses an empty file', async () => {
      await expectError(await upload('', TABULAR), 400, 'file', 'empty');
    });

    it('answers 415 to a JSON body', async () => {
      await expectError(await postJson('/v1/datasets', { name: 'x', kind: 'tabular', target: 'y' }), 415, 'content-type', 'application/json', 'multipart/form-data');
    });

    it('answers 413 to a file over the size limit, naming the file field', async () => {
      const big = `a,y\n${'1,x\n'.repeat(Math.ceil(MAX_UPLOAD_BYTES / 4) + 10)}`;
      const error = await expectError(await upload(big, { ...TABULAR, target: 'y' }), 413, 'file', String(MAX_UPLOAD_BYTES));
      expect(error.issues?.[0]?.field).toBe('file');
    });

    it('holds out the asked share of each digit in an MNIST sample', async () => {
      const res = await postJson('/v1/datasets/samples/mnist', { count: 200, seed: 4, validationFraction: 0.5 });
      expect(res.status, await res.clone().text()).toBe(201);
      const body = (await res.json()) as { id: string; summary: { split: Record<string, unknown> } };
      mnistId = body.id;
      expect(body.summary.split).toMatchObject({ validationFraction: 0.5, train: 100, validation: 100 });
    });

    it('refuses an MNIST sample validationFraction over 0.5, naming the field', async () => {
      await expectError(await postJson('/v1/datasets/samples/mnist', { count: 200, validationFraction: 0.9 }), 400, 'validationFraction', '0.5');
    });

    it('answers 404 to an unknown dataset id', async () => {
      await expectError(await t.app.request('/v1/datasets/unknown'), 404, 'dataset', 'unknown');
    });

    it('leaves only the datasets that were stored', async () => {
      const res = await t.app.request('/v1/datasets');
      expect(res.status).toBe(200);
      const { datasets } = (await res.json()) as { datasets: Array<{ id: string }> };
      expect(datasets.map((d) => d.id).sort()).toEqual([tabularId, imageId, mnistId].sort());
      expect(await t.repo.db.dataset.count()).toBe(3);
      expect(await t.repo.db.datasetData.count()).toBe(3);
    });
  });

  describe('studies', () => {
    const study = (overrides: Record<string, unknown> = {}) => ({
      name: 'churn search',
      datasetId: tabularId,
      objective: { metric: 'val_accuracy' },
      budget: { maxTrials: 4, maxEpochs: 2, parallelism: 2 },
      search: { families: ['mlp'] },
      seed: 11,
      ...overrides,
    });
    const budget = (b: Record<string, unknown>) => ({ budget: { maxTrials: 4, maxEpochs: 2, parallelism: 2, ...b } });

    it('refuses a direction that does not fit the metric', async () => {
      await expectError(await postJson('/v1/studies', study({ objective: { metric: 'val_accuracy', direction: 'minimize' } })), 400, 'objective.direction', '"minimize"', 'maximize');
    });

    it.each([
      ['search.space.mlp.units', { mlp: { units: 0 } }, '0'],
      ['search.space.mlp.dropout', { mlp: { dropout: { type: 'float', low: 0, high: 3 } } }, '3'],
      ['search.space.mlp.optimizer', { mlp: { optimizer: { type: 'categorical', choices: ['adam', 'adagrad'] } } }, '"adagrad"'],
      ['search.space.mlp.learningRate', { mlp: { learningRate: -1 } }, '-1'],
      ['search.space.mlp.units.high', { mlp: { units: { type: 'int', low: 1, high: 1e20 } } }, '100000000000000000000'],
    ])('refuses a space that the model builders cannot build (%s)', async (field, space, value) => {
      await expectError(await postJson('/v1/studies', study({ search: { families: ['mlp'], space } })), 400, field, value);
    });

    it('refuses more cnn blocks than the images can be halved', async () => {
      const body = study({ datasetId: imageId, search: { families: ['cnn'], space: { cnn: { blocks: 5 } } } });
      await expectError(await postJson('/v1/studies', body), 400, 'search.space.cnn.blocks', '5', 'at most 2');
    });

    it('refuses an unknown datasetId', async () => {
      await expectError(await postJson('/v1/studies', study({ datasetId: 'no-such-dataset' })), 400, 'datasetId', '"no-such-dataset"');
    });

    it.each([
      ['budget.maxTrials', { maxTrials: 0 }, '0'],
      ['budget.maxTrials', { maxTrials: 1e9 }, '1000000000'],
      ['budget.maxTrials', { maxTrials: 10_001 }, '10001'],
      ['budget.maxEpochs', { maxEpochs: 0 }, '0'],
      ['budget.parallelism', { parallelism: 0 }, '0'],
      ['budget.trialTimeoutSeconds', { trialTimeoutSeconds: 0 }, '0'],
      ['budget.maxRetries', { maxRetries: -1 }, '-1'],
      ['budget.maxFailedTrials', { maxFailedTrials: -1 }, '-1'],
    ])('refuses %s = %o', async (field, b, value) => {
      const error = await expectError(await postJson('/v1/studies', study(budget(b))), 400, field, value);
      expect(error.issues?.[0]).toMatchObject({ field, value: Number(value) });
    });

    it('refuses an unknown family', async () => {
      await expectError(await postJson('/v1/studies', study({ search: { families: ['xgboost'] } })), 400, 'search.families[0]', '"xgboost"', 'mlp');
    });

    it('refuses cnn on a tabular dataset, saying why', async () => {
      await expectError(await postJson('/v1/studies', study({ search: { families: ['cnn'] } })), 400, 'search.families[0]', '"cnn"', 'image', 'tabular');
    });

    it('refuses a regression metric on a classification dataset', async () => {
      await expectError(await postJson('/v1/studies', study({ objective: { metric: 'val_mae' } })), 400, 'objective.metric', '"val_mae"', 'classification');
    });

    it('refuses an unknown objective metric', async () => {
      await expectError(await postJson('/v1/studies', study({ objective: { metric: 'f1' } })), 400, 'objective.metric', '"f1"', 'val_accuracy');
    });

    it('refuses an unknown device, listing the device classes', async () => {
      const error = await expectError(await postJson('/v1/studies', study({ device: 'tpu' })), 400, 'device', '"tpu"', '"auto"', '"cpu"', '"gpu"');
      expect(error.issues).toEqual([{ field: 'device', value: 'tpu', rule: expect.stringContaining('expected one of') }]);
    });

    it('refuses an unknown top-level field', async () => {
      const error = await expectError(await postJson('/v1/studies', study({ learningRate: 0.1 })), 400, 'learningRate', '0.1', 'not a known field');
      expect(error.issues).toEqual([{ field: 'learningRate', value: 0.1, rule: 'is not a known field' }]);
    });

    it('refuses an empty body, naming the body', async () => {
      await expectError(await post('/v1/studies', '', { 'content-type': 'application/json' }), 400, 'body', 'required');
      await expectError(await post('/v1/studies', undefined), 400, 'body');
    });

    it('answers 415 to text/plain', async () => {
      await expectError(await post('/v1/studies', JSON.stringify(study()), { 'content-type': 'text/plain' }), 415, 'content-type', '"text/plain"', 'application/json');
    });

    it('refuses malformed JSON', async () => {
      const broken = '{"name": "x", ';
      const error = await expectError(await post('/v1/studies', broken, { 'content-type': 'application/json' }), 400, 'body', JSON.stringify(broken), 'not valid JSON');
      expect(error.code).toBe('invalid_request');
      expect(error.issues?.[0]).toMatchObject({ field: 'body', value: broken });
    });

    it('answers 404 to an unknown study id', async () => {
      await expectError(await t.app.request('/v1/studies/unknown'), 404, 'study', 'unknown');
      await expectError(await t.app.request('/v1/studies/unknown/leaderboard'), 404, 'study', 'unknown');
      await expectError(await post('/v1/studies/unknown/cancel', '{}', { 'content-type': 'application/json' }), 404, 'study', 'unknown');
    });

    it('leaves no study and no trial behind after refusals', async () => {
      expect(await t.repo.db.study.count()).toBe(0);
      expect(await t.repo.db.trial.count()).toBe(0);
    });

    it('accepts a valid study with `parallelism` queued trials, cancels it once', async () => {
      const res = await postJson('/v1/studies', study());
      expect(res.status, await res.clone().text()).toBe(202);
      const created = (await res.json()) as { id: string; state: string };
      expect(['queued', 'running']).toContain(created.state);

      const trials = await t.repo.db.trial.findMany({ where: { studyId: created.id } });
      expect(trials).toHaveLength(2);
      expect(trials.every((x) => x.state === 'queued')).toBe(true);

      const cancel = await post(`/v1/studies/${created.id}/cancel`, '{}', { 'content-type': 'application/json' });
      expect(cancel.status, await cancel.clone().text()).toBe(200);
      expect(((await cancel.json()) as { state: string }).state).toBe('cancelled');
      const after = await t.repo.db.trial.findMany({ where: { studyId: created.id } });
      expect(after.map((x) => x.state)).toEqual(['cancelled', 'cancelled']);

      await expectError(await post(`/v1/studies/${created.id}/cancel`, '{}', { 'content-type': 'application/json' }), 409, created.id, 'cancelled');
      expect(await t.repo.db.study.count()).toBe(1);
      expect(await t.repo.db.trial.count()).toBe(2);
    });
  });

  describe('models', () => {
    it('answers 404 to an unknown model', async () => {
      await expectError(await t.app.request('/v1/models/nope'), 404, 'model', 'nope');
    });

    it('answers 404 to a prediction from an unknown model', async () => {
      await expectError(await postJson('/v1/models/nope/predict', { instances: [{}] }), 404, 'model', 'nope');
    });

    it('refuses an empty list of instances', async () => {
      const error = await expectError(await postJson('/v1/models/nope/predict', { instances: [] }), 400, 'instances', '[]');
      expect(error.issues?.[0]).toMatchObject({ field: 'instances', value: [] });
    });

    it('refuses a JSON body over the size limit with 413', async () => {
      const instances = Array.from({ length: 2000 }, () => [0, 0, 0, 0]);
      const res = await postJson('/v1/models/nope/predict', { instances });
      expect(res.status).toBe(413);
      expect(((await res.json()) as ErrorBody).error.message).toContain('body');
    });

    it('over a socket, refuses a body over the size limit by its content-length and, sent chunked, while it is read', async () => {
      // app.request() has no socket: this is the path @hono/node-server takes, where a declared
      // length is checked alone and a chunked body is counted as it arrives.
      const server = serve({ fetch: t.app.fetch, port: 0, hostname: '127.0.0.1' });
      await once(server, 'listening');
      const { port } = server.address() as AddressInfo;
      const send = (body: string, chunked: boolean) =>
        new Promise<{ status: number; text: string }>((resolve, reject) => {
          const headers: Record<string, string | number> = { 'content-type': 'application/json', ...(chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': Buffer.byteLength(body) }) };
          const req = request({ port, host: '127.0.0.1', method: 'POST', path: '/v1/models/nope/predict', headers }, (res) => {
            let text = '';
            res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => resolve({ status: res.statusCode ?? 0, text }));
          });
          req.on('error', reject);
          // In pieces, so the chunked body really arrives in chunks.
          for (let i = 0; i < body.length; i += 4096) req.write(body.slice(i, i + 4096));
          req.end();
        });
      try {
        const big = JSON.stringify({ instances: Array.from({ length: 2000 }, () => [0, 0, 0, 0]) });
        for (const chunked of [false, true]) {
          const over = await send(big, chunked);
          expect(over.status, over.text).toBe(413);
          expect(over.text).toContain(String(MAX_UPLOAD_BYTES));
          const small = await send(JSON.stringify({ instances: [[0, 0, 0, 0]] }), chunked);
          expect(small.status, small.text).toBe(404);
          expect(small.text).toContain('nope');
        }
      } finally {
        await new Promise((done) => server.close(done));
      }
    });

    it('refuses a version beyond a 32-bit integer with 400, not a database error', async () => {
      await expectError(await postJson('/v1/models/nope/promote', { version: 3e9 }), 400, 'version', '3000000000');
    });

    it('refuses promoting version 0', async () => {
      await expectError(await postJson('/v1/models/nope/promote', { version: 0 }), 400, 'version', '0');
    });
  });

  describe('service', () => {
    it('answers an unknown route with a JSON 404', async () => {
      await expectError(await t.app.request('/v1/nothing-here'), 404, '/v1/nothing-here');
    });

    it('describes the API in /openapi.json', async () => {
      const res = await t.app.request('/openapi.json');
      expect(res.status).toBe(200);
      const doc = (await res.json()) as { paths: Record<string, unknown> };
      expect(Object.keys(doc.paths)).toEqual(
        expect.arrayContaining(['/v1/datasets', '/v1/studies', '/v1/studies/{id}/leaderboard', '/v1/models/{name}/predict']),
      );
    });

    it('reports the database and Redis as ok in /healthz', async () => {
      const res = await t.app.request('/healthz');
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'ok', database: 'ok', redis: 'ok', backend: 'ok' });
    });
  });
});
