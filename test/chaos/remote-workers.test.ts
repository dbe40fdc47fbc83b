/**
 * Workers on other hosts: two `maas worker` processes, each in a network namespace of its own
 * that reaches this host only over a veth link. They get nothing but their settings (REDIS_URL
 * and DATABASE_URL pointing at this host's link address). One is cut off mid-trial by taking its
 * link down; the other takes the trial over from its last checkpoint, and nothing is lost.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepository, type Repository } from '../../src/storage/index.ts';
import { freshDatabase, type TestDatabase } from '../helpers/databases.ts';
import { mnistCsv, mnistRows } from '../helpers/mnist.ts';
import { createTestHost, netnsUnavailable, tcpForward, type TestHost } from '../helpers/netns.ts';
import { eventually, freePort, startMaas, stopAll, type MaasProcess } from '../helpers/processes.ts';
import { startRedis, type RedisProcess } from '../helpers/redis-process.ts';

const why = netnsUnavailable();
if (why) console.warn(`remote-workers: skipped, ${why}`);

describe.skipIf(why !== null)('workers on other hosts (network namespaces)', () => {
  let database: TestDatabase;
  let repo: Repository;
  let redis: RedisProcess;
  let base: string;
  const hosts: TestHost[] = [];
  const forwards: { close(): Promise<void> }[] = [];
  const processes: MaasProcess[] = [];
  const workers: MaasProcess[] = [];
  const prefix = `netns-${randomUUID()}`;

  beforeAll(async () => {
    for (const index of [1, 2]) hosts.push(createTestHost(index));
    redis = await startRedis(hosts.map((h) => h.hostIp));
    database = await freshDatabase('postgresql');
    repo = createRepository(database.url);
    const db = new URL(database.url);
    const pgPort = await freePort();
    // PostgreSQL listens on loopback only; each link gets a forwarder, as a remote host would get a route.
    for (const h of hosts) forwards.push(await tcpForward(h.hostIp, pgPort, { host: db.hostname, port: Number(db.port || 5432) }));
    const redisPort = new URL(redis.url).port;
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const api = startMaas('api', { DATABASE_URL: database.url, REDIS_URL: redis.url, QUEUE_PREFIX: prefix, PORT: String(port), COORDINATOR_INTERVAL_MS: '1000' });
    processes.push(api);
    await api.waitForLog('api listening');
    for (const h of hosts) {
      const remote = new URL(database.url);
      remote.hostname = h.hostIp;
      remote.port = String(pgPort);
      // All a remote worker needs: where Redis and the database are, and the queue prefix.
      const env = { DATABASE_URL: remote.toString(), REDIS_URL: `redis://${h.hostIp}:${redisPort}`, QUEUE_PREFIX: prefix, TRIAL_LOCK_MS: '3000' };
      const worker = startMaas('worker', env, { netns: h.netns });
      processes.push(worker);
      workers.push(worker);
      await worker.waitForLog('worker ready');
    }
  }, 120_000);

  afterAll(async () => {
    for (const h of hosts) h.setLink(true);
    await stopAll(processes, prefix, redis?.url);
    for (const f of forwards) await f.close();
    for (const h of hosts) h.remove();
    await redis?.stop();
    await repo?.close();
    await database?.drop();
  });

  it('trains on both remote hosts, and loses nothing when one is cut off mid-trial', { timeout: 300_000 }, async () => {
    const form = new FormData();
    form.set('file', new File([mnistCsv(mnistRows(0, 30))], 'digits.csv'));
    form.set('name', 'digits');
    form.set('kind', 'image');
    form.set('target', 'label');
    const { id: datasetId } = (await (await fetch(`${base}/v1/datasets`, { method: 'POST', body: form })).json()) as { id: string };
    const res = await fetch(`${base}/v1/studies`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'remote',
        datasetId,
        objective: { metric: 'val_loss' },
        budget: { maxTrials: 4, maxEpochs: 6, parallelism: 2 },
        search: { families: ['mlp'], space: { mlp: { layers: 2, units: 64, batchSize: 32 } } },
        earlyStopping: { patience: 6 },
        seed: 6,
      }),
    });
    const { id } = (await res.json()) as { id: string };
    expect(res.status).toBe(202);

    // Cut off the host whose worker holds a trial mid-training.
    const victim = await eventually(async () => (await repo.trials.list(id)).find((t) => t.state === 'running' && t.epochs >= 1 && workers[0]!.log().includes(t.worker ?? '-')), 'a trial mid-training on host 1', 120_000, 50);
    hosts[0]!.setLink(false);
    const ended = await eventually(async () => {
      const s = await repo.studies.get(id);
      return s && !['queued', 'running'].includes(s.state) ? s : undefined;
    }, 'the study to end', 240_000);
    expect(ended.state, ended.message ?? '').toBe('completed');

    const trials = await repo.trials.list(id);
    expect(trials.map((t) => t.number)).toEqual([0, 1, 2, 3]);
    for (const t of trials) {
      expect(t.state).toBe('completed');
      expect((await repo.trials.curve(t.id)).map((e) => e.epoch)).toEqual(Array.from({ length: t.epochs }, (_, i) => i + 1));
    }
    const taken = trials.find((t) => t.id === victim.id)!;
    expect(taken.worker).not.toBe(victim.worker);
    expect(taken.attempts).toBeGreaterThanOrEqual(2);
    // The second host continued after the epochs the first had recorded.
    const curve = await repo.trials.curve(victim.id);
    expect(curve.filter((e) => e.attempt === victim.attempts).length).toBeGreaterThanOrEqual(1);
    expect(workers[1]!.log()).toContain('trial resumed');
    expect((await repo.models.versions('default', 'remote')).filter((v) => v.studyId === id)).toHaveLength(1);

    // Back on the network, the first host's late writes are refused as superseded, and nothing changes.
    hosts[0]!.setLink(true);
    await new Promise((r) => setTimeout(r, 3000));
    const after = await repo.trials.list(id);
    expect(after.map((t) => [t.state, t.epochs, t.attempts])).toEqual(trials.map((t) => [t.state, t.epochs, t.attempts]));
  });
});
