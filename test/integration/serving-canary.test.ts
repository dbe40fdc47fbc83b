import { PassThrough, Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runClient } from '../../src/cli/index.ts';
import { createLogger } from '../../src/log.ts';
import { mulberry32 } from '../../src/rng.ts';
import { Predictor } from '../../src/serving/predictor.ts';
import { repositorySource, type ModelSource } from '../../src/serving/source.ts';
import { createRepository, type ModelVersionRecord, type Repository } from '../../src/storage/index.ts';
import { selectBackend } from '../../src/model/index.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { freshDatabase, PROVIDERS, type TestDatabase } from '../helpers/databases.ts';
import { KINDS, storeDataset } from '../helpers/served-models.ts';
import { listen } from '../helpers/sse.ts';
import { registerWineVersion, wineRow } from '../helpers/wine.ts';

const tabular = KINDS.find((k) => k.kind === 'tabular')!;

/** `count` seeded wine versions of `name` (v1..vN). */
async function wineVersions(repo: Repository, projectId: string, name: string, count: number): Promise<ModelVersionRecord[]> {
  const dataset = await storeDataset(repo, projectId, 'wine', tabular.input());
  const made = [];
  for (let seed = 1; seed <= count; seed++) made.push((await registerWineVersion(repo, { projectId, datasetId: dataset.id, name, seed })).version);
  return made;
}

/** The value of one sample of the exposition, or undefined when it is absent. */
function sample(text: string, name: string, labels: Record<string, string | number>): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const inside = line.slice(name.length + 1, line.lastIndexOf('}')).split(',');
    if (want.every((w) => inside.includes(w)) && inside.length === want.length) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe.each(PROVIDERS)('alias routing in the registry (%s)', (provider) => {
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

  it('stores canaries and a shadow, reads them back with their versions, keeps them across a move, and blocks deleting a routed version', async () => {
    const [v1, v2, v3] = await wineVersions(repo, 'default', 'wine', 3);
    await repo.models.setAlias('default', 'wine', 'live', v1!.id, { canary: [{ version: 2, weight: 0.25 }], shadow: { version: 3, share: 0.5 } });
    const read = await repo.models.byAlias('default', 'wine', 'live');
    expect(read?.version).toBe(1);
    expect(read?.routing).toEqual({ canary: [{ id: v2!.id, version: 2, weight: 0.25 }], shadow: { id: v3!.id, version: 3, share: 0.5 } });
    expect(await repo.models.aliasSettings('default', 'wine', 'live')).toMatchObject({ version: 1, routing: { canary: [{ version: 2, weight: 0.25 }], shadow: { version: 3, share: 0.5 } } });

    // A promotion moves only the alias's own version.
    await repo.models.setAlias('default', 'wine', 'live', v2!.id);
    expect((await repo.models.aliasSettings('default', 'wine', 'live'))?.routing?.shadow).toEqual({ version: 3, share: 0.5 });
    await repo.models.setAlias('default', 'wine', 'live', v1!.id);
    expect(await repo.models.deleteVersion('default', 'wine', 3)).toEqual({ aliases: ['champion'] });

    // Champion moves away from v3: v3 is still the shadow of live.
    await repo.models.setAlias('default', 'wine', 'champion', v1!.id);
    expect(await repo.models.deleteVersion('default', 'wine', 3)).toEqual({ aliases: ['live'], routed: true });
    await repo.models.setAlias('default', 'wine', 'live', v1!.id, null);
    expect((await repo.models.byAlias('default', 'wine', 'live'))?.routing).toBeNull();
    expect(await repo.models.deleteVersion('default', 'wine', 3)).toBe('deleted');
  });
});

