import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UnrecoverableError, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Coordinator } from '../../src/coordinator/index.ts';
import { createLogger } from '../../src/log.ts';
import { TRIALS_QUEUE } from '../../src/queue/index.ts';
import { announceWorker, listWorkers, retireWorker } from '../../src/queue/workers.ts';
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
      const states = await Promise.all(trials.map((x) => t.queues.trials.cpu.getJobState(x.id)));
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
    await t.queues.trials.cpu.remove(trial!.id);
    expect(await t.queues.trials.cpu.getJobState(trial!.id)).toBe('unknown');
    await t.coordinator.tick(studyId);
    expect(await t.queues.trials.cpu.getJobState(trial!.id)).toBe('waiting');
    await t.coordinator.cancel(studyId);
  });

  it('takes a silent trial from its attempt on a sweep: queued again under a new job, then failed when out of retries', async () => {
    const studyId = await createStudy({ maxTrials: 1, maxEpochs: 3, parallelism: 1, trialTimeoutSeconds: 1, maxRetries: 1 });
    const [trial] = await t.repo.trials.list(studyId);
    // A worker claims the trial and is never heard from again (no job runs here; the claim is made by hand).
    await t.repo.trials.start(trial!.id, 'silent-worker', 'cpu', 0);
    await t.coordinator.tick(studyId);
    expect((await t.repo.trials.get(trial!.id))?.state).toBe('running');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await t.coordinator.tick(studyId);
    expect(await t.repo.trials.get(trial!.id)).toMatchObject({ state: 'queued', retries: 1, attempts: 1 });
    expect(await t.queues.trials.cpu.getJobState(`${trial!.id}-t1`)).toBe('waiting');
    // A job of the earlier try no longer claims the trial.
    expect(await t.repo.trials.start(trial!.id, 'late-worker', 'cpu', 0)).toBeNull();

    await t.repo.trials.start(trial!.id, 'silent-worker', 'cpu', 1);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await t.coordinator.tick(studyId);
    expect(await t.repo.trials.get(trial!.id)).toMatchObject({ state: 'failed', error: 'no report for 1 s (budget.trialTimeoutSeconds) on 2 tries' });
    expect((await t.repo.studies.get(studyId))?.state).toBe('failed');
  });

  it('never creates or enqueues a trial twice when two coordinators decide at once', async () => {
    const other = new Coordinator({ repo: t.repo, queues: t.queues, log: createLogger('error'), prefix: t.prefix });
    const studyId = await createStudy({ maxTrials: 6, maxEpochs: 1, parallelism: 3 });
    await Promise.all([t.coordinator.tick(studyId), other.tick(studyId), t.coordinator.tick(studyId), other.tick(studyId)]);
    let trials = await t.repo.trials.list(studyId);
    expect(trials.map((x) => x.number)).toEqual([0, 1, 2]);

    // Two trials end; both coordinators hear of it at the same moment.
    for (const x of trials.slice(0, 2)) {
      await t.queues.trials.cpu.remove(x.id);
      await t.repo.trials.end(x.id, 'failed', 'test');
    }
    await Promise.all([t.coordinator.tick(studyId), other.tick(studyId)]);
    trials = await t.repo.trials.list(studyId);
    expect(trials.map((x) => x.number)).toEqual([0, 1, 2, 3, 4]);
    const waiting = await t.queues.trials.cpu.getJobs(['waiting']);
    const mine = waiting.filter((j) => j.data.studyId === studyId).map((j) => j.id).sort();
    expect(mine).toEqual(trials.filter((x) => x.state === 'queued').map((x) => x.id).sort());
    await t.coordinator.cancel(studyId);
    await other.stop();
  });
});

