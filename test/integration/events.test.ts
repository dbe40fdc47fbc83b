import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createEventLog, eventLogSettings, liveEventSchema, withEvents, type EventLog, type LiveEvent, type NewLiveEvent } from '../../src/events/index.ts';
import { createLogger } from '../../src/log.ts';
import type { ModelArtifact } from '../../src/domain.ts';
import { createRepository, type Repository } from '../../src/storage/index.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { PROVIDERS, REDIS_URL } from '../helpers/databases.ts';
import { buildSpace } from '../../src/search/index.ts';
import type { StudyConfig } from '../../src/schemas.ts';
import { wineConfig } from '../helpers/wine.ts';

/** A study the coordinator can sample trials for: the default MLP space of a tiny classification task. */
const space = buildSpace({ families: ['mlp'] }, { kind: 'tabular', task: 'classification', inputShape: [1], outputs: 2 });
const configWith = (budget: Partial<StudyConfig['budget']>): StudyConfig => ({ ...wineConfig, search: { ...wineConfig.search, space }, budget: { ...wineConfig.budget, ...budget } });

const epoch = (n: number): NewLiveEvent => ({ type: 'trial.epoch', trialId: 't', number: 0, epoch: n, metrics: { val_loss: 1 / n }, value: 1 / n });

/** Every stored event of a study, oldest first, parsed. */
async function history(redis: Redis, events: EventLog, studyId: string): Promise<{ id: string; event: LiveEvent }[]> {
  const entries = (await redis.xrange(events.keyOf(studyId), '-', '+')) as [string, string[]][];
  return entries.map(([id, fields]) => ({ id, event: liveEventSchema.parse(JSON.parse(fields[fields.indexOf('data') + 1]!)) }));
}