describe('canary and shadow serving', () => {
  let database: TestDatabase;
  let repo: Repository;
  let versions: ModelVersionRecord[];
  const log = createLogger('error');

  beforeAll(async () => {
    await selectBackend('cpu');
    database = await freshDatabase('sqlite');
    repo = createRepository(database.url);
    versions = await wineVersions(repo, 'default', 'wine', 3);
  });
  afterAll(async () => {
    await repo?.close();
    await database?.drop();
  });

  it('splits 1,000 requests by the canary weights (seeded), names the serving version in each answer, and counts them per version', async () => {
    await repo.models.setAlias('default', 'wine', 'split', versions[0]!.id, { canary: [{ version: 2, weight: 0.2 }, { version: 3, weight: 0.1 }], shadow: null });
    const predictor = new Predictor(repositorySource(repo, { rng: mulberry32(7), cacheMs: 60_000 }), log, { batch: false });
    try {
      const served = new Map<number, number>();
      const byVersion = new Map<number, unknown>();
      for (let i = 0; i < 1000; i++) {
        const answer = await predictor.predict('default', 'wine', [wineRow], 'split');
        expect(answer.model.alias).toBe('split');
        served.set(answer.model.version, (served.get(answer.model.version) ?? 0) + 1);
        // Each answer is the one of the version it names.
        byVersion.set(answer.model.version, answer.predictions);
      }
      // Binomial standard deviations over 1,000 requests are about 0.016, 0.013 and 0.009: 3 of them is the tolerance.
      expect(Math.abs(served.get(1)! / 1000 - 0.7)).toBeLessThan(0.045);
      expect(Math.abs(served.get(2)! / 1000 - 0.2)).toBeLessThan(0.04);
      expect(Math.abs(served.get(3)! / 1000 - 0.1)).toBeLessThan(0.03);
      for (const [version, predictions] of byVersion) expect((await predictor.predict('default', 'wine', [wineRow], { version })).predictions).toEqual(predictions);

      const text = predictor.metrics.exposition();
      for (const version of [1, 2, 3]) {
        const labels = { project: 'default', model: 'wine', version, role: 'primary' };
        // The answers by number above count too: one more each.
        expect(sample(text, 'maas_model_requests_total', { ...labels, outcome: 'ok' })).toBe(served.get(version)! + 1);
        expect(sample(text, 'maas_model_request_duration_seconds_count', labels)).toBe(served.get(version)! + 1);
        expect(sample(text, 'maas_model_request_duration_seconds_bucket', { ...labels, le: '+Inf' })).toBe(served.get(version)! + 1);
      }
    } finally {
      predictor.close();
    }
  });

  it('mirrors to a shadow in the background: answers unchanged and not held up, the shadow version called, excess shadow work dropped', async () => {
    await repo.models.setAlias('default', 'wine', 'mirrored', versions[0]!.id, { canary: [], shadow: { version: 2, share: 1 } });
    // The shadow's load waits for this gate, so an answer that came back first did not wait for it.
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const base = repositorySource(repo);
    const shadowLoads: number[] = [];
    const source: ModelSource = {
      ...base,
      async parts(ref) {
        if (ref.version === 2) {
          shadowLoads.push(ref.version);
          await gate;
        }
        return base.parts(ref);
      },
    };
    const predictor = new Predictor(source, log, { batch: false, maxShadowsInFlight: 1 });
    const plain = new Predictor(repositorySource(repo), log, { batch: false });
    try {
      const expected = await plain.predict('default', 'wine', [wineRow, { ...wineRow, alcohol: 12 }], { version: 1 });
      const answers = [];
      for (let i = 0; i < 3; i++) answers.push(await predictor.predict('default', 'wine', [wineRow, { ...wineRow, alcohol: 12 }], 'mirrored'));
      for (const answer of answers) {
        expect(answer.model).toEqual({ name: 'wine', version: 1, alias: 'mirrored' });
        expect(answer.predictions).toEqual(expected.predictions);
      }
      // All three answered while the first shadow prediction still waits; the other two found the queue full.
      expect(shadowLoads).toEqual([2]);
      const shadow = { project: 'default', model: 'wine', version: 2, role: 'shadow' };
      expect(sample(predictor.metrics.exposition(), 'maas_model_shadow_dropped_total', shadow)).toBe(2);

      open();
      await predictor.shadowsSettled();
      expect(sample(predictor.metrics.exposition(), 'maas_model_requests_total', { ...shadow, outcome: 'ok' })).toBe(1);
      // With room again, the next request's shadow runs on the (now loaded) shadow version.
      expect((await predictor.predict('default', 'wine', [wineRow], 'mirrored')).model.version).toBe(1);
      await predictor.shadowsSettled();
      const text = predictor.metrics.exposition();
      expect(sample(text, 'maas_model_requests_total', { ...shadow, outcome: 'ok' })).toBe(2);
      expect(sample(text, 'maas_model_requests_total', { project: 'default', model: 'wine', version: 1, role: 'primary', outcome: 'ok' })).toBe(4);
    } finally {
      predictor.close();
      plain.close();
    }
  });
});

