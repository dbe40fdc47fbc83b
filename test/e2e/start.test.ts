import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { redisAnswers } from '../../src/redis-server.ts';
import { freePort, startMaas } from '../helpers/processes.ts';

/** `npm start` on a machine where nothing answers at REDIS_URL. */
describe('maas start', () => {
  const dir = mkdtempSync(join(tmpdir(), 'maas-start-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('starts its own redis-server with append-only persistence, and stops it on exit', async () => {
    const [port, redisPort] = [await freePort(), await freePort()];
    const redisUrl = `redis://127.0.0.1:${redisPort}`;
    expect(await redisAnswers(redisUrl)).toBe(false);
    const maas = startMaas('start', { DATABASE_URL: `file:${join(dir, 'maas.db')}`, REDIS_URL: redisUrl, REDIS_DATA_DIR: join(dir, 'redis'), PORT: String(port) });
    await maas.waitForLog('api listening');
    expect(maas.log()).toContain('started redis-server');
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(await health.json()).toEqual({ status: 'ok', database: 'ok', redis: 'ok', backend: 'ok' });
    // Redis 7 keeps its append-only files in a folder of their own.
    expect(readdirSync(join(dir, 'redis')).some((f) => f.startsWith('appendonly'))).toBe(true);
    expect(existsSync(join(dir, 'maas.db'))).toBe(true);

    expect(await maas.kill('SIGTERM')).toBe(0);
    expect(await redisAnswers(redisUrl)).toBe(false);
  });

  it('exits with a message that says how to get Redis when none answers and redis-server is not installed', async () => {
    const redisPort = await freePort();
    const maas = startMaas('start', {
      DATABASE_URL: `file:${join(dir, 'other.db')}`,
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      PORT: String(await freePort()),
      PATH: join(dir, 'empty-path'),
    });
    const code = await new Promise<number | null>((resolve) => maas.child.once('exit', resolve));
    expect(code).toBe(1);
    expect(maas.log()).toContain(`no Redis answers at REDIS_URL=redis://127.0.0.1:${redisPort}`);
    expect(maas.log()).toMatch(/Install Redis .*apt-get install redis-server/);
  });
});
