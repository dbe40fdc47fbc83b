import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey } from '../../src/auth/manage.ts';
import { liveEventSchema, type LiveEvent, type NewLiveEvent } from '../../src/events/index.ts';
import { startTestApp, uploadForm, type TestApp } from '../helpers/app.ts';
import { eventually } from '../helpers/processes.ts';
import { listen, readSse, type SseRead } from '../helpers/sse.ts';
import { wineConfig } from '../helpers/wine.ts';

const epoch = (n: number): NewLiveEvent => ({ type: 'trial.epoch', trialId: 't', number: 0, epoch: n, metrics: { val_loss: 1 / n }, value: 1 / n });

/** The ids a study's stream holds now, oldest first. */
async function storedIds(t: TestApp, studyId: string): Promise<string[]> {
  return ((await t.queues.connection.xrange(t.events.keyOf(studyId), '-', '+')) as [string, string[]][]).map(([id]) => id);
}

/** Each message is a well-formed event of the study: its `event:` is the type of its one-line JSON data. */
function parsed(read: SseRead, studyId: string): LiveEvent[] {
  return read.events.map((m) => {
    expect(m.data).not.toContain('\n');
    const event = liveEventSchema.parse(JSON.parse(m.data));
    expect(m.event).toBe(event.type);
    expect(event.studyId).toBe(studyId);
    return event;
  });
}

