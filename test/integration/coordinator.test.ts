import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UnrecoverableError, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Coordinator } from '../../src/coordinator/index.ts';
import { createLogger } from '../../src/log.ts';
import { TRIALS_QUEUE } from '../../src/queue/index.ts';
import { startTestApp, uploadForm, type TestApp } from '../helpers/app.ts';
import { PROVIDERS } from '../helpers/databases.ts';
import { eventually } from '../helpers/processes.ts';

/** The coordinator against real Redis and each database, with no trainer: jobs are driven by hand. */
describe.each(PROVIDERS)('coordinator on %s', (provider) => {
  let t: TestApp;
  let datasetId: string;
  beforeAll(async () => {
    t = await startTestApp(provider);
    const csv = readFileSync(join(import.meta.dirname, '../fixtures/wine.csv'), 'utf8');
    const res = await t.app.request('/v1/datasets', { method: 'POST', body: uploadForm(csv, { name: 'wine', kind: 'tabular', target: 'cultivar' }) });
    datasetId = ((await res.json()) as { id: string }).id;
  });
  afterAll(async () => t?.close());

  async function createStudy(budget: object): Promise<string> {
    const res = await t.app.request('/v1/studies', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'c', datasetId, objective: { metric: 'val_loss' }, budget, search: { families: ['mlp'] }, seed: 1 }),
    });
    expect(res.status).toBe(202);
    return ((await res.json()) as { id: string }).id;
  }

  it('fails a trial whose job failed for good, and then the study, naming the reason', async () => {
    const studyId = await createStudy({ maxTrials: 2, maxEpochs: 1, parallelism: 2 });
    const trials = await t.repo.trials.list(studyId);
    expect(trials.map((x) => x.state)).toEqual(['queued', 'queued']);
    // A worker that dies in a way that leaves the database untouched.
    const broken = new Worker(TRIALS_QUEUE, async () => {
      throw new UnrecoverableError('worker lost its database');
    }, { connection: t.queues.connection, prefix: t.prefix });
    await eventually(async () => {
      const states = await Promise.all(trials.map((x) => t.queues.trials.getJobState(x.id)));
      return states.every((s) => s === 'failed') ? true : undefined;
    }, 'both jobs to fail', 30_000, 100);
    await broken.close();

    await t.coordinator.tick(studyId);
    const after = await t.repo.trials.list(studyId);
    expect(after.map((x) => [x.state, x.error])).toEqual([['failed', 'worker lost its database'], ['failed', 'worker lost its database']]);
    const study = await t.repo.studies.get(studyId);
    expect(study?.state).toBe('failed');
    expect(study?.message).toBe('no trial completed: worker lost its database');
  });

  it('enqueues again a queued trial whose job has vanished', async () => {
    const studyId = await createStudy({ maxTrials: 1, maxEpochs: 1, parallelism: 1 });
    const [trial] = await t.repo.trials.list(studyId);
    await t.queues.trials.remove(trial!.id);
    expect(await t.queues.trials.getJobState(trial!.id)).toBe('unknown');
    await t.coordinator.tick(studyId);
    expect(await t.queues.trials.getJobState(trial!.id)).toBe('waiting');
    await t.coordinator.cancel(studyId);
  });

  it('never creates or enqueues a trial twice when two coordinators decide at once', async () => {
    const other = new Coordinator({ repo: t.repo, queues: t.queues, log: createLogger('error'), prefix: t.prefix });
    const studyId = await createStudy({ maxTrials: 6, maxEpochs: 1, parallelism: 3 });
    await Promise.all([t.coordinator.tick(studyId), other.tick(studyId), t.coordinator.tick(studyId), other.tick(studyId)]);
    let trials = await t.repo.trials.list(studyId);
    expect(trials.map((x) => x.number)).toEqual([0, 1, 2]);

    // Two trials end; both coordinators hear of it at the same moment.
    for (const x of trials.slice(0, 2)) {
      await t.queues.trials.remove(x.id);
      await t.repo.trials.end(x.id, 'failed', 'test');
    }
    await Promise.all([t.coordinator.tick(studyId), other.tick(studyId)]);
    trials = await t.repo.trials.list(studyId);
    expect(trials.map((x) => x.number)).toEqual([0, 1, 2, 3, 4]);
    const waiting = await t.queues.trials.getJobs(['waiting']);
    const mine = waiting.filter((j) => j.data.studyId === studyId).map((j) => j.id).sort();
    expect(mine).toEqual(trials.filter((x) => x.state === 'queued').map((x) => x.id).sort());
    await t.coordinator.cancel(studyId);
    await other.stop();
  });
});
