import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LiveEvent } from '../../src/events/index.ts';
import { startTestApp, studyEnd, type TestApp } from '../helpers/app.ts';
import { listen, readSse } from '../helpers/sse.ts';
import { PROVIDERS } from '../helpers/databases.ts';
import { createSignsDataset } from '../helpers/signs.ts';

/**
 * Continuing a study: a completed one runs again from its history with a raised budget (new
 * trials numbered after its last, a new version only when its best changed, its events going on
 * after its first end), a running one takes the raised budget, and a bad budget is refused
 * naming the field and the rule. Real worker, both databases.
 */

interface StudyView {
  id: string;
  state: string;
  message: string | null;
  counts: Record<string, number>;
  config: { budget: { maxTrials: number; timeLimitSeconds?: number } };
  best: { id: string; number: number } | null;
  model: { name: string; version: number } | null;
  resumedAt: string | null;
  runningSeconds: number;
}

interface ErrorBody {
  error: { message: string; issues?: { field: string; rule: string }[] };
}

describe.each(PROVIDERS)('continuing a study on %s', (provider) => {
  let t: TestApp;
  let datasetId: string;

  beforeAll(async () => {
    t = await startTestApp(provider, { withWorker: true });
    datasetId = await createSignsDataset(t.repo);
  });
  afterAll(async () => t?.close());

  const post = (path: string, body: unknown) => t.app.request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const get = async (id: string) => (await (await t.app.request(`/v1/studies/${id}`)).json()) as StudyView;

  async function start(name: string, maxTrials: number, extra: Record<string, unknown> = {}): Promise<string> {
    const res = await post('/v1/studies', {
      name, datasetId, promoteTo: name, objective: { metric: 'val_loss' }, budget: { maxTrials, maxEpochs: 2 },
      search: { algorithm: 'tpe', options: { nStartupTrials: 2 }, families: ['mlp'], space: { mlp: { layers: 1, units: { type: 'categorical', choices: [4, 8, 16] }, learningRate: { type: 'float', low: 0.001, high: 0.1, log: true }, batchSize: 8, dropout: 0, optimizer: 'adam' } } },
      earlyStopping: { patience: 2 }, seed: 7, ...extra,
    });
    const body = (await res.json()) as { id: string };
    expect(res.status, JSON.stringify(body)).toBe(202);
    return body.id;
  }

  async function ended(id: string): Promise<StudyView> {
    const end = await studyEnd(t.repo, id, 120_000);
    expect(end.state, end.errors).toBe('completed');
    return get(id);
  }

  /** Every stored event of the study, oldest first. */
  async function events(id: string): Promise<LiveEvent[]> {
    const start = await t.events.start(id, null);
    const batch = (await t.events.readAfter(new Map([[id, start.from]]), 10_000)).get(id);
    return (batch?.events ?? []).map((e) => e.event);
  }

  it('runs a completed study again from its history, registering a version only for a new best', async () => {
    const id = await start('again', 3);
    const first = await ended(id);
    expect(first.model).toMatchObject({ name: 'again', version: 1 });
    const registeredBefore = await t.repo.models.ofStudy(id);

    const res = await post(`/v1/studies/${id}/continue`, { maxTrials: 6 });
    const continued = (await res.json()) as StudyView;
    expect(res.status, JSON.stringify(continued)).toBe(200);
    expect(continued.state).toMatch(/^(queued|running)$/);
    expect(continued.message).toBe('continued after it completed: maxTrials 3 → 6');
    expect(continued.config.budget.maxTrials).toBe(6);
    expect(continued.resumedAt).not.toBeNull();

    const last = await ended(id);
    const trials = await t.repo.trials.list(id);
    expect(trials.map((x) => x.number)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(trials.every((x) => x.state === 'completed')).toBe(true);
    // Each records what its model costs beside its validation metrics, measured by the worker.
    for (const x of trials) {
      expect(x.metrics).toMatchObject({ param_count: expect.any(Number), predict_ms_per_row: expect.any(Number), train_seconds: expect.any(Number) });
      expect(x.metrics!.param_count).toBeGreaterThan(0);
      expect(x.metrics!.predict_ms_per_row).toBeGreaterThan(0);
      expect(x.metrics!.train_seconds).toBeGreaterThan(0);
    }
    // Its clock kept what it ran before and stopped at its new end.
    expect(last.runningSeconds).toBeGreaterThanOrEqual(first.runningSeconds);
    const registered = (await t.repo.models.ofStudy(id))!;
    expect(registered.trialId).toBe(last.best!.id);
    const versions = await t.repo.models.versions('default', 'again');
    if (last.best!.id === registeredBefore!.trialId) {
      expect(versions).toHaveLength(1);
      expect(last.message).toContain('is still the one registered as again v1');
    } else {
      expect(versions.map((v) => v.version)).toEqual([1, 2]);
      expect(last.model).toMatchObject({ name: 'again', version: 2 });
    }

    // The event log: the first end gave way to study.continued; one study.ended, last.
    const log = await events(id);
    const kinds = log.map((e) => e.type);
    expect(kinds.filter((k) => k === 'study.ended')).toHaveLength(1);
    expect(kinds.at(-1)).toBe('study.ended');
    const at = kinds.indexOf('study.continued');
    expect(log[at]).toMatchObject({ maxTrials: 6, reopened: true, timeLimitSeconds: null });
    expect(log.filter((e) => e.type === 'trial.created').map((e) => (e as { number: number }).number)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(log.slice(at).filter((e) => e.type === 'trial.created')).toHaveLength(3);

    // Nothing left to do with the same budget: 409 says what to raise.
    const again = await post(`/v1/studies/${id}/continue`, { maxTrials: 6 });
    expect(again.status).toBe(409);
    expect(((await again.json()) as ErrorBody).error.message).toContain('raise maxTrials above 6');
  });

  it('gives a running study a larger budget, and registers one version', async () => {
    // Epochs enough that it is still running when the raise arrives.
    const id = await start('raised', 2, { budget: { maxTrials: 2, maxEpochs: 40 }, earlyStopping: { patience: 40 } });
    const res = await post(`/v1/studies/${id}/continue`, { maxTrials: 3, timeLimitSeconds: 3600 });
    const body = (await res.json()) as StudyView;
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.message).toBe('continued: maxTrials 2 → 3, timeLimitSeconds none → 3600');
    expect(body.resumedAt).toBeNull();
    const last = await ended(id);
    expect(last.counts.completed).toBe(3);
    expect(last.config.budget).toMatchObject({ maxTrials: 3, timeLimitSeconds: 3600 });
    expect(await t.repo.models.versions('default', 'raised')).toHaveLength(1);
    const log = await events(id);
    expect(log.find((e) => e.type === 'study.continued')).toMatchObject({ maxTrials: 3, timeLimitSeconds: 3600, reopened: false });
  });

  it('starts a study warm from another: a grid skips the points the other study tried', async () => {
    const grid = { algorithm: 'grid', families: ['mlp'], space: { mlp: { layers: 1, units: { type: 'categorical', choices: [4, 8, 16, 32] }, activation: 'relu', batchNorm: false, classWeight: 'none', learningRate: 0.05, batchSize: 8, dropout: 0, optimizer: 'adam' } } };
    const source = await start('grid-first', 2, { search: grid });
    await ended(source);
    const tried = (await t.repo.trials.list(source)).map((x) => x.params.units).sort();
    expect(tried).toHaveLength(2);

    const warm = await start('grid-warm', 4, { search: { ...grid, warmStartFrom: source } });
    const last = await ended(warm);
    const units = (await t.repo.trials.list(warm)).map((x) => x.params.units);
    // Only the two untried points: then the grid is exhausted and the study completes.
    expect([...units, ...tried].sort((a, b) => Number(a) - Number(b))).toEqual([4, 8, 16, 32]);
    expect(last.message).toContain('every point of the search space tried');
    expect(last.config).toMatchObject({ search: { warmStartFrom: source } });

    const refuse = async (warmStartFrom: string, rule: string, extra: Record<string, unknown> = {}) => {
      const res = await post('/v1/studies', {
        name: 'refused-warm', datasetId, objective: { metric: 'val_loss' }, budget: { maxTrials: 1, maxEpochs: 1 }, search: { ...grid, warmStartFrom }, ...extra,
      });
      const text = await res.text();
      expect(res.status, text).toBe(400);
      expect(text).toContain('search.warmStartFrom');
      expect(text).toContain(rule);
    };
    await refuse(randomUUID(), 'does not name a study of this project');
    await refuse(source, 'is a study that minimizes val_loss; it must maximize val_accuracy', { objective: { metric: 'val_accuracy' } });
  });

  it('does not end a stream at a study.ended that a continue made stale', async () => {
    const id = await start('stale', 1);
    await ended(id);
    expect((await post(`/v1/studies/${id}/continue`, { maxTrials: 2 })).status).toBe(200);
    // The first end's event, appended after the continue (another process, late): the log now ends with it.
    await t.events.append(id, { type: 'study.ended', state: 'completed', message: 'stale end' });
    const server = await listen(t.app);
    try {
      const read = await readSse(`${server.url}/v1/studies/${id}/events`, { until: (r) => r.events.some((e) => e.event === 'study.ended') });
      const last = await get(id);
      expect(last.state).toBe('completed');
      const events = read.events.map((e) => JSON.parse(e.data) as LiveEvent);
      const end = events.at(-1)!;
      // Sent once, at the real end, as the database has it.
      expect(events.filter((e) => e.type === 'study.ended')).toHaveLength(1);
      expect(end).toMatchObject({ type: 'study.ended', state: 'completed', message: last.message });
      expect(events.filter((e) => e.type === 'trial.ended').map((e) => (e as { number: number }).number)).toEqual([0, 1]);
    } finally {
      await server.close();
    }
  });

  it('refuses a budget that is not larger, naming the field and the rule, and changes nothing', async () => {
    const id = await start('refused', 1, { budget: { maxTrials: 1, maxEpochs: 2, timeLimitSeconds: 600 } });
    await ended(id);
    const refuse = async (body: unknown, status: number, field: string, rule: string) => {
      const res = await post(`/v1/studies/${id}/continue`, body);
      const text = await res.text();
      expect(res.status, text).toBe(status);
      expect(text).toContain(field);
      expect(text).toContain(rule);
    };
    await refuse({}, 400, 'maxTrials', 'or timeLimitSeconds is required');
    await refuse({ maxTrials: 0 }, 400, 'maxTrials', '');
    await refuse({ maxTrials: 10_001 }, 400, 'maxTrials', '');
    await refuse({ budget: { maxTrials: 5 } }, 400, 'budget', '');
    await refuse({ timeLimitSeconds: 300 }, 400, 'timeLimitSeconds', "must be at least the study's current 600");
    await refuse({ timeLimitSeconds: 900 }, 409, 'raise maxTrials above 1', '');
    const unchanged = await get(id);
    expect(unchanged).toMatchObject({ state: 'completed', config: { budget: { maxTrials: 1, timeLimitSeconds: 600 } }, resumedAt: null });

    expect((await post(`/v1/studies/${randomUUID()}/continue`, { maxTrials: 5 })).status).toBe(404);
    const cancelled = await start('cancelled', 5);
    expect((await post(`/v1/studies/${cancelled}/cancel`, {})).status).toBe(200);
    const res = await post(`/v1/studies/${cancelled}/continue`, { maxTrials: 9 });
    expect(res.status).toBe(409);
    expect(((await res.json()) as ErrorBody).error.message).toContain('was cancelled; only a queued, running or completed study can be continued');
  });
});
