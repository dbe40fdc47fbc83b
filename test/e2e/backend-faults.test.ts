import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepository, type Repository } from '../../src/storage/index.ts';
import { freshDatabase, PROVIDERS, REDIS_URL, type TestDatabase } from '../helpers/databases.ts';
import { mnistCsv, mnistRows } from '../helpers/mnist.ts';
import { eventually, freePort, startMaas, stopAll, type MaasProcess } from '../helpers/processes.ts';

/**
 * A trial that exhausts the wasm heap for real (the worker's heap is capped at 48 MiB by the
 * test hook MAAS_TEST_WASM_HEAP_MB, as wasm32's 4 GiB caps a 32×8192 MLP): the wasm module
 * traps with "memory access out of bounds" and is poisoned. The trial fails once with that
 * reason, the worker process recycles itself (exit 75), its supervisor (`maas worker`) starts a
 * fresh one, and the next trial completes on it. The api, in a process of its own, is untouched.
 */
describe.each(PROVIDERS)('a trial that breaks the compute backend, on %s', (provider) => {
  let database: TestDatabase;
  let repo: Repository;
  let base: string;
  let env: Record<string, string>;
  const prefix = `faults-${randomUUID()}`;
  const processes: MaasProcess[] = [];

  beforeAll(async () => {
    database = await freshDatabase(provider);
    repo = createRepository(database.url);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = { DATABASE_URL: database.url, REDIS_URL, QUEUE_PREFIX: prefix, PORT: String(port), COORDINATOR_INTERVAL_MS: '1000', MAAS_BACKEND: 'wasm' };
    const api = startMaas('api', env);
    processes.push(api);
    await api.waitForLog('api listening');
  });

  afterAll(async () => {
    await stopAll(processes, prefix);
    await repo?.close();
    await database?.drop();
  });

  async function study(datasetId: string, name: string, mlp: Record<string, number>) {
    const res = await fetch(`${base}/v1/studies`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name,
        datasetId,
        objective: { metric: 'val_loss' },
        budget: { maxTrials: 1, maxEpochs: 2, parallelism: 1 },
        search: { families: ['mlp'], space: { mlp: { ...mlp, batchSize: 32 } } },
        seed: 5,
      }),
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    return eventually(async () => {
      const s = await repo.studies.get(id);
      return s && !['queued', 'running'].includes(s.state) ? s : undefined;
    }, `study ${name} to end`, 180_000);
  }

  it('fails the trial once with the reason, recycles the worker process, and the next trial completes on the fresh one', async () => {
    const form = new FormData();
    form.set('file', new File([mnistCsv(mnistRows(0, 40))], 'digits.csv'));
    form.set('name', 'digits');
    form.set('kind', 'image');
    form.set('target', 'label');
    const dataset = (await (await fetch(`${base}/v1/datasets`, { method: 'POST', body: form })).json()) as { id: string };

    const worker = startMaas('worker', { ...env, MAAS_TEST_WASM_HEAP_MB: '48' });
    processes.push(worker);
    await worker.waitForLog('worker ready');

    // About 4 million weights and their Adam slots: over 48 MiB.
    const big = await study(dataset.id, 'too-big', { layers: 4, units: 1024 });
    const [failed] = await repo.trials.list(big.id);
    expect(failed).toMatchObject({ state: 'failed', attempts: 1 });
    expect(failed!.error).toMatch(/out of memory, or a fault of the compute backend \(wasm\): RuntimeError: (memory access out of bounds|Aborted\().*worker process is recycled/);
    await worker.waitForLog('worker process exited; starting a new one');
    expect(worker.log()).toContain('"code":75');

    const small = await study(dataset.id, 'small', { layers: 1, units: 16 });
    expect(small.state, small.message ?? '').toBe('completed');
    const [completed] = await repo.trials.list(small.id);
    expect(completed!.state).toBe('completed');
    // Worker ids are host:pid:random: a new process took it, under the same supervisor, still running.
    expect(completed!.worker!.split(':')[1]).not.toBe(failed!.worker!.split(':')[1]);
    expect(worker.child.exitCode).toBeNull();
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });
});