describe('the study event log (Redis Streams)', () => {
  const redis = new Redis(REDIS_URL);
  const prefix = `test-events-${randomUUID()}`;
  const events = createEventLog({ redis, prefix, maxLength: 50, activeTtlSeconds: 1000, endedTtlSeconds: 100 });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('appends in order, reads after an id, and deletes a study’s events', async () => {
    const study = randomUUID();
    const ids = [];
    for (let n = 1; n <= 5; n++) ids.push(await events.append(study, epoch(n)));
    expect([...ids].sort((a, b) => (a < b ? -1 : 1))).toEqual(ids);
    expect(await events.start(study, null)).toEqual({ from: '0-0', reset: null, exists: true, ended: false });
    expect(await events.start(study, ids[1]!)).toEqual({ from: ids[1], reset: null, exists: true, ended: false });
    const read = (await events.readAfter(new Map([[study, ids[1]!]]), 2)).get(study)!;
    expect(read.events.map((e) => e.id)).toEqual(ids.slice(2, 4));
    expect(read.events[0]!.event).toMatchObject({ type: 'trial.epoch', studyId: study, epoch: 3 });
    expect(new Date(read.events[0]!.event.at).getTime()).not.toBeNaN();
    expect(read).toMatchObject({ lastId: ids[3], entries: 2 });
    // An active study's stream expires only long after its last event.
    expect(await redis.ttl(events.keyOf(study))).toBeGreaterThan(100);

    await events.remove(study);
    expect(await redis.exists(events.keyOf(study))).toBe(0);
    expect(await events.start(study, ids[4]!)).toEqual({ from: ids[4], reset: null, exists: false, ended: false });
  });

  it('keeps about maxLength events, and tells a reader whose event was trimmed to start again', async () => {
    const study = randomUUID();
    const ids = [];
    for (let n = 1; n <= 400; n++) ids.push(await events.append(study, epoch(n)));
    const kept = await history(redis, events, study);
    // MAXLEN ~ trims whole nodes of the stream: about maxLength, never all 400.
    expect(kept.length).toBeGreaterThanOrEqual(50);
    expect(kept.length).toBeLessThan(400);
    expect(kept.at(-1)!.id).toBe(ids.at(-1));
    const oldest = kept[0]!.id;

    const lost = await events.start(study, ids[0]!);
    expect(lost.from).toBe('0-0');
    expect(lost.reset).toContain(`older than the oldest one kept (${oldest})`);
    // A reader at or past the oldest kept event missed nothing.
    expect(await events.start(study, oldest)).toEqual({ from: oldest, reset: null, exists: true, ended: false });
    expect((await events.start(study, ids.at(-2)!)).reset).toBeNull();
    // A new reader gets the reset too: it would otherwise count trials and draw curves from a part.
    const fresh = await events.start(study, null);
    expect(fresh).toMatchObject({ from: '0-0', exists: true, ended: false });
    expect(fresh.reset).toContain(`events before ${oldest} were dropped`);
  });

  it('appends a batch in one call, in order, keeping study.ended last', async () => {
    const study = randomUUID();
    const ids = await events.appendMany(study, [epoch(1), epoch(2), { type: 'study.ended', state: 'completed', message: 'done' }]);
    // A late trial's end and a second study.ended, in one batch.
    const late = await events.appendMany(study, [
      { type: 'trial.ended', trialId: 't', number: 0, state: 'cancelled', value: null, reason: 'study ended' },
      { type: 'study.ended', state: 'completed', message: 'again' },
    ]);
    const kept = await history(redis, events, study);
    expect(kept.map((e) => e.event.type)).toEqual(['trial.epoch', 'trial.epoch', 'trial.ended', 'study.ended']);
    expect(kept.slice(0, 2).map((e) => e.id)).toEqual(ids.slice(0, 2));
    expect(kept[2]!.id).toBe(late[0]);
    // The second study.ended answers the kept one's id, and the kept one keeps its message.
    expect(late[1]).toBe(kept[3]!.id);
    expect(kept[3]!.event).toMatchObject({ message: 'done' });
    const positions = (await redis.xrange(events.keyOf(study), '-', '+')).map(([, fields]) => fields[fields.indexOf('n') + 1]);
    expect(positions).toEqual(['1', '2', '4', '5']);
    expect(await redis.ttl(events.keyOf(study))).toBeLessThanOrEqual(100);
  });

  it("tells a reader that has a study's study.ended that nothing more will come", async () => {
    const study = randomUUID();
    const [first] = await events.appendMany(study, [epoch(1), { type: 'study.ended', state: 'failed', message: 'no trial completed' }]);
    const endId = (await history(redis, events, study)).at(-1)!.id;
    expect(await events.start(study, endId)).toEqual({ from: endId, reset: null, exists: true, ended: true });
    expect((await events.start(study, first!)).ended).toBe(false);
    expect((await events.start(study, null)).ended).toBe(false);
  });

  it('takes its retention and expiries from the configuration', async () => {
    const config = loadConfig({ EVENTS_MAX_PER_STUDY: '20', EVENTS_TTL_DAYS: '2', EVENTS_ACTIVE_TTL_DAYS: '3' });
    const configured = createEventLog({ redis, prefix, ...eventLogSettings(config) });
    const study = randomUUID();
    await configured.appendMany(study, Array.from({ length: 300 }, (_, i) => epoch(i + 1)));
    const kept = (await redis.xlen(configured.keyOf(study)));
    expect(kept).toBeGreaterThanOrEqual(20);
    expect(kept).toBeLessThan(300);
    expect(await redis.ttl(configured.keyOf(study))).toBeGreaterThan(2 * 86400);
    await configured.append(study, { type: 'study.ended', state: 'completed', message: null });
    expect(await redis.ttl(configured.keyOf(study))).toBeLessThanOrEqual(2 * 86400);
    expect(await redis.ttl(configured.keyOf(study))).toBeGreaterThan(86400);
    // The defaults, and a bad value refused naming the setting and the rule.
    expect(eventLogSettings(loadConfig({}))).toEqual({ maxLength: 10_000, activeTtlSeconds: 30 * 86400, endedTtlSeconds: 7 * 86400 });
    expect(() => loadConfig({ EVENTS_MAX_PER_STUDY: '0' })).toThrow(/EVENTS_MAX_PER_STUDY: .*10/);
    expect(() => loadConfig({ EVENTS_TTL_DAYS: 'soon' })).toThrow(/EVENTS_TTL_DAYS/);
  });

  it('keeps study.ended the last event, once, and expires an ended study sooner', async () => {
    const study = randomUUID();
    await events.append(study, epoch(1));
    await events.append(study, { type: 'champion.decision', model: 'm', version: null, moved: false, reason: 'cancelled' });
    await events.append(study, { type: 'study.ended', state: 'cancelled', message: 'cancelled by request' });
    expect(await redis.ttl(events.keyOf(study))).toBeLessThanOrEqual(100);
    // A running trial notices the cancellation later, in another process: its end goes before study.ended.
    await events.append(study, { type: 'trial.ended', trialId: 't', number: 0, state: 'cancelled', value: null, reason: 'study ended' });
    // A second end (another coordinator) adds nothing.
    await events.append(study, { type: 'study.ended', state: 'cancelled', message: 'again' });
    const types = (await history(redis, events, study)).map((e) => e.event.type);
    expect(types).toEqual(['trial.epoch', 'champion.decision', 'trial.ended', 'study.ended']);
    const last = (await history(redis, events, study)).at(-1)!.event;
    expect(last).toMatchObject({ type: 'study.ended', message: 'cancelled by request' });
    expect(await redis.ttl(events.keyOf(study))).toBeLessThanOrEqual(100);
  });
});

