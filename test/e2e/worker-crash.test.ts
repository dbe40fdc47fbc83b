import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepository, type Repository } from '../../src/storage/index.ts';
import { freshDatabase, PROVIDERS, REDIS_URL, type TestDatabase } from '../helpers/databases.ts';
import { mnistCsv, mnistRows } from '../helpers/mnist.ts';
import { eventually, freePort, startMaas, stopAll, type MaasProcess } from '../helpers/processes.ts';

/**
 * A worker killed with SIGKILL in the middle of a trial: BullMQ's stalled-job
 * recovery hands the trial to another worker, which continues it from its last
 * checkpointed epoch, and the study still completes with every trial recorded
 * exactly once. A worker sent SIGTERM hands its trial back after the running
 * epoch and exits 0.
 */
describe.each(PROVIDERS)('a worker killed mid-trial on %s', (provider) => {
  let database: TestDatabase;
  let repo: Repository;
  let base: string;
  let env: Record<string, string>;
  const prefix = `crash-${randomUUID()}`;
  const processes: MaasProcess[] = [];

  beforeAll(async () => {
    database = await freshDatabase(provider);
    repo = createRepository(database.url);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    // A short lock so the dead worker's trial is noticed within seconds.
    env = { DATABASE_URL: database.url, REDIS_URL, QUEUE_PREFIX: prefix, PORT: String(port), COORDINATOR_INTERVAL_MS: '1000', TRIAL_LOCK_MS: '3000' };
    const api = startMaas('api', env);
    processes.push(api);
    await api.waitForLog('api listening');
  });

  afterAll(async () => {
    await stopAll(processes, prefix);
    await repo?.close();
    await database?.drop();
  });

  it('hands the trial to another worker and completes the study with each trial once', async () => {
    const form = new FormData();
    form.set('file', new File([mnistCsv(mnistRows(0, 40))], 'digits.csv'));
    form.set('name', 'digits');
    form.set('kind', 'image');
    form.set('target', 'label');
    const dataset = (await (await fetch(`${base}/v1/datasets`, { method: 'POST', body: form })).json()) as { id: string };

    const doomed = startMaas('worker', env);
    processes.push(doomed);
    await doomed.waitForLog('worker ready');
    const res = await fetch(`${base}/v1/studies`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'crash',
        datasetId: dataset.id,
        objective: { metric: 'val_loss' },
        budget: { maxTrials: 3, maxEpochs: 6, parallelism: 1 },
        search: { families: ['mlp'], space: { mlp: { layers: 2, units: 64, batchSize: 32 } } },
        earlyStopping: { patience: 6 },
        seed: 3,
      }),
    });
    const study = (await res.json()) as { id: string };
    expect(res.status).toBe(202);

    // Kill the only worker once the first trial has reported two epochs.
    const victim = await eventually(async () => {
      const trials = await repo.trials.list(study.id);
      return trials.find((t) => t.state === 'running' && t.epochs >= 2);
    }, 'a trial to be mid-training', 120_000, 50);
    await doomed.kill('SIGKILL');
    const atKill = (await repo.trials.get(victim.id))!;
    expect(atKill.state).toBe('running');

    const rescuer = startMaas('worker', env);
    processes.push(rescuer);

    const ended = await eventually(async () => {
      const s = await repo.studies.get(study.id);
      return s && !['queued', 'running'].includes(s.state) ? s : undefined;
    }, 'the study to end', 240_000);
    expect(ended.state, ended.message ?? '').toBe('completed');

    const trials = await repo.trials.list(study.id);
    expect(trials.map((t) => t.number)).toEqual([0, 1, 2]);
    expect(trials.every((t) => t.state === 'completed')).toBe(true);
    const retried = trials.find((t) => t.id === victim.id)!;
    expect(retried.attempts).toBe(2);
    expect(retried.worker).not.toBe(victim.worker);
    // The rescuer continued after the last epoch the dead worker recorded, not from epoch 1.
    const curve = await repo.trials.curve(victim.id);
    // The dead worker's child process may commit the epoch it was writing just after the kill, so the
    // first attempt's last epoch is read from the curve, not from the row read at the kill.
    const first = curve.filter((e) => e.attempt === 1).length;
    expect(first).toBeGreaterThanOrEqual(atKill.epochs);
    expect(curve.filter((e) => e.attempt === 1).map((e) => e.epoch)).toEqual(Array.from({ length: first }, (_, i) => i + 1));
    expect(curve.filter((e) => e.attempt === 2).map((e) => e.epoch)).toEqual(Array.from({ length: retried.epochs - first }, (_, i) => first + i + 1));
    for (const t of trials) {
      const curve = await repo.trials.curve(t.id);
      expect(curve.map((e) => e.epoch)).toEqual(Array.from({ length: t.epochs }, (_, i) => i + 1));
      expect(await repo.trials.artifact(t.id)).not.toBeNull();
    }
    expect((await repo.models.versions('default', 'crash')).filter((v) => v.studyId === study.id)).toHaveLength(1);
    expect(rescuer.log()).toContain('trial completed');
  });

  it('hands a trial back on SIGTERM, exits 0, and another worker continues it from its checkpoint', async () => {
    // Only the worker under test may pick the trial up: stop the earlier test's workers (all but the api).
    for (const p of processes.slice(1)) expect(await p.kill('SIGTERM')).not.toBe(1);
    const form = new FormData();
    form.set('file', new File([mnistCsv(mnistRows(0, 40))], 'digits.csv'));
    form.set('name', 'digits');
    form.set('kind', 'image');
    form.set('target', 'label');
    const dataset = (await (await fetch(`${base}/v1/datasets`, { method: 'POST', body: form })).json()) as { id: string };
    const leaving = startMaas('worker', { ...env, WORKER_GRACE_MS: '20000' });
    processes.push(leaving);
    await leaving.waitForLog('worker ready');
    const res = await fetch(`${base}/v1/studies`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'handoff',
        datasetId: dataset.id,
        objective: { metric: 'val_loss' },
        budget: { maxTrials: 1, maxEpochs: 8, parallelism: 1 },
        search: { families: ['mlp'], space: { mlp: { layers: 2, units: 64, batchSize: 32 } } },
        earlyStopping: { patience: 8 },
        seed: 4,
      }),
    });
    const study = (await res.json()) as { id: string };
    expect(res.status).toBe(202);
    const running = await eventually(async () => (await repo.trials.list(study.id)).find((t) => t.state === 'running' && t.epochs >= 1), 'a trial to be mid-training', 120_000, 50);

    expect(await leaving.kill('SIGTERM')).toBe(0);
    expect(leaving.log()).toContain('trial handed back');
    const handedBack = (await repo.trials.get(running.id))!;
    expect(handedBack.state).toBe('queued');
    expect(handedBack.epochs).toBeLessThan(8);

    const taker = startMaas('worker', env);
    processes.push(taker);
    const ended = await eventually(async () => {
      const s = await repo.studies.get(study.id);
      return s && !['queued', 'running'].includes(s.state) ? s : undefined;
    }, 'the study to end', 240_000);
    expect(ended.state, ended.message ?? '').toBe('completed');
    const trial = (await repo.trials.get(running.id))!;
    expect(trial).toMatchObject({ state: 'completed', attempts: 2, epochs: 8 });
    const curve = await repo.trials.curve(running.id);
    expect(curve.map((e) => e.epoch)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(curve.map((e) => e.attempt)).toEqual(curve.map((e) => (e.epoch <= handedBack.epochs ? 1 : 2)));
    expect(taker.log()).toContain('trial resumed');
    expect(trial.worker).not.toBe(running.worker);
  });
});
