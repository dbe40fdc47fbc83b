import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { eventually, freePort } from './processes.ts';

/** A redis-server of a test's own, with append-only persistence, that the test can restart. */
export interface RedisProcess {
  url: string;
  /** Stops the server (it writes its append-only file as it goes) and starts it again on the same port and data. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts one on a free port, listening on loopback and on `alsoBind` (e.g. test hosts' links). */
export async function startRedis(alsoBind: string[] = []): Promise<RedisProcess> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'maas-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const up = async () => {
    // Other addresses are test hosts' private links; protected mode would refuse them (no password in tests).
    const network = alsoBind.length > 0 ? ['--protected-mode', 'no'] : [];
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', ...alsoBind, ...network, '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', ''], { stdio: 'ignore' });
    await eventually(async () => {
      const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on('error', () => undefined); // a refused probe is the expected answer until the server is up
      try {
        await probe.connect();
        return (await probe.ping()) === 'PONG' ? true : undefined;
      } catch {
        return undefined;
      } finally {
        probe.disconnect();
      }
    }, `redis-server on port ${port}`, 20_000, 100);
  };
  const down = async () => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((done) => c.once('exit', done));
    c.kill('SIGTERM');
    await exited;
  };
  await up();
  return {
    url,
    restart: async () => {
      await down();
      await up();
    },
    stop: async () => {
      await down();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
