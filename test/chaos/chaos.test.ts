/**
 * Fault injection on real processes: `maas api` (with its coordinator), three `maas worker`s,
 * a redis-server of the suite's own with append-only persistence, and PostgreSQL. Each test runs
 * a study, injects one fault while trials train, and then checks the database: the study
 * completed, every trial number exists once and completed, every curve runs 1..epochs without a
 * gap, and one model version was promoted. `npm run test:chaos` runs only this suite; `npm test`
 * runs it too.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepository, type Repository } from '../../src/storage/index.ts';
import { freshDatabase, type TestDatabase } from '../helpers/databases.ts';
import { mnistCsv, mnistRows } from '../helpers/mnist.ts';
import { eventually, freePort, startMaas, stopAll, type MaasProcess } from '../helpers/processes.ts';
import { startRedis, type RedisProcess } from '../helpers/redis-process.ts';

const TRIALS = 6;
const EPOCHS = 6;

describe('chaos: faults while studies run', () => {
  let database: TestDatabase;
  let repo: Repository;
  let redis: RedisProcess;
  let env: Record<string, string>;
  let base: string;
  let api: MaasProcess;
  let datasetId: string;
  const prefix = `chaos-${randomUUID()}`;
  const processes: MaasProcess[] = [];
  const workers: MaasProcess[] = [];

  const startWorker = async () => {
    const worker = startMaas('worker', env);
    processes.push(worker);
    workers.push(worker);
    await worker.waitForLog('worker ready');
    return worker;
  };
  const startApi = async (port: number) => {
    const p = startMaas('api', { ...env, PORT: String(port) });
    processes.push(p);
    await p.waitForLog('api listening');
    return p;
  };

  beforeAll(async () => {
    redis = await startRedis();
    database = await freshDatabase('postgresql');
    repo = createRepository(database.url);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    // Short locks and sweeps, so lost work is noticed within seconds.
    env = { DATABASE_URL: database.url, REDIS_URL: redis.url, QUEUE_PREFIX: prefix, COORDINATOR_INTERVAL_MS: '1000', TRIAL_LOCK_MS: '5000', WORKER_GRACE_MS: '10000' };
    api = await startApi(port);
    for (let i = 0; i < 3; i++) await startWorker();
    const form = new FormData();
    form.set('file', new File([mnistCsv(mnistRows(0, 30))], 'digits.csv'));
    form.set('name', 'digits');
    form.set('kind', 'image');
    form.set('target', 'label');
    datasetId = ((await (await fetch(`${base}/v1/datasets`, { method: 'POST', body: form })).json()) as { id: string }).id;
  }, 120_000);

  afterAll(async () => {
    await stopAll(processes, prefix, redis.url);
    await redis?.stop();
    await repo?.close();
    await database?.drop();
  });

  async function study(name: string): Promise<string> {
    const res = await fetch(`${base}/v1/studies`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name,
        datasetId,
        objective: { metric: 'val_loss' },
        budget: { maxTrials: TRIALS, maxEpochs: EPOCHS, parallelism: 3 },
        search: { families: ['mlp'], space: { mlp: { layers: 2, units: 64, batchSize: 32 } } },
        earlyStopping: { patience: EPOCHS },
        seed: 5,
      }),
    });
    expect(res.status).toBe(202);
    return ((await res.json()) as { id: string }).id;
  }

  const midTraining = (studyId: string) =>
    eventually(async () => (await repo.trials.list(studyId)).find((t) => t.state === 'running' && t.epochs >= 1), 'a trial mid-training', 120_000, 50);

  /** The study completes and the database holds every trial once, each with a whole curve. */
  async function expectWhole(studyId: string): Promise<void> {
    const ended = await eventually(async () => {
      const s = await repo.studies.get(studyId);
      return s && !['queued', 'running'].includes(s.state) ? s : undefined;
    }, 'the study to end', 240_000);
    expect(ended.state, ended.message ?? '').toBe('completed');
    const trials = await repo.trials.list(studyId);
    expect(trials.map((t) => t.number)).toEqual(Array.from({ length: TRIALS }, (_, i) => i));
    for (const t of trials) {
      expect(t.state, `trial ${t.number}: ${t.error}`).toBe('completed');
      expect(t.epochs).toBe(EPOCHS);
      expect((await repo.trials.curve(t.id)).map((e) => e.epoch)).toEqual(Array.from({ length: EPOCHS }, (_, i) => i + 1));
    }
    expect((await repo.models.versions('default', ended.promoteTo)).filter((v) => v.studyId === studyId)).toHaveLength(1);
  }

  it('survives a worker killed with SIGKILL mid-trial', { timeout: 300_000 }, async () => {
    const id = await study('kill-worker');
    const victim = await midTraining(id);
    const doomed = workers.find((w) => w.log().includes(victim.worker ?? '-')) ?? workers[0]!;
    await doomed.kill('SIGKILL');
    workers.splice(workers.indexOf(doomed), 1);
    await startWorker();
    await expectWhole(id);
  });

  it('survives a coordinator (api) restart mid-study', { timeout: 300_000 }, async () => {
    const id = await study('restart-coordinator');
    await midTraining(id);
    expect(await api.kill('SIGTERM')).toBe(0);
    api = await startApi(Number(new URL(base).port));
    await expectWhole(id);
  });

  it('survives a redis-server restart (append-only): workers and api reconnect by themselves', { timeout: 300_000 }, async () => {
    const id = await study('restart-redis');
    await midTraining(id);
    await redis.restart();
    await expectWhole(id);
    await eventually(async () => (api.log().includes('redis connection restored') ? true : undefined), 'the api to log its reconnection', 30_000);
    for (const w of workers) expect(w.log()).toContain('redis connection restored');
  });

  it('survives a worker stopped with SIGTERM: it hands its trial back and exits 0', { timeout: 300_000 }, async () => {
    const id = await study('sigterm-worker');
    const running = await midTraining(id);
    const leaving = workers.find((w) => w.log().includes(running.worker ?? '-')) ?? workers[0]!;
    expect(await leaving.kill('SIGTERM')).toBe(0);
    workers.splice(workers.indexOf(leaving), 1);
    await startWorker();
    await expectWhole(id);
  });

  it('runs two coordinators at once without double-enqueueing', { timeout: 300_000 }, async () => {
    const second = await startApi(await freePort());
    const id = await study('two-coordinators');
    await expectWhole(id);
    // Both decided throughout; trial numbers are unique and job ids are trial ids, so neither could add a trial or a job twice.
    expect(second.child.exitCode).toBeNull();
    expect(await repo.trials.list(id)).toHaveLength(TRIALS);
  });
});