describe.each(PROVIDERS)('events of a study driven through the coordinator (%s)', (provider) => {
  let t: TestApp;
  const artifact: ModelArtifact = { topology: {}, weightSpecs: [], weights: new Uint8Array(4) };
  const types = async (studyId: string) => (await history(t.queues.connection, t.events, studyId)).map((e) => e.event);
  beforeAll(async () => {
    t = await startTestApp(provider);
    await t.repo.datasets.create({ projectId: 'default', id: 'ds', name: 'd', kind: 'tabular', task: 'classification', target: 'y', rows: 1, summary: {}, preprocessing: {}, features: new Float32Array(1), labels: new Float32Array(1) });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('tells every step of every trial, then the champion decision, then the end', async () => {
    const config = configWith({ maxTrials: 2, parallelism: 2, maxEpochs: 3 });
    const s = await t.repo.studies.create({ id: randomUUID(), projectId: 'default', name: 's', datasetId: 'ds', config });
    await t.coordinator.tick(s.id);
    const [a, b] = await t.repo.trials.list(s.id);
    // A worker's writes, as the trial processor makes them.
    await t.repo.trials.start(a!.id, 'w1', 'cpu');
    await t.repo.trials.recordEpoch(a!.id, 1, 1, { loss: 0.9, val_loss: 0.8 }, { value: 0.8, epoch: 1, metrics: { val_loss: 0.8 } });
    await t.repo.trials.complete(a!.id, 1, { value: 0.8, metrics: { val_loss: 0.8 }, epochs: 1, bestEpoch: 1, durationMs: 5, artifact });
    await t.repo.trials.start(b!.id, 'w1', 'cpu');
    await t.repo.trials.recordEpoch(b!.id, 1, 1, { val_loss: 0.9 }, { value: 0.9, epoch: 1, metrics: { val_loss: 0.9 } });
    await t.repo.trials.pause(b!.id, 1, { rung: 0, epoch: 1, value: 0.9, metrics: { val_loss: 0.9 }, durationMs: 5, artifact });
    expect(await t.repo.trials.promote(b!.id, 1)).toBe(true);
    // A write that changes nothing tells nothing.
    expect(await t.repo.trials.promote(b!.id, 1)).toBe(false);
    await t.repo.trials.start(b!.id, 'w2', 'cpu');
    await t.repo.trials.handBack(b!.id, 2, 10);
    await t.repo.trials.start(b!.id, 'w1', 'cpu');
    await t.repo.trials.end(b!.id, 'failed', 'NaN loss', { attempt: 3 });
    await t.coordinator.tick(s.id);

    const seen = await types(s.id);
    expect(seen.map((e) => `${e.type}${'number' in e ? ` ${e.number}` : ''}`)).toEqual([
      'study.state', 'trial.created 0', 'trial.created 1', 'study.state',
      'trial.started 0', 'trial.epoch 0', 'trial.ended 0',
      'trial.started 1', 'trial.epoch 1', 'trial.paused 1', 'trial.promoted 1', 'trial.started 1', 'trial.requeued 1', 'trial.started 1', 'trial.ended 1',
      'champion.decision', 'study.ended',
    ]);
    expect(seen.every((e) => e.studyId === s.id)).toBe(true);
    expect(seen[0]).toMatchObject({ state: 'queued', message: null });
    expect(seen[1]).toMatchObject({ trialId: a!.id, family: 'mlp', params: a!.params });
    expect(seen[3]).toMatchObject({ state: 'running' });
    expect(seen[4]).toMatchObject({ trialId: a!.id, attempt: 1, worker: 'w1', backend: 'cpu' });
    // The epoch's value is its objective metric (val_loss), not the first metric.
    expect(seen[5]).toMatchObject({ epoch: 1, metrics: { loss: 0.9, val_loss: 0.8 }, value: 0.8 });
    expect(seen[6]).toMatchObject({ state: 'completed', value: 0.8, reason: null });
    expect(seen[9]).toMatchObject({ rung: 0, epoch: 1 });
    expect(seen[10]).toMatchObject({ rung: 1 });
    expect(seen[11]).toMatchObject({ attempt: 2, worker: 'w2' });
    expect(seen[13]).toMatchObject({ attempt: 3 });
    expect(seen[14]).toMatchObject({ state: 'failed', reason: 'NaN loss' });
    const model = await t.repo.models.ofStudy(s.id);
    expect(seen[15]).toMatchObject({ type: 'champion.decision', model: 'wine', version: model!.version, moved: true });
    expect((seen[15] as { reason: string }).reason).toContain('best trial #0');
    expect(seen[16]).toMatchObject({ type: 'study.ended', state: 'completed', message: (await t.repo.studies.get(s.id))!.message });
  });

  it('never fails or holds up a write when Redis is away, slow or failing', async () => {
    const plain = createRepository(t.databaseUrl);
    const offline = new Redis(REDIS_URL, { lazyConnect: true });
    offline.disconnect();
    const working = createEventLog({ redis: t.queues.connection, prefix: t.prefix });
    const slow: EventLog = { ...working, append: () => new Promise(() => undefined) };
    const failing: EventLog = { ...working, append: () => Promise.reject(new Error('boom')) };
    try {
      for (const events of [createEventLog({ redis: offline, prefix: t.prefix }), slow, failing]) {
        const wrapped = withEvents(plain, { events, log: createLogger('error'), appendTimeoutMs: 50 });
        const s = await wrapped.studies.create({ id: randomUUID(), projectId: 'default', name: 'r', datasetId: 'ds', config: wineConfig });
        expect(await wrapped.studies.transition(s.id, ['queued'], 'cancelled', 'stop')).toBe(true);
        expect((await plain.studies.get(s.id))?.state).toBe('cancelled');
      }
    } finally {
      await plain.close();
    }
  });

  it('appends a batch of new trials in one call, and waits for a slow Redis once, not once per write', async () => {
    const plain = createRepository(t.databaseUrl);
    const working = createEventLog({ redis: t.queues.connection, prefix: t.prefix });
    const calls: string[] = [];
    // Connected but never answering.
    const slow: EventLog = {
      ...working,
      append: (_, e) => (calls.push(e.type), new Promise(() => undefined)),
      appendMany: (_, es) => (calls.push(es.map((e) => e.type).join(',')), new Promise(() => undefined)),
    };
    try {
      const wrapped = withEvents(plain, { events: slow, log: createLogger('error'), appendTimeoutMs: 50 });
      const s = await plain.studies.create({ id: randomUUID(), projectId: 'default', name: 'slow', datasetId: 'ds', config: wineConfig });
      const rows = await wrapped.trials.createAll([0, 1, 2, 3].map((number) => ({ id: randomUUID(), studyId: s.id, number, family: 'mlp', params: { units: 8 } })));
      expect(rows).toHaveLength(4);
      expect(calls).toEqual(['trial.created,trial.created,trial.created,trial.created']);
      // Redis has not answered that append: the writes that follow skip theirs rather than wait again.
      expect(await wrapped.trials.cancelQueued(s.id)).toHaveLength(4);
      expect(await wrapped.studies.transition(s.id, ['queued'], 'cancelled', 'stop')).toBe(true);
      expect(calls).toHaveLength(1);
      expect((await plain.trials.list(s.id)).map((x) => x.state)).toEqual(['cancelled', 'cancelled', 'cancelled', 'cancelled']);
    } finally {
      await plain.close();
    }
  });

  it('ends a cancelled study with study.ended last, even when a running trial ends after it', async () => {
    const config = configWith({ maxTrials: 3, parallelism: 3 });
    const s = await t.repo.studies.create({ id: randomUUID(), projectId: 'default', name: 'c', datasetId: 'ds', config });
    await t.coordinator.tick(s.id);
    const [running] = await t.repo.trials.list(s.id);
    await t.repo.trials.start(running!.id, 'w1', 'cpu');
    await t.coordinator.cancel(s.id);
    // The worker sees the cancellation at its next epoch.
    await t.repo.trials.end(running!.id, 'cancelled', 'the study ended', { attempt: 1 });

    const seen = await types(s.id);
    expect(seen.at(-1)).toMatchObject({ type: 'study.ended', state: 'cancelled', message: 'cancelled by request' });
    expect(seen.filter((e) => e.type === 'study.ended')).toHaveLength(1);
    expect(seen.filter((e) => e.type === 'trial.ended').map((e) => (e as { number: number }).number).sort()).toEqual([0, 1, 2]);
    expect(seen.find((e) => e.type === 'champion.decision')).toMatchObject({ model: 'wine', version: null, moved: false });
    expect(seen.findIndex((e) => e.type === 'champion.decision')).toBeLessThan(seen.length - 1);

    expect(await t.repo.studies.delete(s.id)).toBe('deleted');
    expect(await t.queues.connection.exists(t.events.keyOf(s.id))).toBe(0);
  });
});
