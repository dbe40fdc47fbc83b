import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ClassPrediction, ForecastPrediction } from '../../src/data/index.ts';
import type { DatasetRecord } from '../../src/storage/index.ts';
import { selectBackend } from '../../src/model/index.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { KINDS, registerVersion, sameNumbers, storeDataset, validationInstances } from '../helpers/served-models.ts';

/**
 * KServe v2 and TF Serving over the real app, with request bodies written from the two
 * specifications (kserve docs/predict-api/v2/required_api.md; tensorflow_serving/g3doc/api_rest.md):
 * every format gives maas's own predictions for the same rows, and every refusal is `{"error": "..."}`.
 */
describe('inference protocols', () => {
  let t: TestApp;
  const data: Record<'wine' | 'news' | 'digits' | 'passengers', { dataset: DatasetRecord; rows: unknown[] }> = {} as never;
  const WINDOW = { window: 12, horizon: 3 };

  const send = async (method: string, path: string, body?: unknown, type = 'application/json') => {
    const res = await t.app.request(path, { method, ...(body !== undefined ? { headers: { 'content-type': type }, body: typeof body === 'string' ? body : JSON.stringify(body) } : {}) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  /** maas's own answer for the same rows. */
  const own = async (name: string, rows: unknown[], alias = 'champion') => {
    const res = await send('POST', `/v1/models/${name}/predict?alias=${alias}`, { instances: rows });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.predictions as unknown[];
  };
  const ok = (res: { status: number; body: unknown }) => {
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body as Record<string, unknown>;
  };
  /** A protocol error: the status, and a body that is `{"error": <string>}` and nothing else. */
  const refused = (res: { status: number; body: Record<string, unknown> }, status: number, says: string) => {
    expect(res.status, JSON.stringify(res.body)).toBe(status);
    expect(Object.keys(res.body)).toEqual(['error']);
    expect(res.body.error).toEqual(expect.stringContaining(says));
  };

  beforeAll(async () => {
    await selectBackend('cpu');
    t = await startTestApp('sqlite');
    const input = (kind: string) => KINDS.find((k) => k.kind === kind)!.input();
    const add = async (name: keyof typeof data, kind: string, seeds: number[], forecast?: typeof WINDOW) => {
      const dataset = await storeDataset(t.repo, 'default', name, input(kind));
      for (const seed of seeds) await registerVersion(t.repo, { projectId: 'default', name, dataset, family: 'mlp', seed, ...(forecast ? { forecast } : {}) });
      data[name] = { dataset, rows: await validationInstances(t.repo, dataset, 3, forecast) };
    };
    await add('wine', 'tabular', [1, 2]);
    await add('news', 'text', [1]);
    await add('digits', 'image', [1]);
    await add('passengers', 'timeseries', [1], WINDOW);
    // v1 keeps a second alias, a TF Serving label.
    ok(await send('POST', '/v1/models/wine/promote', { version: 1, alias: 'stable' }));
  });
  afterAll(async () => {
    await t?.close();
  });

  const wineColumns = () => Object.keys(data.wine.rows[0] as object);

  it('answers the health and server metadata of KServe v2', async () => {
    expect(ok(await send('GET', '/v2/health/live'))).toEqual({ live: true });
    expect(ok(await send('GET', '/v2/health/ready'))).toEqual({ ready: true });
    expect(ok(await send('GET', '/v2'))).toMatchObject({ name: 'maas', extensions: [] });
    expect(ok(await send('GET', '/v2/models/wine/ready'))).toEqual({ name: 'wine', ready: true });
    expect(ok(await send('GET', '/v2/models/wine/versions/1/ready'))).toEqual({ name: 'wine', ready: true });
  });

  it('describes the tensors: KServe model metadata and TF Serving signature_def', async () => {
    const v2 = ok(await send('GET', '/v2/models/wine'));
    expect(v2).toMatchObject({ name: 'wine', versions: ['1', '2'], platform: 'tfjs_layers' });
    expect(v2.inputs).toEqual(wineColumns().map((name) => ({ name, datatype: 'FP32', shape: [-1] })));
    expect(v2.outputs).toEqual([
      { name: 'label', datatype: 'BYTES', shape: [-1] },
      { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
    ]);
    expect(ok(await send('GET', '/v2/models/news')).inputs).toEqual([{ name: 'text', datatype: 'BYTES', shape: [-1] }]);
    expect(ok(await send('GET', '/v2/models/digits/versions/1')).inputs).toEqual([{ name: 'input', datatype: 'FP32', shape: [-1, 28, 28, 1] }]);
    expect(ok(await send('GET', '/v2/models/passengers')).outputs).toEqual([{ name: 'forecast', datatype: 'FP32', shape: [-1, 3] }]);

    const tf = ok(await send('GET', '/v1/models/wine/labels/stable/metadata'));
    expect(tf.model_spec).toEqual({ name: 'wine', signature_name: '', version: '1' });
    const def = (tf.metadata as { signature_def: { signature_def: Record<string, { inputs: Record<string, unknown>; outputs: Record<string, unknown>; method_name: string }> } }).signature_def.signature_def.serving_default!;
    expect(def.method_name).toBe('tensorflow/serving/predict');
    expect(def.inputs.alcohol).toEqual({ dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: '-1', name: '' }], unknown_rank: false }, name: 'alcohol:0' });
    expect(Object.keys(def.outputs)).toEqual(['label', 'probabilities']);
    expect(ok(await send('GET', '/v1/models/wine/metadata')).model_spec).toMatchObject({ version: '2' });
    expect(ok(await send('GET', '/v1/models/wine/versions/1/metadata')).model_spec).toMatchObject({ version: '1' });
  });

  it('answers TF Serving model status beside maas own model view, and keeps maas routes working', async () => {
    const model = ok(await send('GET', '/v1/models/wine'));
    expect(model.aliases).toEqual({ champion: 2, stable: 1 });
    const available = (version: string) => ({ version, state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } });
    expect(model.model_version_status).toEqual([available('2'), available('1')]);
    expect(ok(await send('GET', '/v1/models/wine/versions/1'))).toEqual({ model_version_status: [available('1')] });
    expect(ok(await send('GET', '/v1/models/wine/labels/stable'))).toEqual({ model_version_status: [available('1')] });
    expect(ok(await send('GET', '/v1/models')).models).toHaveLength(4);
    // maas's own errors keep maas's shape on its own routes.
    expect((await send('GET', '/v1/models/nope')).body.error).toMatchObject({ code: 'not_found' });
  });

  it('gives maas predictions for KServe v2 named columns and one row tensor', async () => {
    const rows = data.wine.rows as Record<string, number>[];
    const expected = (await own('wine', rows)) as ClassPrediction[];
    const columns = {
      id: 'wine-1',
      parameters: { content_type: 'pd' },
      inputs: wineColumns().map((name) => ({ name, shape: [rows.length], datatype: 'FP32', data: rows.map((r) => r[name]) })),
    };
    const answer = ok(await send('POST', '/v2/models/wine/infer', columns));
    expect(answer).toMatchObject({ model_name: 'wine', model_version: '2', id: 'wine-1' });
    const [label, probabilities] = answer.outputs as { name: string; datatype: string; shape: number[]; data: unknown[] }[];
    expect(label).toEqual({ name: 'label', datatype: 'BYTES', shape: [3], data: expected.map((p) => p.label) });
    expect(probabilities).toMatchObject({ name: 'probabilities', datatype: 'FP32', shape: [3, 3] });
    expect(sameNumbers(probabilities!.data, expected.flatMap((p) => Object.values(p.probabilities)), 1e-6)).toEqual([]);

    const row = { inputs: [{ name: 'input', shape: [rows.length, 13], datatype: 'FP64', data: rows.flatMap((r) => wineColumns().map((c) => r[c])) }], outputs: [{ name: 'label' }] };
    const byRow = ok(await send('POST', '/v2/models/wine/versions/1/infer', row));
    expect(byRow.model_version).toBe('1');
    expect(byRow).not.toHaveProperty('id');
    expect(byRow.outputs).toEqual([{ name: 'label', datatype: 'BYTES', shape: [3], data: ((await own('wine', rows, 'stable')) as ClassPrediction[]).map((p) => p.label) }]);
  });

  it('gives maas predictions for TF Serving rows and columns, by champion, version and label', async () => {
    const rows = data.wine.rows as Record<string, number>[];
    const expected = ((await own('wine', rows)) as ClassPrediction[]).map((p) => ({ label: p.label, probabilities: Object.values(p.probabilities) }));
    const byRows = ok(await send('POST', '/v1/models/wine:predict', { instances: rows }));
    expect(sameNumbers(byRows.predictions, expected, 1e-6)).toEqual([]);
    const lists = ok(await send('POST', '/v1/models/wine:predict', { signature_name: 'serving_default', instances: rows.map((r) => wineColumns().map((c) => r[c])) }));
    expect(sameNumbers(lists.predictions, expected, 1e-6)).toEqual([]);
    const columns = Object.fromEntries(wineColumns().map((c) => [c, rows.map((r) => r[c])]));
    const byColumns = ok(await send('POST', '/v1/models/wine:predict', { inputs: columns }));
    expect(sameNumbers(byColumns.outputs, { label: expected.map((p) => p.label), probabilities: expected.map((p) => p.probabilities) }, 1e-6)).toEqual([]);

    const stable = ((await own('wine', rows, 'stable')) as ClassPrediction[]).map((p) => p.label);
    for (const path of ['/v1/models/wine/versions/1:predict', '/v1/models/wine/labels/stable:predict']) {
      const answer = ok(await send('POST', path, { instances: rows }));
      expect((answer.predictions as { label: string }[]).map((p) => p.label)).toEqual(stable);
    }
  });

  it('takes text as BYTES, images and forecast windows as FP32 tensors', async () => {
    const texts = data.news.rows as string[];
    const news = (await own('news', texts)) as ClassPrediction[];
    const v2 = ok(await send('POST', '/v2/models/news/infer', { inputs: [{ name: 'text', shape: [texts.length], datatype: 'BYTES', data: texts }] }));
    expect((v2.outputs as { data: unknown[] }[])[0]!.data).toEqual(news.map((p) => p.label));
    const tf = ok(await send('POST', '/v1/models/news:predict', { instances: texts.map((text) => ({ text })) }));
    expect((tf.predictions as { label: string }[]).map((p) => p.label)).toEqual(news.map((p) => p.label));

    const images = data.digits.rows as number[][];
    const digits = (await own('digits', images)) as ClassPrediction[];
    const flat = ok(await send('POST', '/v2/models/digits/infer', { inputs: [{ name: 'input', shape: [images.length, 28, 28, 1], datatype: 'FP32', data: images.flat(3) }] }));
    const probabilities = (flat.outputs as { name: string; data: number[] }[]).find((o) => o.name === 'probabilities')!;
    expect(sameNumbers(probabilities.data, digits.flatMap((p) => Object.values(p.probabilities)), 1e-6)).toEqual([]);
    const nested = ok(await send('POST', '/v1/models/digits:predict', { inputs: images }));
    expect((nested.outputs as { label: string[] }).label).toEqual(digits.map((p) => p.label));

    // maas's instances of a series are objects keyed by value column; the protocols' tensor holds the values.
    const records = data.passengers.rows as Record<string, number[]>[];
    const windows = records.map((r) => Object.values(r)[0]!);
    expect(Object.keys(records[0]!)).toHaveLength(1);
    const forecasts = (await own('passengers', records)) as ForecastPrediction[];
    const byTensor = ok(await send('POST', '/v2/models/passengers/infer', { inputs: [{ name: 'input', shape: [windows.length, 12], datatype: 'FP32', data: windows.flat(2) }] }));
    expect((byTensor.outputs as { shape: number[] }[])[0]!.shape).toEqual([windows.length, 3]);
    expect(sameNumbers((byTensor.outputs as { data: number[] }[])[0]!.data, forecasts.flatMap((f) => f.forecast), 1e-6)).toEqual([]);
    expect(sameNumbers(ok(await send('POST', '/v1/models/passengers:predict', { instances: windows })).predictions, forecasts.map((f) => f.forecast), 1e-6)).toEqual([]);
    // maas's own instance shapes are TF Serving rows too.
    expect(sameNumbers(ok(await send('POST', '/v1/models/passengers:predict', { instances: records })).predictions, forecasts.map((f) => f.forecast), 1e-6)).toEqual([]);
  });

  it('refuses what does not fit, naming the input, as {"error": "..."}', async () => {
    const row = data.wine.rows[0] as Record<string, number>;
    const named = (change: (inputs: { name: string; shape: number[]; datatype: string; data: unknown[] }[]) => void) => {
      const inputs = wineColumns().map((name) => ({ name, shape: [1], datatype: 'FP32', data: [row[name]] }));
      change(inputs);
      return { inputs };
    };
    refused(await send('POST', '/v2/models/wine/infer', named((i) => (i[0]!.name = 'alcohol_'))), 400, 'inputs[0].name: "alcohol_" is not an input of this model');
    refused(await send('POST', '/v2/models/wine/infer', named((i) => (i[2]!.shape = [2]))), 400, 'inputs[2].data');
    refused(await send('POST', '/v2/models/wine/infer', named((i) => i.splice(1, 1))), 400, 'inputs.malic_acid');
    refused(await send('POST', '/v2/models/wine/infer', named((i) => (i[0]!.data = [1e300]))), 400, 'inputs[0].data[0]');
    refused(await send('POST', '/v2/models/wine/infer', named((i) => (i[0]!.datatype = 'FP128'))), 400, 'inputs[0].datatype');
    refused(await send('POST', '/v2/models/wine/infer', { inputs: [{ name: 'input', shape: [1, 12], datatype: 'FP32', data: Array(12).fill(1) }] }), 400, 'inputs[0].shape');
    refused(await send('POST', '/v2/models/news/infer', { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: [''] }] }), 400, 'inputs[0].data[0]: "" must not be empty');

    refused(await send('POST', '/v1/models/wine:predict', { instances: [row], inputs: {} }), 400, 'exactly one of instances');
    refused(await send('POST', '/v1/models/wine:predict', { instances: [{ ...row, colour: 1 }] }), 400, 'instances[0].colour');
    refused(await send('POST', '/v1/models/wine:predict', { inputs: { alcohol: [1] } }), 400, 'inputs.malic_acid');
    refused(await send('POST', '/v1/models/wine:predict', { signature_name: 'classify', instances: [row] }), 400, 'signature_name');
    refused(await send('POST', '/v1/models/wine:predict', { instances: [row] }, 'text/plain'), 415, 'content-type');
    refused(await send('POST', '/v1/models/wine:predict', '{"instances": ['), 400, 'not valid JSON');
    refused(await send('POST', '/v2/models/wine/infer', 'inputs=1', 'application/x-www-form-urlencoded'), 415, 'content-type');
    refused(await send('GET', '/v2/models/wine/versions/abc'), 400, 'version');
    // A version is digits only, in both protocols: no number syntax a parser would also take.
    for (const v of ['0x1', '1e0', '+1', '1.0', '%201']) {
      refused(await send('GET', `/v2/models/wine/versions/${v}`), 400, 'version');
      refused(await send('GET', `/v2/models/wine/versions/${v}/ready`), 400, 'version');
      refused(await send('GET', `/v1/models/wine/versions/${v}/metadata`), 400, 'version');
      refused(await send('GET', `/v1/models/wine/versions/${v}`), 400, 'version');
    }
    // Columnar inputs of more instances than a request may carry are refused before any instance is built.
    const many = Object.fromEntries(wineColumns().map((c) => [c, Array(10_001).fill(1)]));
    refused(await send('POST', '/v1/models/wine:predict', { inputs: many }), 413, 'inputs.alcohol');
  });

  it('looks up only the selector for a prediction, as maas own predict does: no list of versions or aliases', async () => {
    const rows = data.wine.rows as Record<string, number>[];
    const models = t.repo.models;
    const lookups = [vi.spyOn(models, 'byAlias'), vi.spyOn(models, 'version'), vi.spyOn(models, 'versions')];
    const counts = async (request: () => Promise<unknown>) => {
      for (const spy of lookups) spy.mockClear();
      await request();
      return lookups.map((spy) => spy.mock.calls.length);
    };
    try {
      const own = await counts(() => send('POST', '/v1/models/wine/predict', { instances: rows }));
      expect(own).toEqual([1, 0, 0]);
      const columns = wineColumns().map((name) => ({ name, shape: [rows.length], datatype: 'FP32', data: rows.map((r) => r[name]) }));
      expect(await counts(async () => ok(await send('POST', '/v2/models/wine/infer', { inputs: columns })))).toEqual(own);
      expect(await counts(async () => ok(await send('POST', '/v1/models/wine:predict', { instances: rows })))).toEqual(own);
      expect(await counts(async () => ok(await send('POST', '/v1/models/wine/labels/stable:predict', { instances: rows })))).toEqual(own);
      const byNumber = await counts(async () => ok(await send('POST', '/v1/models/wine/versions/1:predict', { instances: rows })));
      expect(byNumber).toEqual([0, 1, 0]);
      expect(await counts(async () => ok(await send('POST', '/v2/models/wine/versions/1/infer', { inputs: columns })))).toEqual(byNumber);
    } finally {
      for (const spy of lookups) spy.mockRestore();
    }
  });

  it('answers 404 for a model, version or label that does not exist, in every form', async () => {
    for (const [method, path] of [
      ['GET', '/v2/models/nope'],
      ['GET', '/v2/models/wine/versions/9'],
      ['GET', '/v2/models/nope/ready'],
      ['POST', '/v2/models/wine/versions/9/infer'],
      ['POST', '/v1/models/nope:predict'],
      ['POST', '/v1/models/wine/versions/9:predict'],
      ['POST', '/v1/models/wine/labels/canary:predict'],
      ['GET', '/v1/models/wine/versions/9'],
      ['GET', '/v1/models/wine/labels/canary'],
      ['GET', '/v1/models/nope/metadata'],
      ['GET', '/v1/models/wine/labels/canary/metadata'],
    ] as const) {
      const body = path.endsWith('infer') ? { inputs: [{ name: 'input', shape: [1], datatype: 'FP32', data: [1] }] } : path.endsWith(':predict') ? { instances: [{}] } : undefined;
      refused(await send(method, path, body), 404, 'does not exist');
    }
  });
});
