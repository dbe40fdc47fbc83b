import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { permissionFor } from '../../src/api/auth.ts';
import { createKey } from '../../src/auth/manage.ts';
import { selectBackend } from '../../src/model/index.ts';
import { startTestApp, uploadForm, type TestApp } from '../helpers/app.ts';
import { PROVIDERS } from '../helpers/databases.ts';
import { registerWineVersion, wineRow as row } from '../helpers/wine.ts';

const wine = readFileSync(join(import.meta.dirname, '../fixtures/wine.csv'), 'utf8');
/**
 * Two projects and four keys walk every route: no key reads or changes anything of the other
 * project (404, as for what does not exist), and each role does only what it may.
 */
describe.each(PROVIDERS)('projects and keys (%s)', (provider) => {
  let t: TestApp;
  const keys: Record<'acmeAdmin' | 'acmeRead' | 'acmePredict' | 'globexWrite', { id: string; secret: string }> = {} as never;
  const ids = { acmeDataset: '', globexDataset: '', acmeStudy: '', globexStudy: '', acmeTrial: '' };

  const call = (key: keyof typeof keys | null, path: string, init: RequestInit = {}) =>
    t.app.request(path, { ...init, headers: { ...(key ? { authorization: `Bearer ${keys[key].secret}` } : {}), ...(init.headers as Record<string, string> | undefined) } });
  const json = (key: keyof typeof keys | null, method: string, path: string, body: unknown = {}) =>
    call(key, path, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  const version = (projectId: string, datasetId: string, name: string, seed: number) => registerWineVersion(t.repo, { projectId, datasetId, name, seed });

  beforeAll(async () => {
    await selectBackend('cpu');
    t = await startTestApp(provider);
    // Open until the first key exists: the default project's admin, as before keys existed.
    expect((await call(null, '/v1/datasets')).status).toBe(200);
    keys.acmeAdmin = await createKey(t.repo, { project: 'acme', role: 'admin', name: 'a' });
    keys.acmeRead = await createKey(t.repo, { project: 'acme', role: 'read', name: 'r' });
    keys.acmePredict = await createKey(t.repo, { project: 'acme', role: 'predict', name: 'p' });
    keys.globexWrite = await createKey(t.repo, { project: 'globex', role: 'write', name: 'w' });
    // The open/closed answer is cached for a second.
    await new Promise((r) => setTimeout(r, 1100));

    const up = async (key: 'acmeAdmin' | 'globexWrite', name: string) => {
      const res = await call(key, '/v1/datasets', { method: 'POST', body: uploadForm(wine, { name, kind: 'tabular', target: 'cultivar' }) });
      expect(res.status).toBe(201);
      return ((await res.json()) as { id: string }).id;
    };
    ids.acmeDataset = await up('acmeAdmin', 'acme wine');
    ids.globexDataset = await up('globexWrite', 'globex wine');
    // Same model name in both projects: acme has v1 and v2 (champion v2), globex only v1.
    await version('acme', ids.acmeDataset, 'wine', 1);
    const acme2 = await version('acme', ids.acmeDataset, 'wine', 2);
    ids.acmeStudy = acme2.studyId;
    ids.acmeTrial = acme2.trialId;
    ids.globexStudy = (await version('globex', ids.globexDataset, 'wine', 3)).studyId;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('needs a valid, live key once a key exists', async () => {
    const none = await call(null, '/v1/datasets');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    expect(((await none.json()) as { error: { message: string } }).error.message).toContain('API key is required');
    expect((await t.app.request('/v1/datasets', { headers: { authorization: 'Bearer nonsense' } })).status).toBe(401);
    const forged = `maas_${keys.acmeAdmin.id}_${'A'.repeat(43)}`;
    expect((await t.app.request('/v1/datasets', { headers: { authorization: `Bearer ${forged}` } })).status).toBe(401);
    expect((await t.app.request('/v1/datasets', { headers: { 'x-api-key': keys.acmeRead.secret } })).status).toBe(200);
    // Public routes stay public.
    expect((await call(null, '/healthz')).status).toBe(200);
    expect((await call(null, '/openapi.json')).status).toBe(200);
  });

  it('lists only the own project', async () => {
    const acme = (await (await call('acmeRead', '/v1/datasets')).json()) as { datasets: { id: string }[] };
    expect(acme.datasets.map((d) => d.id)).toEqual([ids.acmeDataset]);
    const globex = (await (await call('globexWrite', '/v1/datasets')).json()) as { datasets: { id: string }[] };
    expect(globex.datasets.map((d) => d.id)).toEqual([ids.globexDataset]);
    const studies = (await (await call('globexWrite', '/v1/studies')).json()) as { studies: { id: string }[] };
    expect(studies.studies.map((s) => s.id)).toEqual([ids.globexStudy]);
    const models = (await (await call('globexWrite', '/v1/models')).json()) as { models: { name: string; versions: number; aliases: Record<string, number> }[] };
    expect(models.models).toMatchObject([{ name: 'wine', versions: 1, aliases: { champion: 1 } }]);
    const acmeModel = (await (await call('acmeRead', '/v1/models/wine')).json()) as { versions: { studyId: string }[]; aliases: Record<string, number> };
    expect(acmeModel.aliases).toEqual({ champion: 2 });
    expect(acmeModel.versions.map((v) => v.studyId)).toContain(ids.acmeStudy);
  });

  it("answers 404 to every route on the other project's resources, and changes nothing", async () => {
    const g = 'globexWrite' as const;
    const notFound = async (res: Response | Promise<Response>) => expect((await res).status).toBe(404);
    await notFound(call(g, `/v1/datasets/${ids.acmeDataset}`));
    await notFound(call(g, `/v1/datasets/${ids.acmeDataset}`, { method: 'DELETE' }));
    await notFound(call(g, `/v1/studies/${ids.acmeStudy}`));
    await notFound(call(g, `/v1/studies/${ids.acmeStudy}/leaderboard`));
    await notFound(call(g, `/v1/studies/${ids.acmeStudy}/trials`));
    await notFound(call(g, `/v1/studies/${ids.acmeStudy}/trials/${ids.acmeTrial}`));
    await notFound(json(g, 'POST', `/v1/studies/${ids.acmeStudy}/cancel`));
    await notFound(call(g, `/v1/studies/${ids.acmeStudy}`, { method: 'DELETE' }));
    await notFound(call('acmeAdmin', `/v1/keys/${keys.globexWrite.id}`, { method: 'DELETE' }));
    // A study on another project's dataset is refused as if the dataset did not exist.
    const study = await json(g, 'POST', '/v1/studies', { name: 'x', datasetId: ids.acmeDataset, objective: { metric: 'val_accuracy' }, budget: { maxTrials: 1, maxEpochs: 1 } });
    expect(study.status).toBe(400);
    expect(await study.text()).toContain('datasetId');

    // "wine" in globex is globex's own model: promote, alias, predict and deletes touch only it.
    await notFound(json(g, 'POST', '/v1/models/wine/promote', { version: 2 }));
    expect((await json(g, 'POST', '/v1/models/wine/promote', { version: 1, alias: 'staging' })).status).toBe(200);
    const predicted = (await (await json(g, 'POST', '/v1/models/wine/predict', { instances: [row] })).json()) as { model: { version: number } };
    expect(predicted.model.version).toBe(1);
    expect((await call(g, '/v1/models/wine/aliases/champion', { method: 'DELETE' })).status).toBe(204);
    await notFound(call(g, '/v1/models/wine/versions/2', { method: 'DELETE' }));

    // acme is as it was.
    expect(await t.repo.datasets.get(ids.acmeDataset)).not.toBeNull();
    expect((await t.repo.studies.get(ids.acmeStudy))?.state).toBe('completed');
    const acme = (await (await call('acmeRead', '/v1/models/wine')).json()) as { aliases: Record<string, number> };
    expect(acme.aliases).toEqual({ champion: 2 });
    const acmePredict = (await (await json('acmePredict', 'POST', '/v1/models/wine/predict', { instances: [row] })).json()) as { model: { version: number } };
    expect(acmePredict.model.version).toBe(2);
    expect((await t.repo.keys.get(keys.acmeRead.id))?.revokedAt).toBeNull();
  });

  it('lets each role do only what it may', async () => {
    expect((await json('acmeRead', 'POST', '/v1/models/wine/predict', { instances: [row] })).status).toBe(403);
    expect((await json('acmeRead', 'POST', '/v1/studies', { name: 'x' })).status).toBe(403);
    expect((await call('acmeRead', `/v1/datasets/${ids.acmeDataset}`, { method: 'DELETE' })).status).toBe(403);
    expect((await call('acmePredict', '/v1/datasets')).status).toBe(403);
    expect((await call('acmePredict', '/v1/models')).status).toBe(403);
    expect((await call('globexWrite', '/v1/keys')).status).toBe(403);
    expect((await call('globexWrite', '/metrics')).status).toBe(403);
    expect((await call('acmeAdmin', '/metrics')).status).toBe(200);
    const listed = (await (await call('acmeAdmin', '/v1/keys')).json()) as { keys: { id: string; projectId: string }[] };
    expect(listed.keys.map((k) => k.projectId)).toEqual(['acme', 'acme', 'acme']);
    expect(JSON.stringify(listed)).not.toContain('secretHash');
  });

  it('serves KServe v2 and TF Serving to the roles and the project of the key', async () => {
    const infer = { inputs: [{ name: 'input', shape: [1, 13], datatype: 'FP32', data: Object.values(row) }] };
    // A predict key predicts in every protocol, and reads nothing; a read key the reverse.
    const predicted = await json('acmePredict', 'POST', '/v2/models/wine/infer', infer);
    expect(predicted.status).toBe(200);
    expect(((await predicted.json()) as { model_version: string }).model_version).toBe('2');
    for (const path of ['/v1/models/wine:predict', '/v1/models/wine/versions/1:predict', '/v1/models/wine/labels/champion:predict']) {
      expect((await json('acmePredict', 'POST', path, { instances: [row] })).status).toBe(200);
    }
    // ...and reads what prediction clients read first, as a read key does: the protocols' metadata, readiness and status.
    const probes = ['/v2/models/wine', '/v2/models/wine/ready', '/v2/models/wine/versions/2', '/v2/models/wine/versions/2/ready', '/v1/models/wine/versions/2', '/v1/models/wine/labels/champion', '/v1/models/wine/metadata', '/v1/models/wine/versions/2/metadata', '/v1/models/wine/labels/champion/metadata'];
    for (const path of probes) {
      expect((await call('acmePredict', path)).status, path).toBe(200);
      expect((await call('acmeRead', path)).status, path).toBe(200);
    }
    // A predict key of another project reads none of it: acme's v2 does not exist in globex.
    const globexPredict = await createKey(t.repo, { project: 'globex', role: 'predict', name: 'gp' });
    for (const path of probes.filter((p) => p.includes('/versions/2'))) {
      const res = await t.app.request(path, { headers: { authorization: `Bearer ${globexPredict.secret}` } });
      expect(res.status, path).toBe(404);
    }
    // Nothing else of the registry: its own view of the model, the archive, the lists.
    for (const path of ['/v1/models/wine', '/v1/models', '/v1/models/wine/versions/2/artifact', '/v2']) expect((await call('acmePredict', path)).status, path).toBe(403);
    expect(permissionFor('GET', '/v2/models/wine/versions/1/ready/x')).toBe('read');
    expect(permissionFor('GET', '/v1/models/wine/versions/1/artifact')).toBe('write');
    expect(permissionFor('GET', '/v1/models/wine/aliases/champion')).toBe('read');
    const refused = await json('acmeRead', 'POST', '/v2/models/wine/versions/1/infer', infer);
    expect(refused.status).toBe(403);
    expect(typeof ((await refused.json()) as { error: unknown }).error).toBe('string');
    expect((await json('acmeRead', 'POST', '/v1/models/wine/labels/champion:predict', { instances: [row] })).status).toBe(403);
    expect((await call('acmeRead', '/v2/models/wine/versions/1')).status).toBe(200);
    expect((await call('acmeRead', '/v1/models/wine/versions/1')).status).toBe(200);
    // Probes need no key; nothing else does without one.
    expect((await call(null, '/v2/health/live')).status).toBe(200);
    expect((await call(null, '/v2/health/ready')).status).toBe(200);
    const anonymous = await call(null, '/v2/models/wine');
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { error: string }).error).toContain('API key is required');
    // globex's "wine" is its own: one version, labelled staging, and no champion since the test above.
    const g = 'globexWrite' as const;
    const notFound = async (res: Response | Promise<Response>) => expect((await res).status).toBe(404);
    const staging = await json(g, 'POST', '/v1/models/wine/labels/staging:predict', { instances: [row] });
    expect(staging.status).toBe(200);
    expect(((await (await call(g, '/v2/models/wine/versions/1')).json()) as { versions: string[] }).versions).toEqual(['1']);
    await notFound(json(g, 'POST', '/v2/models/wine/versions/2/infer', infer));
    await notFound(json(g, 'POST', '/v1/models/wine:predict', { instances: [row] }));
    await notFound(call(g, '/v1/models/wine/versions/2'));
    await notFound(call(g, '/v1/models/wine/versions/2/metadata'));
    // Only the exact predict routes are predictions; any other POST needs write.
    expect(permissionFor('POST', '/v1/models/wine:promote')).toBe('write');
    expect(permissionFor('POST', '/v2/models/wine/load')).toBe('write');
    expect(permissionFor('POST', '/v2/models/wine/versions/1/infer')).toBe('predict');
  });

  it('makes and revokes keys through the admin API, in the own project only', async () => {
    const made = await json('acmeAdmin', 'POST', '/v1/keys', { role: 'read', name: 'dashboard' });
    expect(made.status).toBe(201);
    const key = (await made.json()) as { id: string; secret: string; projectId: string };
    expect(key.projectId).toBe('acme');
    expect((await t.app.request('/v1/datasets', { headers: { authorization: `Bearer ${key.secret}` } })).status).toBe(200);
    expect((await call('acmeAdmin', `/v1/keys/${key.id}`, { method: 'DELETE' })).status).toBe(204);
    const after = await t.app.request('/v1/datasets', { headers: { authorization: `Bearer ${key.secret}` } });
    expect(after.status).toBe(401);
    expect(await after.text()).toContain('revoked');
    const bad = await json('acmeAdmin', 'POST', '/v1/keys', { role: 'owner', name: 'x' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('role');
  });

  it('pages lists with an opaque cursor and refuses a forged one', async () => {
    for (const name of ['p1', 'p2']) {
      expect((await call('acmeAdmin', '/v1/datasets', { method: 'POST', body: uploadForm(wine, { name, kind: 'tabular', target: 'cultivar' }) })).status).toBe(201);
    }
    const first = (await (await call('acmeRead', '/v1/datasets?limit=2')).json()) as { datasets: { id: string }[]; nextCursor: string | null };
    expect(first.datasets).toHaveLength(2);
    expect(first.nextCursor).not.toBeNull();
    const second = (await (await call('acmeRead', `/v1/datasets?limit=2&cursor=${first.nextCursor}`)).json()) as { datasets: { id: string }[]; nextCursor: string | null };
    expect(second.datasets).toHaveLength(1);
    expect(second.nextCursor).toBeNull();
    expect(new Set([...first.datasets, ...second.datasets].map((d) => d.id)).size).toBe(3);
    const forged = await call('acmeRead', '/v1/datasets?cursor=bm9wZQ');
    expect(forged.status).toBe(400);
    expect(await forged.text()).toContain('cursor');
  });

  it('refuses deletes that would break what depends on them, then deletes in order', async () => {
    const a = 'acmeAdmin' as const;
    const conflict = async (res: Response | Promise<Response>, text: string) => {
      const r = await res;
      expect(r.status).toBe(409);
      expect(await r.text()).toContain(text);
    };
    await conflict(call(a, `/v1/datasets/${ids.acmeDataset}`, { method: 'DELETE' }), 'used by studies');
    await conflict(call(a, '/v1/models/wine/versions/2', { method: 'DELETE' }), 'champion');
    await conflict(call(a, `/v1/studies/${ids.acmeStudy}`, { method: 'DELETE' }), 'wine v2');
    expect((await json(a, 'POST', '/v1/models/wine/promote', { version: 1 })).status).toBe(200);
    expect((await call(a, '/v1/models/wine/versions/2', { method: 'DELETE' })).status).toBe(204);
    expect((await call(a, `/v1/studies/${ids.acmeStudy}`, { method: 'DELETE' })).status).toBe(204);
    expect(await t.repo.studies.get(ids.acmeStudy)).toBeNull();
    expect(await t.repo.trials.get(ids.acmeTrial)).toBeNull();
    expect((await call(a, `/v1/studies/${ids.acmeStudy}`)).status).toBe(404);
  });
});

describe('limits and browser defences', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('sqlite', { app: { rateLimitPerMinute: 12, corsOrigins: ['https://app.example.com'], quotas: { datasetBytes: 4_000, runningStudies: 0, trialsInFlight: 0 } } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('refuses a cross-site form post and answers CORS only to the allowlist', async () => {
    const form = await t.app.request('/v1/datasets', { method: 'POST', headers: { origin: 'https://evil.example' }, body: uploadForm(wine, { name: 'x', kind: 'tabular', target: 'cultivar' }) });
    expect(form.status).toBe(403);
    expect(await t.repo.datasets.list('default')).toHaveLength(0);
    const allowed = await t.app.request('/healthz', { headers: { origin: 'https://app.example.com' } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    const other = await t.app.request('/healthz', { headers: { origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    expect(allowed.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('refuses a dataset or a study over the quota, naming it, and writes nothing', async () => {
    const big = await t.app.request('/v1/datasets', { method: 'POST', body: uploadForm(wine, { name: 'x', kind: 'tabular', target: 'cultivar' }) });
    expect(big.status).toBe(429);
    const body = (await big.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('quota_exceeded');
    expect(body.error.message).toContain('4,000');
    expect(await t.repo.datasets.list('default')).toHaveLength(0);
    const study = await t.app.request('/v1/studies', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x', datasetId: 'none', objective: { metric: 'val_accuracy' }, budget: { maxTrials: 1, maxEpochs: 1 } }) });
    // The dataset is checked first; with none, the quota is never reached. Both are 4xx with nothing written.
    expect([400, 429]).toContain(study.status);
    expect(await t.repo.studies.list('default')).toHaveLength(0);
  });

  it('answers 429 with Retry-After once the per-minute budget is spent', async () => {
    let limited: Response | undefined;
    for (let i = 0; i < 30 && !limited; i++) {
      const res = await t.app.request('/v1/datasets');
      if (res.status === 429) limited = res;
      else expect(res.status).toBe(200);
    }
    expect(limited).toBeDefined();
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await limited!.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
    // Public routes are not limited: a load balancer's health checks keep working.
    expect((await t.app.request('/healthz')).status).toBe(200);
  });
});
