import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import type { Family } from '../../src/domain.ts';
import { createLogger } from '../../src/log.ts';
import { startStandalone, type StandaloneServer } from '../../src/serve/index.ts';
import { selectBackend } from '../../src/model/index.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { eventually } from '../helpers/processes.ts';
import { familiesOf, KINDS, registerVersion, sameNumbers, specOf, storeDataset, validationInstances } from '../helpers/served-models.ts';
import { wineRow } from '../helpers/wine.ts';

const ALL: Family[] = ['mlp', 'cnn', 'rnn', 'transformer'];
/** Every family on every kind of data (a table takes no convolution or recurrence). */
const CASES = KINDS.flatMap(({ kind }) => (kind === 'tabular' ? (['mlp', 'transformer'] as Family[]) : ALL).map((family) => ({ kind, family, name: `${kind}-${family}` })));

const config = (env: Record<string, string> = {}) => loadConfig({ PORT: '0', HOST: '127.0.0.1', MAAS_BACKEND: 'cpu', LOG_LEVEL: 'error', ...env });
const post = (url: string, body: unknown) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/**
 * Every family on every kind of data: exported from the api, served by `maas serve --model`
 * (in this process, on a port of its own), predicting what the api predicts.
 */
describe('export → maas serve --model → the same predictions', () => {
  let t: TestApp;
  let server: StandaloneServer;
  const dir = mkdtempSync(join(tmpdir(), 'maas-serve-'));
  const instances = new Map<string, unknown[]>();

  beforeAll(async () => {
    await selectBackend('cpu');
    t = await startTestApp('sqlite');
    const files: string[] = [];
    for (const { kind, input, forecast } of KINDS) {
      const dataset = await storeDataset(t.repo, 'default', kind, input());
      const families = CASES.filter((c) => c.kind === kind).map((c) => c.family);
      // The cases cover what a study offers for this data.
      expect(familiesOf(specOf(dataset, forecast))).toEqual(expect.arrayContaining(families));
      const rows = await validationInstances(t.repo, dataset, 3, forecast);
      for (const [i, family] of families.entries()) {
        const name = `${kind}-${family}`;
        await registerVersion(t.repo, { projectId: 'default', name, dataset, family, seed: 10 + i, ...(forecast ? { forecast } : {}) });
        instances.set(name, rows);
        const res = await t.app.request(`/v1/models/${name}/versions/1/artifact`);
        expect(res.status, name).toBe(200);
        const file = join(dir, `${name}-v1.maas.zip`);
        writeFileSync(file, new Uint8Array(await res.arrayBuffer()));
        files.push(file);
      }
    }
    server = await startStandalone({ from: { models: files }, config: config(), log: createLogger('error') });
  }, 300_000);
  afterAll(async () => {
    await server?.stop();
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(CASES)('$family on $kind data', async ({ name }) => {
    const rows = instances.get(name)!;
    const api = await t.app.request(`/v1/models/${name}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: rows }) });
    const standalone = await post(`${server.url}/v1/models/${name}/predict`, { instances: rows });
    expect(api.status).toBe(200);
    expect(standalone.status).toBe(200);
    const [a, b] = (await Promise.all([api.json(), standalone.json()])) as { predictions: unknown[]; model: unknown }[];
    expect(b!.model).toEqual({ name, version: 1, alias: 'champion' });
    expect(b!.predictions).toHaveLength(rows.length);
    expect(sameNumbers(a!.predictions, b!.predictions, 1e-6)).toEqual([]);
    // TF Serving's route, by version number, answers the same on both.
    const tfApi = await t.app.request(`/v1/models/${name}/versions/1:predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: rows }) });
    const tfStandalone = await post(`${server.url}/v1/models/${name}/versions/1:predict`, { instances: rows });
    expect(tfApi.status).toBe(200);
    expect(tfStandalone.status).toBe(200);
    expect(sameNumbers(await tfApi.json(), await tfStandalone.json(), 1e-6)).toEqual([]);
  });

  it('serves the archives under project default, champion and version 1 alike, and says what it serves', async () => {
    const byVersion = await post(`${server.url}/v2/models/tabular-mlp/versions/1/infer`, { inputs: [{ name: 'alcohol', shape: [1], datatype: 'FP32', data: [13.2] }] });
    // A KServe request with a column missing is refused in the protocol's shape, naming it.
    expect(byVersion.status).toBe(400);
    expect(((await byVersion.json()) as { error: unknown }).error).toEqual(expect.any(String));
    expect((await fetch(`${server.url}/v2/models/tabular-mlp/versions/1/ready`)).status).toBe(200);
    expect((await fetch(`${server.url}/v2/models/tabular-mlp/versions/2/ready`)).status).toBe(404);
    const missing = await post(`${server.url}/v1/models/nope/predict`, { instances: [wineRow] });
    expect(missing.status).toBe(404);
    const health = (await (await fetch(`${server.url}/healthz`)).json()) as { status: string; source: string; models: { name: string }[] };
    expect(health).toMatchObject({ status: 'ok', source: 'archives', database: 'none', backend: 'ok' });
    expect(health.models.map((m) => m.name).sort()).toEqual(CASES.map((c) => c.name).sort());
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/maas_serve_requests_total\{method="POST",route="\/v1\/models\/:name\/predict",status="200"\} \d+/);
    expect(metrics).toContain('maas_serve_archive_info{model="tabular-mlp",version="1",checksum="sha256:');
    const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/healthz', '/metrics', '/v1/models/{name}/predict', '/v2/models/{name}/infer', '/v1/models/{name}:predict']));
    // No registry, training or queue routes.
    expect(Object.keys(doc.paths).filter((p) => /studies|datasets|keys|queues|artifact|promote/.test(p))).toEqual([]);
    for (const path of ['/v1/studies', '/v1/datasets', '/v1/models', '/v1/queues']) expect((await fetch(`${server.url}${path}`)).status, path).toBe(404);
  });
});

/** `maas serve --from`: the registry in the database, with no Redis, following alias moves. */
describe('maas serve --from the database', () => {
  let t: TestApp;
  let server: StandaloneServer;

  beforeAll(async () => {
    await selectBackend('cpu');
    t = await startTestApp('sqlite');
    server = await startStandalone({ from: { database: t.databaseUrl }, config: config({ REDIS_URL: 'redis://127.0.0.1:1' }), log: createLogger('error') });
  });
  afterAll(async () => {
    await server?.stop();
    await t?.close();
  });

  it('serves the champion and picks up an alias move within seconds', async () => {
    const dataset = await storeDataset(t.repo, 'default', 'wine', KINDS[0]!.input());
    const v1 = await registerVersion(t.repo, { projectId: 'default', name: 'wine', dataset, family: 'mlp', seed: 1 });
    await registerVersion(t.repo, { projectId: 'default', name: 'wine', dataset, family: 'mlp', seed: 2 });
    const versionNow = async () => ((await (await post(`${server.url}/v1/models/wine/predict`, { instances: [wineRow] })).json()) as { model: { version: number } }).model.version;
    expect(await versionNow()).toBe(2);
    await t.repo.models.setAlias('default', 'wine', 'champion', v1.version.id);
    expect(await eventually(async () => ((await versionNow()) === 1 ? true : undefined), 'the alias move to be served', 5_000, 100)).toBe(true);
    const health = (await (await fetch(`${server.url}/healthz`)).json()) as Record<string, unknown>;
    expect(health).toMatchObject({ status: 'ok', source: 'database', database: 'ok' });
  });
});