describe('PUT /v1/models/{name}/aliases/{alias}', () => {
  let t: TestApp;
  beforeAll(async () => {
    await selectBackend('cpu');
    t = await startTestApp('sqlite');
    await wineVersions(t.repo, 'default', 'wine', 4);
  });
  afterAll(async () => {
    await t?.close();
  });

  const put = (alias: string, body: unknown, name = 'wine') =>
    t.app.request(`/v1/models/${name}/aliases/${alias}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const errorOf = async (res: Response) => ((await res.json()) as { error: { message: string } }).error.message;

  it('sets and reads back the routing, serves through it and reports per-version metrics', async () => {
    const res = await put('canary', { version: 1, canary: [{ version: 2, weight: 0.5 }], shadow: { version: 3, share: 0.1 } });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ model: 'wine', alias: 'canary', version: 1, canary: [{ version: 2, weight: 0.5 }], shadow: { version: 3, share: 0.1 } });
    expect(await (await t.app.request('/v1/models/wine/aliases/canary')).json()).toEqual(body);

    const seen = new Set<number>();
    for (let i = 0; i < 40; i++) {
      const predicted = await t.app.request('/v1/models/wine/predict?alias=canary', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: [wineRow] }) });
      expect(predicted.status).toBe(200);
      seen.add(((await predicted.json()) as { model: { version: number } }).model.version);
    }
    // Each of the 40 goes to v2 with probability 0.5: both versions appear (but with probability 2^-39).
    expect([...seen].sort()).toEqual([1, 2]);

    const metrics = await (await t.app.request('/metrics')).text();
    expect(metrics).toContain('# TYPE maas_model_request_duration_seconds histogram');
    expect(sample(metrics, 'maas_model_requests_total', { project: 'default', model: 'wine', version: 2, role: 'primary', outcome: 'ok' })).toBeGreaterThan(0);

    const blocked = await t.app.request('/v1/models/wine/versions/3', { method: 'DELETE' });
    expect(blocked.status).toBe(409);
    expect(await errorOf(blocked)).toContain("wine v3 is a canary or shadow of 'canary'");

    // PUT replaces: no canary and no shadow now.
    expect(await (await put('canary', { version: 2 })).json()).toMatchObject({ version: 2, canary: [], shadow: null });
  });

  it('names the field and the rule of a bad routing', async () => {
    const cases: [unknown, number, string[]][] = [
      [{ version: 1, canary: [{ version: 2, weight: 0 }] }, 400, ['canary[0].weight']],
      [{ version: 1, canary: [{ version: 2, weight: 1.5 }] }, 400, ['canary[0].weight']],
      [{ version: 1, canary: [{ version: 2, weight: 0.6 }, { version: 3, weight: 0.5 }] }, 400, ['canary', 'at most 1']],
      [{ version: 1, canary: [{ version: 2, weight: 0.1 }, { version: 2, weight: 0.1 }] }, 400, ['canary[1].version', 'twice']],
      [{ version: 1, canary: [{ version: 1, weight: 0.1 }] }, 400, ['canary[0].version', "alias's own version"]],
      [{ version: 1, shadow: { version: 1, share: 0.5 } }, 400, ['shadow.version']],
      [{ version: 1, shadow: { version: 2, share: 0 } }, 400, ['shadow.share']],
      [{ version: 1, canary: [{ version: 2, weight: 0.1 }], shadow: { version: 2, share: 0.5 } }, 400, ['shadow.version', 'also a canary']],
      [{ version: 1, canary: [{ version: 9, weight: 0.1 }] }, 400, ['canary[0].version', '9', 'is not a version']],
      [{ version: 1, shadow: { version: 9, share: 0.1 } }, 400, ['shadow.version', '9', 'is not a version']],
      [{ version: 1, canary: [{ version: 2, weight: 0.1, extra: 1 }] }, 400, ['extra']],
      [{ version: 9 }, 404, ['version 9']],
    ];
    for (const [body, status, fragments] of cases) {
      const res = await put('bad', body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      const message = await errorOf(res);
      for (const f of fragments) expect(message, JSON.stringify(body)).toContain(f);
    }
    expect((await put('bad', { version: 1 }, 'nope')).status).toBe(404);
    expect((await t.app.request('/v1/models/wine/aliases/bad')).status).toBe(404);
  });

  it('maas models route sets the routing, and refuses a malformed pair', async () => {
    const server = await listen(t.app);
    const run = async (argv: string[]) => {
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      const chunks: string[] = [];
      stdout.on('data', (d: Buffer) => chunks.push(d.toString()));
      stderr.on('data', (d: Buffer) => chunks.push(d.toString()));
      const code = await runClient(argv, { stdout, stderr, stdin: Readable.from([]), env: { MAAS_URL: server.url } });
      return { code, text: chunks.join('') };
    };
    try {
      const set = await run(['models', 'route', 'wine', 'cli', '--version', '1', '--canary', '2:0.25,3:0.25', '--shadow', '4:0.5']);
      expect(set).toEqual({ code: 0, text: 'wine: cli → v1 (canary v2 25%, canary v3 25%, shadow v4 50%)\n' });
      expect(await (await t.app.request('/v1/models/wine/aliases/cli')).json()).toMatchObject({ version: 1, canary: [{ version: 2, weight: 0.25 }, { version: 3, weight: 0.25 }], shadow: { version: 4, share: 0.5 } });
      const bad = await run(['models', 'route', 'wine', 'cli', '--version', '1', '--canary', '2=0.25']);
      expect(bad.code).not.toBe(0);
      expect(bad.text).toContain("--canary '2=0.25' must be VERSION:NUMBER pairs");
      const refused = await run(['models', 'route', 'wine', 'cli', '--version', '1', '--canary', '2:0.8,3:0.8']);
      expect(refused.code).not.toBe(0);
      expect(refused.text).toContain('at most 1');
    } finally {
      await server.close();
    }
  });
});
