import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey } from '../../src/auth/manage.ts';
import { mulberry32 } from '../../src/rng.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestApp, uploadForm, type TestApp } from '../helpers/app.ts';
import { registerWineVersion, wineRow } from '../helpers/wine.ts';

/**
 * 10,000 generated requests over every route: valid bodies with one part broken, random
 * JSON of any depth and size, unicode, prototype keys, wrong content types. Every answer
 * must be below 500, and /healthz must keep answering between them.
 */
const REQUESTS = 10_000;
const STRINGS = ['', 'x', 'ünïcødé ✓ 𝔘', '\u0000', '\uD800', '__proto__', 'constructor', 'a'.repeat(5000), '1e308', 'NaN', '-1', '../../etc/passwd', "'; DROP TABLE Study;--", 'champion', 'mlp', 'val_accuracy'];
const NUMBERS = [0, -1, 1, 0.5, 2 ** 31, 2 ** 53 + 1, -(2 ** 63), 1e308, -1e308, 5e-324, 10_001, 1000];
const KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'name', 'datasetId', 'budget', 'search', 'space', 'instances', 'version', 'alias', 'role', 'count', ''];

describe('fuzzing every route', () => {
  let t: TestApp;
  let datasetId = '';
  let studyId = '';
  let key = '';
  beforeAll(async () => {
    t = await startTestApp('sqlite');
    // With a key from the start, the generated POST /v1/keys cannot turn the rest into 401s.
    key = (await createKey(t.repo, { project: 'fuzz', role: 'admin', name: 'fuzz' })).secret;
    const res = await t.app.request('/v1/datasets', { method: 'POST', headers: { authorization: `Bearer ${key}` }, body: uploadForm('a,b,y\n1,2,0\n2,3,1\n3,1,0\n4,4,1\n5,2,0\n6,1,1\n7,3,0\n8,2,1\n9,9,0\n1,1,1\n', { name: 'f', kind: 'tabular', target: 'y' }) });
    expect(res.status).toBe(201);
    datasetId = ((await res.json()) as { id: string }).id;
    // A real model, so that predict and the inference protocols reach their encoders, not only their 404s.
    const wine = await t.app.request('/v1/datasets', { method: 'POST', headers: { authorization: `Bearer ${key}` }, body: uploadForm(readFileSync(join(import.meta.dirname, '../fixtures/wine.csv'), 'utf8'), { name: 'wine', kind: 'tabular', target: 'cultivar' }) });
    expect(wine.status).toBe(201);
    const project = (await t.repo.projects.ensure('fuzz')).id;
    studyId = (await registerWineVersion(t.repo, { projectId: project, datasetId: ((await wine.json()) as { id: string }).id, name: 'wine', seed: 1 })).studyId;
  });
  afterAll(async () => {
    await t?.close();
  });

  it(`answers ${REQUESTS.toLocaleString('en-US')} generated requests without a 5xx`, async () => {
    const draw = mulberry32(20261203);
    const rng = () => draw.next();
    const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)] as T;
    const value = (depth: number): unknown => {
      const r = rng();
      if (depth <= 0 || r < 0.3) return pick<unknown>([...STRINGS, ...NUMBERS, true, false, null]);
      if (r < 0.55) return Array.from({ length: Math.floor(rng() * 6) }, () => value(depth - 1));
      if (r < 0.6) return Array.from({ length: 20_000 }, () => pick(NUMBERS));
      const o: Record<string, unknown> = {};
      for (let i = Math.floor(rng() * 5); i > 0; i--) o[pick(KEYS)] = value(depth - 1);
      return o;
    };
    const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
    // Issue 15: sometimes several objectives and constraints, over validation metrics and costs.
    const metric = () => pick(['val_accuracy', 'val_loss', 'val_mae', 'param_count', 'predict_ms_per_row', 'train_seconds', 'x']);
    const objectives = () => (rng() < 0.3 ? { objectives: [{ metric: 'val_accuracy' }, ...Array.from({ length: Math.floor(rng() * 3) }, () => ({ metric: metric() }))] } : {});
    const constraints = () => (rng() < 0.3 ? { constraints: [{ metric: metric(), max: pick(NUMBERS) }] } : {});
    const study = () => ({ name: 'fz', datasetId, objective: { metric: 'val_accuracy' }, ...objectives(), ...constraints(), budget: { maxTrials: 2, maxEpochs: 1, parallelism: 1 }, search: { algorithm: pick(['random', 'tpe', 'grid', 'evolution', 'nsga2', 'motpe']), families: ['mlp'], space: { mlp: { layers: { type: 'int', low: 1, high: 2 }, units: { type: 'categorical', choices: [8, 16] } } }, ...(rng() < 0.3 ? { warmStartFrom: pick([studyId, ids()]) } : {}) } });
    /** Breaks one part of a valid body: replaces, deletes or adds a field somewhere in it. */
    const mutate = (body: unknown): unknown => {
      if (body === null || typeof body !== 'object' || rng() < 0.25) return value(3);
      const o = (Array.isArray(body) ? [...body] : { ...(body as object) }) as Record<string, unknown>;
      const keys = Object.keys(o);
      const r = rng();
      const k = keys.length ? pick(keys) : pick(KEYS);
      if (r < 0.4) o[k] = mutate(o[k]);
      else if (r < 0.6) delete o[k];
      else o[pick(KEYS)] = value(2);
      return o;
    };
    const ids = () => pick([datasetId, 'x', '%00', 'a'.repeat(300), '..%2F..', '__proto__', '-1']);
    let lastStudy = '';
    const studyIdOr = () => (lastStudy = pick([studyId, ids()]));
    const models = () => pick(['wine', 'wine', 'x', '%00', 'a'.repeat(300), '__proto__']);
    const versions = () => pick(['', '/versions/1', '/versions/0', '/versions/x', '/versions/99999999999999999999', '/labels/champion', '/labels/x']);
    // Bodies of the standard protocols, valid ones broken by mutate.
    const v2Body = () => ({ id: 'r', inputs: [{ name: 'input', shape: [1, 13], datatype: 'FP32', data: Object.values(wineRow) }] });
    const v2Columns = () => ({ inputs: Object.entries(wineRow).map(([name, v]) => ({ name, shape: [1], datatype: 'FP32', data: [v] })) });
    const tfColumns = () => ({ inputs: Object.fromEntries(Object.entries(wineRow).map(([k, v]) => [k, [v]])) });
    const routes: (() => [string, string, unknown])[] = [
      () => ['POST', '/v1/studies', mutate(study())],
      () => ['POST', '/v1/datasets/samples/mnist', mutate({ count: 20, seed: 1, validationFraction: 0.2 })],
      () => ['POST', `/v1/models/${ids()}/predict`, mutate({ instances: [{ a: 1, b: 2 }] })],
      () => ['POST', `/v1/models/${ids()}/promote`, mutate({ version: 1, alias: 'champion' })],
      () => ['POST', `/v1/studies/${ids()}/cancel`, mutate({})],
      () => ['POST', '/v1/keys', mutate({ role: 'read', name: 'k' })],
      () => ['GET', pick(['/v1/datasets', '/v1/studies', '/v1/models', '/v1/keys']) + pick(['', '?limit=0', '?limit=501', '?cursor=abc', '?limit=1&cursor=eyJ9', `?limit=${pick(NUMBERS)}`]), undefined],
      () => ['GET', `/v1/${pick(['datasets', 'studies', 'models'])}/${ids()}`, undefined],
      () => ['GET', `/v1/studies/${ids()}/${pick(['leaderboard', 'trials', `trials/${ids()}`])}?limit=${pick(NUMBERS)}`, undefined],
      () => ['DELETE', `/v1/${pick(['datasets', 'studies', 'keys'])}/${ids()}`, undefined],
      () => ['DELETE', `/v1/models/${ids()}/${pick(['versions', 'aliases'])}/${pick(['1', '0', 'x', '99999999999'])}`, undefined],
      () => [pick(['PUT', 'PATCH', 'GET', 'POST']), pick(['/', '/v1', '/v1/nothing', '/metrics', '/healthz', '/openapi.json']), value(2)],
      // Routes of issues 13 and 14. The real study never ends, so its event stream is asked for with HEAD only (headers, no stream).
      () => ['GET', `/v1/studies/${pick([studyId, ids()])}/importance`, undefined],
      () => [studyIdOr() === studyId ? 'HEAD' : 'GET', `/v1/studies/${lastStudy}/events${pick(['', '?after=0-0', '?after=x', '?after=99999999999999-0'])}`, undefined],
      () => ['GET', `/v1/datasets/${ids()}/sample?limit=${pick(NUMBERS)}${pick(['', '&window=3', '&horizon=x'])}`, undefined],
      () => ['GET', pick(['/v1/workers', '/v1/queues', '/ui/session', '/ui/app/app.js', '/ui/app/../../package.json', '/ui/vendor/echarts.mjs', '/ui/vendor/x', '/ui/queues', '/v2', '/v2/health/live', '/v2/health/ready']), undefined],
      () => ['POST', pick(['/ui/login', '/ui/logout']), mutate({ key: 'maas_x_y' })],
      () => ['POST', `/v1/models/${models()}/predict`, mutate({ instances: [wineRow] })],
      () => ['GET', `/v2/models/${models()}${pick(['', '/versions/1', '/versions/x'])}${pick(['', '/ready'])}`, undefined],
      () => ['POST', `/v2/models/${models()}${pick(['', '/versions/1', '/versions/0x1'])}/infer`, mutate(pick([v2Body, v2Columns])())],
      () => ['POST', `/v1/models/${models()}${versions()}:predict`, mutate(pick([() => ({ instances: [wineRow] }), tfColumns])())],
      () => ['GET', `/v1/models/${models()}${versions()}${pick(['', '/metadata'])}`, undefined],
      () => ['GET', `/v1/models/${models()}/versions/${pick(['1', '0', 'x', '0x1'])}/artifact`, undefined],
      // Issue 15: continuing a study (the real one is completed; a raise reopens it) and warm starts (in study()).
      () => ['POST', `/v1/studies/${pick([studyId, ids()])}/continue`, mutate(pick([{ maxTrials: 3 }, { timeLimitSeconds: 60 }, { maxTrials: 10_000, timeLimitSeconds: 2_592_000 }]))],
      () => [pick(['PUT', 'GET']), `/v1/models/${models()}/aliases/${pick(['champion', 'canary', 'x', '%00'])}`, mutate({ version: 1, canary: [{ version: 1, weight: 0.5 }], shadow: { version: 1, share: 0.1 } })],
    ];
    const statuses = new Map<number, number>();
    const fivexx: string[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      let [method, path, body] = pick(routes)();
      const r = rng();
      // Mostly the good key; sometimes none, a malformed one or a forged one.
      const auth = rng();
      const headers: Record<string, string> = auth < 0.97 ? { authorization: `Bearer ${key}` } : auth < 0.98 ? {} : { authorization: pick(['Bearer', 'Basic x', `Bearer maas_${'a'.repeat(12)}_${'b'.repeat(43)}`, 'Bearer \u00ff']) };
      let payload: BodyInit | undefined;
      if (method === 'GET' || method === 'HEAD' || method === 'DELETE') payload = undefined;
      else if (r < 0.04) payload = deep(pick([65, 4111, 20_000]));
      else if (r < 0.08) payload = JSON.stringify(body).slice(0, Math.floor(rng() * 40));
      else if (r < 0.1) payload = undefined;
      else payload = JSON.stringify(body);
      if (payload !== undefined || r < 0.1) headers['content-type'] = rng() < 0.9 ? 'application/json' : pick(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=utf-16', '']);
      if (rng() < 0.02) {
        method = 'POST';
        path = '/v1/datasets';
        payload = uploadForm(pick(['a,y\n1,0\n2,1\n', 'y\n', '', '"unterminated\n1', '\uFEFFa,b\n1']), { name: pick(STRINGS), kind: pick(['tabular', 'image', 'text', 'x']), target: pick(['y', 'a', '']) });
        delete headers['content-type'];
      }
      const res = await t.app.request(path, { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const text = await res.text();
      if (res.status >= 500) fivexx.push(`${method} ${path} → ${res.status} ${text.slice(0, 200)}`);
      if (i % 1000 === 999) expect((await t.app.request('/healthz')).status).toBe(200);
    }
    console.log(`fuzz: ${REQUESTS} requests, statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}, ${fivexx.length} 5xx`);
    expect(fivexx).toEqual([]);
  });
});
