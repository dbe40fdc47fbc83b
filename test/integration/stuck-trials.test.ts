import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleepTrain } from '../../bench/sleep-train.ts';
import { createLogger } from '../../src/log.ts';
import type { TrainInput, TrainResult } from '../../src/workers/training/index.ts';
import { startTrialWorker, type TrialWorker } from '../../src/workers/worker.ts';
import { startTestApp, uploadForm, type TestApp } from '../helpers/app.ts';
import { PROVIDERS } from '../helpers/databases.ts';
import { eventually } from '../helpers/processes.ts';

/** Trials of studies seeded from here on hang on every try; those seeded below hang on their first try only. */
const ALWAYS_HANGS = 1000;

/**
 * Training that reports one epoch and then never returns, as a worker whose training hangs
 * (while its event loop keeps renewing the job's lock); once a trial has hung
 * `hangs(seed)` times, it trains normally from its checkpoint.
 */
function hangingTrain(): (input: TrainInput) => Promise<TrainResult> {
  const tries = new Map<number, number>();
  const normal = sleepTrain(5);
  return async (input) => {
    const n = (tries.get(input.seed) ?? 0) + 1;
    tries.set(input.seed, n);
    if (input.seed < ALWAYS_HANGS && n > 1) return normal(input);
    await normal({ ...input, stopAtEpoch: (input.resume?.epoch ?? 0) + 1 });
    return new Promise<never>(() => undefined);
  };
}

describe.each(PROVIDERS)('stuck trials on %s', (provider) => {
  let t: TestApp;
  let worker: TrialWorker;
  let datasetId: string;
  beforeAll(async () => {
    t = await startTestApp(provider);
    // Room for the hung jobs, which keep their slots, next to the retries.
    worker = startTrialWorker({ repo: t.repo, queues: t.queues, log: createLogger('error'), prefix: t.prefix, backend: 'cpu', concurrency: 8, train: hangingTrain() });
    const csv = readFileSync(join(import.meta.dirname, '../fixtures/wine.csv'), 'utf8');
    const res = await t.app.request('/v1/datasets', { method: 'POST', body: uploadForm(csv, { name: 'wine', kind: 'tabular', target: 'cultivar' }) });
    datasetId = ((await res.json()) as { id: string }).id;
  });
  afterAll(async () => {
    await worker?.close(100);
    await t?.close();
  });

  async function createStudy(budget: object, seed: number): Promise<string> {
    const res = await t.app.request('/v1/studies', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 's', datasetId, objective: { metric: 'val_accuracy' }, budget, search: { families: ['mlp'] }, seed }),
    });
    expect(res.status).toBe(202);
    return ((await res.json()) as { id: string }).id;
  }

  /** Sweeps the study (as the coordinator's timer does) until it ends. */
  async function sweepUntilEnded(studyId: string) {
    return eventually(async () => {
      await t.coordinator.tick(studyId);
      const study = await t.repo.studies.get(studyId);
      return study && !['queued', 'running'].includes(study.state) ? study : undefined;
    }, 'the study to end', 60_000, 250);
  }

  it('gives up a trial that stops reporting, freeing the worker, and retries it from its checkpoint under a new job', async () => {
    const studyId = await createStudy({ maxTrials: 2, maxEpochs: 4, parallelism: 2, trialTimeoutSeconds: 1, maxRetries: 1 }, 1);
    // No sweep yet: the worker gives each hung attempt up by itself, and its job (its slot) ends.
    const first = await t.repo.trials.list(studyId);
    await eventually(async () => {
      const trials = await Promise.all(first.map((x) => t.repo.trials.get(x.id)));
      const jobs = await Promise.all(first.map((x) => t.queues.trials.cpu.getJobState(x.id)));
      return trials.every((x) => x?.state === 'queued' && x.retries === 1) && jobs.every((j) => j === 'unknown') ? true : undefined;
    }, 'the worker to give both hung trials up', 30_000, 100);
    const study = await sweepUntilEnded(studyId);
    expect(study.state).toBe('completed');
    for (const trial of await t.repo.trials.list(studyId)) {
      expect([trial.state, trial.retries, trial.attempts, trial.epochs]).toEqual(['completed', 1, 2, 4]);
      // Epoch 1 is the hung try's; the retry continued from its checkpoint instead of starting over.
      const curve = await t.repo.trials.curve(trial.id);
      expect(curve.map((e) => [e.epoch, e.attempt])).toEqual([[1, 1], [2, 2], [3, 2], [4, 2]]);
    }
  });

  it('fails a trial stuck on every try, and the study once more than maxFailedTrials have failed', async () => {
    const studyId = await createStudy({ maxTrials: 5, maxEpochs: 4, parallelism: 1, trialTimeoutSeconds: 1, maxRetries: 0, maxFailedTrials: 1 }, ALWAYS_HANGS);
    const study = await sweepUntilEnded(studyId);
    const reason = 'no report for 1 s (budget.trialTimeoutSeconds) on 1 try';
    expect(study.state).toBe('failed');
    expect(study.message).toBe(`2 trials failed, more than budget.maxFailedTrials (1): ${reason}`);
    const trials = await t.repo.trials.list(studyId);
    expect(trials.map((x) => [x.number, x.state, x.error, x.attempts])).toEqual([[0, 'failed', reason, 1], [1, 'failed', reason, 1]]);
  });
});
