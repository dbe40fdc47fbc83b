import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey } from '../../src/auth/manage.ts';
import { readArchive } from '../../src/serving/archive.ts';
import type { DatasetRecord } from '../../src/storage/index.ts';
import { selectBackend } from '../../src/model/index.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { KINDS, registerVersion, storeDataset } from '../helpers/served-models.ts';

/** GET /v1/models/{name}/versions/{v}/artifact: the archive, its headers, its card, and projects kept apart. */
describe('exporting a model version', () => {
  let t: TestApp;
  let dataset: DatasetRecord;
  const keys: Record<'mainWrite' | 'mainRead' | 'mainPredict' | 'otherWrite', string> = {} as never;
  const get = (path: string, key: keyof typeof keys) => t.app.request(path, { headers: { authorization: `Bearer ${keys[key]}` } });

  beforeAll(async () => {
    await selectBackend('cpu');
    t = await startTestApp('sqlite');
    const wine = KINDS.find((k) => k.kind === 'tabular')!;
    dataset = await storeDataset(t.repo, 'main', 'wine', wine.input());
    await registerVersion(t.repo, { projectId: 'main', name: 'wine', dataset, family: 'mlp', seed: 1, curve: [{ val_accuracy: 0.5, val_loss: 1.1 }, { val_accuracy: 0.75, val_loss: 0.8 }] });
    // The same name in another project, another model.
    const other = await storeDataset(t.repo, 'other', 'wine', wine.input());
    await registerVersion(t.repo, { projectId: 'other', name: 'wine', dataset: other, family: 'mlp', seed: 2 });
    keys.mainWrite = (await createKey(t.repo, { project: 'main', role: 'write', name: 'w' })).secret;
    keys.mainRead = (await createKey(t.repo, { project: 'main', role: 'read', name: 'r' })).secret;
    keys.mainPredict = (await createKey(t.repo, { project: 'main', role: 'predict', name: 'p' })).secret;
    keys.otherWrite = (await createKey(t.repo, { project: 'other', role: 'write', name: 'o' })).secret;
  });
  afterAll(async () => t?.close());

  it('sends the archive as a zip named after the version, with its checksum and digest, and a card that describes it', async () => {
    const res = await get('/v1/models/wine/versions/1/artifact', 'mainWrite');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/zip');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="wine-v1.maas.zip"');
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(res.headers.get('repr-digest')).toBe(`sha-256=:${createHash('sha256').update(bytes).digest('base64')}:`);
    const archive = readArchive(bytes);
    expect(res.headers.get('x-maas-checksum')).toBe(archive.checksum);
    const { card } = archive;
    expect(card).toMatchObject({
      name: 'wine', version: 1, family: 'mlp', params: { family: 'mlp', units: 8 }, objective: { metric: 'val_accuracy', direction: 'maximize' },
      metrics: { val_accuracy: 0.75, val_loss: 0.8 },
      baseline: { method: 'majority class', metric: 'val_accuracy' },
      dataset: { id: dataset.id, name: 'wine', kind: 'tabular', task: 'classification', target: 'cultivar', rows: 178, summary: dataset.summary },
      trial: { number: 0, epochs: 2, bestEpoch: 2 },
      curve: [{ epoch: 1, metrics: { val_accuracy: 0.5, val_loss: 1.1 } }, { epoch: 2, metrics: { val_accuracy: 0.75, val_loss: 0.8 } }],
    });
    expect(card.maasVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(archive.preprocessing.columns).toHaveLength(13);
    expect(archive.inputShape).toEqual([13]);
    // One version always exports to the same bytes.
    const again = new Uint8Array(await (await get('/v1/models/wine/versions/1/artifact', 'mainWrite')).arrayBuffer());
    expect(Buffer.from(again).equals(Buffer.from(bytes))).toBe(true);
  });

  it("answers another project's model as its own: its own version, never the other's", async () => {
    const mine = readArchive(new Uint8Array(await (await get('/v1/models/wine/versions/1/artifact', 'mainWrite')).arrayBuffer()));
    const theirs = readArchive(new Uint8Array(await (await get('/v1/models/wine/versions/1/artifact', 'otherWrite')).arrayBuffer()));
    expect(theirs.card.dataset.id).not.toBe(mine.card.dataset.id);
    expect(theirs.checksum).not.toBe(mine.checksum);
    // Only main has a v2 to ask for: other's key sees none.
    await registerVersion(t.repo, { projectId: 'main', name: 'wine', dataset, family: 'mlp', seed: 3 });
    expect((await get('/v1/models/wine/versions/2/artifact', 'mainWrite')).status).toBe(200);
    const hidden = await get('/v1/models/wine/versions/2/artifact', 'otherWrite');
    expect(hidden.status).toBe(404);
    expect(await hidden.json()).toEqual({ error: { code: 'not_found', message: "version 2 of model 'wine' does not exist" } });
  });

  it('answers 404 for a model or version that does not exist, 400 for a version that is not one, 403 to a read or predict key', async () => {
    const missing = await get('/v1/models/nope/versions/1/artifact', 'mainWrite');
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { message: string } }).error.message).toBe("model 'nope' does not exist");
    expect((await get('/v1/models/wine/versions/99/artifact', 'mainWrite')).status).toBe(404);
    for (const bad of ['0', 'x', '1.5', '99999999999']) {
      const res = await get(`/v1/models/wine/versions/${bad}/artifact`, 'mainWrite');
      expect(res.status, bad).toBe(400);
      expect(((await res.json()) as { error: { issues: { field: string }[] } }).error.issues[0]!.field).toBe('param.version');
    }
    expect((await get('/v1/models/wine/versions/1/artifact', 'mainPredict')).status).toBe(403);
    // The archive takes the model out of maas: a read key may see the registry, not copy it.
    const read = await get('/v1/models/wine/versions/1/artifact', 'mainRead');
    expect(read.status).toBe(403);
    expect(((await read.json()) as { error: { message: string } }).error.message).toContain('needs a write or admin key');
  });

  it('spends 10 rate-limit points on an export, as on an upload', async () => {
    const remaining = (res: Response) => Number(res.headers.get('ratelimit-remaining'));
    const before = remaining(await get('/v1/models/wine', 'mainWrite'));
    const after = remaining(await get('/v1/models/wine/versions/1/artifact', 'mainWrite'));
    expect(before - after).toBe(10);
  });
});