/** Heavy trials go to GPU workers while one is alive, and come back when none is; a study's `device` overrides this. */
describe.each(PROVIDERS)('device classes on %s', (provider) => {
  let t: TestApp;
  let imageId: string;
  beforeAll(async () => {
    t = await startTestApp(provider);
    const header = ['label', ...Array.from({ length: 16 }, (_, i) => `p${i}`)].join(',');
    const rows = Array.from({ length: 40 }, (_, r) => [r % 2, ...Array.from({ length: 16 }, (_, i) => ((r * 7 + i) % 256))].join(','));
    const res = await t.app.request('/v1/datasets', { method: 'POST', body: uploadForm(`${header}\n${rows.join('\n')}\n`, { name: 'tiny', kind: 'image', target: 'label', shape: '4,4,1' }) });
    imageId = ((await res.json()) as { id: string }).id;
  });
  afterAll(async () => t?.close());

  const gpuWorker = { id: 'gpu-test', host: 'test', pid: 1, backend: 'webgpu', device: 'gpu' as const, concurrency: 1, startedAt: new Date().toISOString() };
  async function study(families: string[], device?: string) {
    const res = await t.app.request('/v1/studies', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'd', datasetId: imageId, objective: { metric: 'val_loss' }, budget: { maxTrials: 2, maxEpochs: 1, parallelism: 2 }, search: { families }, seed: 2, device }),
    });
    expect(res.status, await res.clone().text()).toBe(202);
    return ((await res.json()) as { id: string }).id;
  }
  /** The state of a trial's job on each queue. */
  async function where(trialId: string) {
    const [cpu, gpu] = await Promise.all([t.queues.trials.cpu.getJobState(trialId), t.queues.trials.gpu.getJobState(trialId)]);
    return { cpu, gpu };
  }

  it('sends cnn trials to the GPU queue while a GPU worker is alive, mlp trials to the CPU queue', async () => {
    await announceWorker(t.queues.connection, t.prefix, gpuWorker, 30);
    const cnn = await t.repo.trials.list(await study(['cnn']));
    const mlp = await t.repo.trials.list(await study(['mlp']));
    for (const x of cnn) expect(await t.queues.trials.gpu.getJobState(x.id)).toBe('waiting');
    for (const x of mlp) expect(await t.queues.trials.cpu.getJobState(x.id)).toBe('waiting');

    const metrics = await (await t.app.request('/metrics')).text();
    expect(metrics).toContain('maas_workers{backend="webgpu",device="gpu"} 1');
    expect(metrics).toContain('maas_queue_jobs{device="gpu",state="waiting"} 2');
    expect(metrics).toContain('maas_queue_jobs{device="cpu",state="waiting"} 2');
    expect(metrics).toMatch(/maas_trials\{state="queued"\} 4/);

    // The GPU worker goes away: its waiting trials move to the CPU queue.
    await retireWorker(t.queues.connection, t.prefix, gpuWorker.id);
    await t.coordinator.tick(cnn[0]!.studyId);
    for (const x of cnn) {
      expect(await t.queues.trials.gpu.getJobState(x.id)).toBe('unknown');
      expect(await t.queues.trials.cpu.getJobState(x.id)).toBe('waiting');
    }
    expect(await listWorkers(t.queues.connection, t.prefix)).toEqual([]);
  });

  it("keeps every trial of a 'cpu' study on the CPU queue while a GPU worker is alive", async () => {
    await announceWorker(t.queues.connection, t.prefix, gpuWorker, 30);
    const studyId = await study(['cnn'], 'cpu');
    const trials = await t.repo.trials.list(studyId);
    expect(trials).toHaveLength(2);
    await t.coordinator.tick(studyId);
    for (const x of trials) expect(await where(x.id)).toEqual({ cpu: 'waiting', gpu: 'unknown' });
    await retireWorker(t.queues.connection, t.prefix, gpuWorker.id);
    await t.coordinator.cancel(studyId);
  });

  it("puts every trial of a 'gpu' study on the GPU queue, where it waits while no GPU worker is alive", async () => {
    expect(await listWorkers(t.queues.connection, t.prefix)).toEqual([]);
    const studyId = await study(['mlp'], 'gpu');
    const trials = await t.repo.trials.list(studyId);
    expect(trials).toHaveLength(2);
    const added = async () => Promise.all(trials.map(async (x) => (await t.queues.trials.gpu.getJob(x.id))?.timestamp));
    const before = await added();
    // A tick reconciles the jobs: unlike an 'auto' study's heavy trials, these do not move to the
    // CPU queue, nor are they added again, which would send them to the back of the queue.
    await t.coordinator.tick(studyId);
    for (const x of trials) expect(await where(x.id)).toEqual({ cpu: 'unknown', gpu: 'waiting' });
    expect(await added()).toEqual(before);
    // The depth an autoscaler reads to start a GPU worker (the test before left the GPU queue empty).
    expect(await (await t.app.request('/metrics')).text()).toContain('maas_queue_jobs{device="gpu",state="waiting"} 2');
    const view = (await (await t.app.request(`/v1/studies/${studyId}`)).json()) as { config: { device: string } };
    expect(view.config.device).toBe('gpu');
    await t.coordinator.cancel(studyId);
    for (const x of trials) expect(await where(x.id)).toEqual({ cpu: 'unknown', gpu: 'unknown' });
  });

  it("reads a study stored before `device` existed as 'auto'", async () => {
    const studyId = await study(['mlp']);
    const { config } = await t.repo.db.study.findUniqueOrThrow({ where: { id: studyId } });
    const { device, ...old } = JSON.parse(config) as Record<string, unknown>;
    expect(device).toBe('auto');
    await t.repo.db.study.update({ where: { id: studyId }, data: { config: JSON.stringify(old) } });
    expect((await t.repo.studies.get(studyId))?.config.device).toBe('auto');
    await t.coordinator.cancel(studyId);
  });
});
