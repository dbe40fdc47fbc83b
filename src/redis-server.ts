import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { Redis } from 'ioredis';
import type { Logger } from './log.ts';

/** Answers whether a Redis server replies to PING at `url` within `timeoutMs`. */
export async function redisAnswers(url: string, timeoutMs = 1500): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

export interface EmbeddedRedis {
  stop(): Promise<void>;
}

/**
 * Makes sure Redis is reachable for `npm start`. When nothing answers at a
 * local URL and `redis-server` is installed, starts one with append-only
 * persistence under `dataDir`, so queued trials survive a restart; it is
 * stopped when maas exits. Returns null when Redis was already there.
 */
export async function ensureRedis(url: string, dataDir: string, log: Logger): Promise<EmbeddedRedis | null> {
  if (await redisAnswers(url)) return null;
  const u = new URL(url);
  const local = ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(u.hostname);
  const installed = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!local || !installed) {
    throw new Error(
      `no Redis answers at REDIS_URL=${url}. ` +
        (local
          ? 'Install Redis (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) so maas can start it, or set REDIS_URL to a running server.'
          : 'Check that the server is up and reachable, or point REDIS_URL at another one.'),
    );
  }
  const dir = resolve(dataDir);
  mkdirSync(dir, { recursive: true });
  const port = u.port || '6379';
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', port, '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', '', '--daemonize', 'no', ...(u.password ? ['--requirepass', decodeURIComponent(u.password)] : [])],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  for (let i = 0; i < 50; i++) {
    if (await redisAnswers(url, 500)) {
      log.info('started redis-server', { port, dir, appendonly: true });
      return {
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      };
    }
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server did not start on port ${port}; is the port taken by something else?`);
}
