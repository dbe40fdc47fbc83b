import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey } from '../../src/auth/manage.ts';
import { announceWorker } from '../../src/queue/workers.ts';
import { startTestApp, uploadForm, type TestApp } from '../helpers/app.ts';
import { wineConfig, wineParams } from '../helpers/wine.ts';

const wine = readFileSync(join(import.meta.dirname, '../fixtures/wine.csv'), 'utf8');

type Workers = { workers: { id: string; backend: string; device: string; concurrency: number; host?: string; startedAt: string; lastSeenAt: string | null; running?: number }[] };
type QueuesView = { queues: { name: string; waiting: number; active: number; delayed: number; failed: number; completed: number; paused: boolean }[] };

/**
 * GET /v1/workers and /v1/queues (counts of the whole cluster, no other project's ids) and the
 * read-only Bull Board at /ui/queues (only an admin of the default project, once keys exist).
 */
describe('workers, queues and the queue board', () => {
  let t: TestApp;
  const ids = { trial: '', study: '' };

  beforeAll(async () => {
    t = await startTestApp('sqlite');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('lists live workers with their hosts and the trials each runs now to the operator (everyone in open mode)', async () => {
    expect(((await (await t.app.request('/v1/workers')).json()) as Workers).workers).toEqual([]);

    const upload = await t.app.request('/v1/datasets', { method: 'POST', body: uploadForm(wine, { name: 'wine', kind: 'tabular', target: 'cultivar' }) });
    const datasetId = ((await upload.json()) as { id: string }).id;
    // A trial of the default project, running on worker w-1, straight through the repository.
    ids.study = (await t.repo.studies.create({ id: randomUUID(), projectId: 'default', name: 's', datasetId, config: wineConfig })).id;
    ids.trial = (await t.repo.trials.create({ id: randomUUID(), studyId: ids.study, number: 0, family: 'mlp', params: wineParams }))!.id;
    await t.repo.trials.start(ids.trial, 'w-1', 'cpu');
    const startedAt = new Date(Date.now() - 60_000).toISOString();
    await announceWorker(t.queues.connection, t.prefix, { id: 'w-1', host: 'h1', pid: 1, backend: 'cpu', device: 'cpu', concurrency: 2, startedAt }, 30);
    await announceWorker(t.queues.connection, t.prefix, { id: 'w-2', host: 'h2', pid: 2, backend: 'webgpu', device: 'gpu', concurrency: 1, startedAt }, 30);

    const res = await t.app.request('/v1/workers');
    expect(res.status).toBe(200);
    const { workers } = (await res.json()) as Workers;
    expect(workers).toMatchObject([
      { id: 'w-1', host: 'h1', backend: 'cpu', device: 'cpu', startedAt, running: 1 },
      { id: 'w-2', host: 'h2', backend: 'webgpu', device: 'gpu', startedAt, running: 0 },
    ]);
    // Stamped at the renewal, so it is after the start the worker reported.
    expect(Date.parse(workers[0]!.lastSeenAt!)).toBeGreaterThan(Date.parse(startedAt));
  });

  it('counts the jobs of each queue', async () => {
    await t.queues.trials.cpu.add('trial', { trialId: 'a', studyId: 'b' }, { jobId: 'a' });
    await t.queues.trials.gpu.add('trial', { trialId: 'c', studyId: 'b' }, { jobId: 'c', delay: 60_000 });
    await t.queues.studyEvents.pause();
    const res = await t.app.request('/v1/queues');
    expect(res.status).toBe(200);
    const { queues } = (await res.json()) as QueuesView;
    expect(queues).toEqual([
      { name: 'trials', waiting: 1, active: 0, delayed: 0, failed: 0, completed: 0, paused: false },
      { name: 'trials-gpu', waiting: 0, active: 0, delayed: 1, failed: 0, completed: 0, paused: false },
      { name: 'study-events', waiting: 0, active: 0, delayed: 0, failed: 0, completed: 0, paused: true },
    ]);
    await t.queues.studyEvents.resume();
  });

  it('serves a read-only Bull Board from local files', async () => {
    const page = await t.app.request('/ui/queues');
    expect(page.status).toBe(200);
    const text = await page.text();
    expect(text).toContain('<base href="/ui/queues/"');
    expect(text).toContain('maas queues');
    expect(text).not.toContain('https://');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    // Every script the page names is served from node_modules with a script type.
    const scripts = [...text.matchAll(/src="(static\/js\/[^"]+)"/g)].map((m) => m[1]);
    expect(scripts.length).toBeGreaterThan(0);
    for (const src of scripts) {
      const res = await t.app.request(`/ui/queues/${src}`);
      expect(res.status, src).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/javascript/);
      await res.arrayBuffer();
    }
    const api = await t.app.request('/ui/queues/api/queues');
    expect(api.status).toBe(200);
    const board = (await api.json()) as { queues: { name: string; readOnlyMode: boolean }[] };
    expect(board.queues.map((q) => [q.name, q.readOnlyMode]).sort()).toEqual([['study-events', true], ['trials', true], ['trials-gpu', true]]);
    // Nothing but reads reaches the board.
    for (const [method, path] of [['PUT', '/ui/queues/api/queues/trials/pause'], ['DELETE', '/ui/queues/api/queues/trials/clean/waiting'], ['POST', '/ui/queues/api/queues/trials/add']] as const) {
      const res = await t.app.request(path, { method, headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(res.status, `${method} ${path}`).toBe(405);
    }
    expect(await t.queues.trials.cpu.isPaused()).toBe(false);
    expect(await t.queues.trials.cpu.getJobCountByTypes('waiting')).toBe(1);
  });

  it('once keys exist: read keys see counts but no other project ids, and only the operator opens the board', async () => {
    const keys = {
      acmeRead: (await createKey(t.repo, { project: 'acme', role: 'read', name: 'r' })).secret,
      acmeAdmin: (await createKey(t.repo, { project: 'acme', role: 'admin', name: 'a' })).secret,
      acmePredict: (await createKey(t.repo, { project: 'acme', role: 'predict', name: 'p' })).secret,
      defaultRead: (await createKey(t.repo, { project: 'default', role: 'read', name: 'r' })).secret,
      defaultAdmin: (await createKey(t.repo, { project: 'default', role: 'admin', name: 'a' })).secret,
    };
    // The open/closed answer is cached for a second.
    await new Promise((r) => setTimeout(r, 1100));
    const get = (key: keyof typeof keys | null, path: string) => t.app.request(path, { headers: key ? { authorization: `Bearer ${keys[key]}` } : {} });

    // Hosts and what each worker runs tell about every project's work: only the operator sees them.
    for (const key of ['acmeRead', 'acmeAdmin', 'defaultRead'] as const) {
      const workers = await get(key, '/v1/workers');
      expect(workers.status, key).toBe(200);
      const text = await workers.text();
      const w1 = (JSON.parse(text) as Workers).workers.find((w) => w.id === 'w-1');
      expect(w1, key).toMatchObject({ backend: 'cpu', device: 'cpu', concurrency: 2 });
      expect(w1, key).not.toHaveProperty('host');
      expect(w1, key).not.toHaveProperty('running');
      expect(text).not.toContain(ids.trial);
      expect(text).not.toContain(ids.study);
      expect(text).not.toContain('"h1"');
    }
    const operator = ((await (await get('defaultAdmin', '/v1/workers')).json()) as Workers).workers.find((w) => w.id === 'w-1');
    expect(operator).toMatchObject({ host: 'h1', running: 1 });
    expect((await get('acmeRead', '/v1/queues')).status).toBe(200);
    expect((await get('acmePredict', '/v1/workers')).status).toBe(403);
    expect((await get(null, '/v1/queues')).status).toBe(401);

    expect((await get(null, '/ui/queues')).status).toBe(401);
    expect((await get(null, '/ui/queues/api/queues')).status).toBe(401);
    expect((await get('defaultRead', '/ui/queues')).status).toBe(403);
    const other = await get('acmeAdmin', '/ui/queues/api/queues');
    expect(other.status).toBe(403);
    expect(((await other.json()) as { error: { message: string } }).error.message).toContain("admin key of the project 'default'");
    expect((await get('defaultAdmin', '/ui/queues')).status).toBe(200);
    expect((await get('defaultAdmin', '/ui/queues/api/queues')).status).toBe(200);
  });
});