describe('GET /v1/studies/{id}/events', () => {
  let t: TestApp;
  let server: Awaited<ReturnType<typeof listen>>;
  const auth: Record<'acme' | 'acme2' | 'globex', Record<string, string>> = { acme: {}, acme2: {}, globex: {} };
  let studyId: string;
  const url = (id = studyId, query = '') => `${server.url}/v1/studies/${id}/events${query}`;

  beforeAll(async () => {
    t = await startTestApp('sqlite', { app: { eventStreams: { heartbeatMs: 100, maxPerPrincipal: 2, maxTotal: 3, retryAfterSeconds: 7 } } });
    for (const [name, project] of [['acme', 'acme'], ['acme2', 'acme'], ['globex', 'globex']] as const) {
      auth[name] = { authorization: `Bearer ${(await createKey(t.repo, { project, role: 'read', name })).secret}` };
    }
    await t.repo.datasets.create({ projectId: 'acme', id: 'ds', name: 'd', kind: 'tabular', task: 'classification', target: 'y', rows: 1, summary: {}, preprocessing: {}, features: new Float32Array(1), labels: new Float32Array(1) });
    // Its creation is the stream's first event.
    studyId = (await t.repo.studies.create({ id: randomUUID(), projectId: 'acme', name: 's', datasetId: 'ds', config: wineConfig })).id;
    server = await listen(t.app);
  });
  afterAll(async () => {
    await server?.close();
    await t?.close();
  });

  it('sends the history, then live events; a client that resumes with Last-Event-ID misses none and repeats none', async () => {
    for (let n = 1; n <= 20; n++) await t.events.append(studyId, epoch(n));
    const first = await readSse(url(), { headers: auth.acme, until: (r) => r.events.length >= 8 });
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toContain('text/event-stream');
    expect(parsed(first, studyId)[0]).toMatchObject({ type: 'study.state', state: 'queued' });

    // Appended while the client is away, then while it is back.
    for (let n = 21; n <= 30; n++) await t.events.append(studyId, epoch(n));
    let live = false;
    const second = readSse(url(), {
      headers: { ...auth.acme, 'last-event-id': first.events.at(-1)!.id! },
      until: (r) => {
        if (r.events.length > 0 && !live) {
          live = true;
          void (async () => {
            for (let n = 31; n <= 35; n++) await t.events.append(studyId, epoch(n));
          })();
        }
        return r.events.some((e) => (JSON.parse(e.data) as { epoch?: number }).epoch === 35);
      },
    });
    const rest = await second;
    parsed(rest, studyId);
    const seen = [...first.events, ...rest.events].map((e) => e.id);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(await storedIds(t, studyId));
    expect(seen).toHaveLength(36);

    // ?after= does the same for a client that cannot set headers.
    const after = await readSse(url(studyId, `?after=${seen[29]}`), { headers: auth.acme, until: (r) => r.events.length >= 6 });
    expect(after.events.map((e) => e.id)).toEqual(seen.slice(30));
  });

  it('keeps a quiet stream alive with ": ping" comments', async () => {
    const quiet = await readSse(url(), { headers: { ...auth.acme, 'last-event-id': (await storedIds(t, studyId)).at(-1)! }, until: (r) => r.comments.length >= 2 });
    expect(quiet.events).toEqual([]);
    expect(quiet.comments.slice(0, 2)).toEqual(['ping', 'ping']);
  });

  it('starts a client whose event is no longer kept with a reset, then from the oldest kept event', async () => {
    const trimmed = (await t.repo.studies.create({ id: randomUUID(), projectId: 'acme', name: 'old', datasetId: 'ds', config: wineConfig })).id;
    await t.queues.connection.del(t.events.keyOf(trimmed));
    // As the log leaves a stream whose first four events were trimmed away.
    for (let n = 5; n <= 7; n++) {
      const data = JSON.stringify({ ...epoch(n), studyId: trimmed, at: new Date().toISOString() });
      await t.queues.connection.xadd(t.events.keyOf(trimmed), '*', 'type', 'trial.epoch', 'data', data, 'n', String(n));
    }
    const read = await readSse(url(trimmed), { headers: { ...auth.acme, 'last-event-id': '1-0' }, until: (r) => r.events.length >= 4 });
    const [reset, ...rest] = parsed(read, trimmed);
    expect(reset).toMatchObject({ type: 'reset' });
    expect((reset as { reason: string }).reason).toContain('older than the oldest one kept');
    expect(read.events[0]!.id).toBeUndefined();
    expect(read.events.slice(1).map((e) => e.id)).toEqual(await storedIds(t, trimmed));
    expect(rest.map((e) => (e as { epoch: number }).epoch)).toEqual([5, 6, 7]);

    // A new client is told too: what it gets is not the study's whole history.
    const fresh = await readSse(url(trimmed), { headers: auth.acme, until: (r) => r.events.length >= 4 });
    const [first, ...kept] = parsed(fresh, trimmed);
    expect(first).toMatchObject({ type: 'reset', reason: expect.stringContaining('were dropped') });
    expect(fresh.events[0]!.id).toBeUndefined();
    expect(kept.map((e) => (e as { epoch: number }).epoch)).toEqual([5, 6, 7]);
  });

  it("ends the stream after study.ended, and answers 204 to a client that already has it", async () => {
    const ended = (await t.repo.studies.create({ id: randomUUID(), projectId: 'acme', name: 'done', datasetId: 'ds', config: wineConfig })).id;
    await t.events.append(ended, epoch(1));
    await t.repo.studies.transition(ended, ['queued'], 'cancelled', 'cancelled by request');
    // A new client gets the whole history, and the server closes the stream after its last event.
    const whole = await readSse(url(ended), { headers: auth.acme });
    expect(whole).toMatchObject({ status: 200, ended: 'server' });
    expect(parsed(whole, ended).map((e) => e.type)).toEqual(['study.state', 'trial.epoch', 'champion.decision', 'study.ended']);
    expect(whole.events.map((e) => e.id)).toEqual(await storedIds(t, ended));
    // EventSource reconnects with the last id it got; 204 stops it.
    const again = await readSse(url(ended), { headers: { ...auth.acme, 'last-event-id': whole.events.at(-1)!.id! } });
    expect(again).toMatchObject({ status: 204, events: [] });
    expect((await readSse(url(ended, `?after=${whole.events.at(-1)!.id!}`), { headers: auth.acme })).status).toBe(204);
    // A client that stopped before the end gets the rest, up to study.ended, and the end.
    const rest = await readSse(url(ended), { headers: { ...auth.acme, 'last-event-id': whole.events[1]!.id! } });
    expect(rest).toMatchObject({ status: 200, ended: 'server' });
    expect(parsed(rest, ended).map((e) => e.type)).toEqual(['champion.decision', 'study.ended']);
  });

  it('answers HEAD with the headers only, holding no stream', async () => {
    // More than one key may hold open: a HEAD that started a stream would be refused by the third.
    for (let i = 0; i < 3; i++) {
      const res = await fetch(url(), { method: 'HEAD', headers: auth.acme });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/event-stream');
      expect(await res.text()).toBe('');
    }
    expect((await fetch(url(), { method: 'HEAD', headers: auth.globex })).status).toBe(404);
    const open = await readSse(url(), { headers: auth.acme, until: (r) => r.events.length > 0 });
    expect(open.status).toBe(200);
  });

  it('tells an ended study whose history has expired, and closes', async () => {
    const ended = (await t.repo.studies.create({ id: randomUUID(), projectId: 'acme', name: 'gone', datasetId: 'ds', config: wineConfig })).id;
    await t.repo.studies.transition(ended, ['queued'], 'cancelled', 'cancelled by request');
    await t.queues.connection.del(t.events.keyOf(ended));
    const read = await readSse(url(ended), { headers: auth.acme });
    expect(read.ended).toBe('server');
    expect(parsed(read, ended).map((e) => e.type)).toEqual(['reset', 'study.ended']);
    expect(parsed(read, ended)[1]).toMatchObject({ state: 'cancelled', message: 'cancelled by request' });
    // study.ended comes under an id made of the end time: coming back with it answers 204.
    const endedAt = (await t.repo.studies.get(ended))!.endedAt!;
    expect(read.events.map((e) => e.id)).toEqual([undefined, `${endedAt.getTime()}-0`]);
    expect((await readSse(url(ended), { headers: { ...auth.acme, 'last-event-id': read.events[1]!.id! } })).status).toBe(204);
    // One that last saw an older event is told again.
    const older = await readSse(url(ended), { headers: { ...auth.acme, 'last-event-id': '1-0' } });
    expect(parsed(older, ended).map((e) => e.type)).toEqual(['reset', 'study.ended']);
  });

  it('refuses a bad Last-Event-ID or after, naming it', async () => {
    const header = await readSse(url(), { headers: { ...auth.acme, 'last-event-id': 'nonsense' } });
    expect(header.status).toBe(400);
    expect(header.body).toContain('last-event-id');
    expect(header.body).toContain('<milliseconds>-<sequence>');
    const query = await readSse(url(studyId, '?after=1-2-3'), { headers: auth.acme });
    expect(query.status).toBe(400);
    expect(query.body).toContain('after');
  });

  it("answers another project's study like a missing one: 404", async () => {
    const other = await readSse(url(), { headers: auth.globex });
    expect(other.status).toBe(404);
    expect(other.body).toContain(`study '${studyId}' does not exist`);
    expect((await readSse(url('no-such-study'), { headers: auth.acme })).status).toBe(404);
  });

  it('caps the streams of one key (429) and of the server (503), with Retry-After', async () => {
    let release = false;
    const opened: Promise<SseRead>[] = [];
    // Held open until released: each has its slot once the history has arrived.
    const hold = (headers: Record<string, string>) =>
      new Promise<void>((open) => {
        opened.push(readSse(url(), { headers, until: (r) => (r.events.length > 0 && open(), release) }));
      });
    await hold(auth.acme);
    await hold(auth.acme);
    const third = await readSse(url(), { headers: auth.acme });
    expect(third.status).toBe(429);
    expect(third.headers.get('retry-after')).toBe('7');
    expect(third.body).toContain('already has 2 event streams open');

    await hold(auth.acme2);
    const full = await readSse(url(), { headers: auth.acme2 });
    expect(full.status).toBe(503);
    expect(full.headers.get('retry-after')).toBe('7');
    expect(full.body).toContain('3 event streams open');

    release = true;
    await Promise.all(opened);
    // A slot is given back once the server sees its client gone.
    await eventually(async () => {
      const again = await readSse(url(), { headers: auth.acme2, until: (r) => r.events.length > 0 });
      return again.status === 200 ? true : undefined;
    }, 'a stream to open again', 10_000, 100);
  });
});

describe('the events of a real small study, followed over SSE', () => {
  let t: TestApp;
  let server: Awaited<ReturnType<typeof listen>>;
  beforeAll(async () => {
    // A short lifetime: the client below follows the study across the server's closes, resuming with Last-Event-ID.
    t = await startTestApp('sqlite', { withWorker: true, app: { eventStreams: { maxLifetimeMs: 1500 } } });
    server = await listen(t.app);
  });
  afterAll(async () => {
    await server?.close();
    await t?.close();
  });

  it('tells each trial created, started, its epochs and its end, then the champion decision, and study.ended last', async () => {
    const csv = readFileSync(join(import.meta.dirname, '../fixtures/wine.csv'), 'utf8');
    const upload = await t.app.request('/v1/datasets', { method: 'POST', body: uploadForm(csv, { name: 'wine', kind: 'tabular', target: 'cultivar' }) });
    const datasetId = ((await upload.json()) as { id: string }).id;
    const res = await t.app.request('/v1/studies', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'live', datasetId, objective: { metric: 'val_accuracy' }, budget: { maxTrials: 2, maxEpochs: 2, parallelism: 1 }, search: { families: ['mlp'] }, seed: 3 }),
    });
    expect(res.status).toBe(202);
    const studyId = ((await res.json()) as { id: string }).id;

    const messages: SseRead['events'] = [];
    for (let connections = 0; !messages.some((m) => m.event === 'study.ended'); connections++) {
      expect(connections).toBeLessThan(500);
      const last = messages.at(-1)?.id;
      const read = await readSse(`${server.url}/v1/studies/${studyId}/events`, {
        headers: last ? { 'last-event-id': last } : {},
        until: (r) => r.events.some((m) => m.event === 'study.ended'),
      });
      expect(read.status).toBe(200);
      messages.push(...read.events);
    }
    const ids = messages.map((m) => m.id);
    expect(ids).toEqual(await storedIds(t, studyId));
    const events = parsed({ events: messages } as SseRead, studyId);
    const types = events.map((e) => e.type);
    expect(types.at(-1)).toBe('study.ended');
    expect(types.at(-2)).toBe('champion.decision');
    expect(types[0]).toBe('study.state');
    expect(events.at(-1)).toMatchObject({ state: 'completed' });
    const version = await t.repo.models.ofStudy(studyId);
    expect(events.at(-2)).toMatchObject({ model: version!.modelName, version: version!.version });

    const trials = await t.repo.trials.list(studyId);
    expect(trials).toHaveLength(2);
    for (const trial of trials) {
      const mine = events.filter((e) => 'trialId' in e && e.trialId === trial.id);
      expect(mine.map((e) => e.type)).toEqual(['trial.created', 'trial.started', ...Array<string>(trial.epochs).fill('trial.epoch'), 'trial.ended']);
      const epochs = mine.filter((e): e is Extract<LiveEvent, { type: 'trial.epoch' }> => e.type === 'trial.epoch');
      expect(epochs.map((e) => e.epoch)).toEqual(Array.from({ length: trial.epochs }, (_, i) => i + 1));
      for (const e of epochs) expect(e.value).toBe(e.metrics.val_accuracy);
      expect(mine.at(-1)).toMatchObject({ state: trial.state, value: trial.value });
    }

    // A client that comes back after study.ended is told there is nothing more.
    const after = await readSse(`${server.url}/v1/studies/${studyId}/events`, { headers: { 'last-event-id': ids.at(-1)! } });
    expect(after).toMatchObject({ status: 204, events: [] });
  });
});
