import { serve } from '@hono/node-server';
import { createApp } from './api/create-app.ts';
import { loadConfig, type Config } from './config.ts';
import { Coordinator } from './coordinator/index.ts';
import { createLogger, errorMessage, type Logger } from './log.ts';
import { openQueues } from './queue/index.ts';
import { ensureRedis, type EmbeddedRedis } from './redis-server.ts';
import { Predictor } from './serving/predictor.ts';
import { createRepository, migrate, providerOf } from './storage/index.ts';
import { selectBackend } from './workers/training/index.ts';
import { startTrialWorker } from './workers/worker.ts';

/** Which parts one process runs. `start` is all of them, for a single machine. */
export type Role = 'start' | 'api' | 'worker';

/**
 * Runs maas in this process and returns a function that stops it cleanly:
 * the worker stops taking trials, the coordinator and the server close, and
 * an embedded redis-server (if this process started one) shuts down last.
 */
export async function run(role: Role, config: Config = loadConfig(), log: Logger = createLogger(config.LOG_LEVEL, { role })): Promise<() => Promise<void>> {
  const closers: (() => Promise<unknown> | unknown)[] = [];
  const stop = async () => {
    for (const close of closers.reverse()) await Promise.resolve(close()).catch((err) => log.warn('error while stopping', { error: errorMessage(err) }));
  };
  try {
    let embedded: EmbeddedRedis | null = null;
    // Only `npm start` on one machine brings its own Redis; api and worker processes expect a shared one.
    if (role === 'start') embedded = await ensureRedis(config.REDIS_URL, config.REDIS_DATA_DIR, log);
    if (embedded) closers.push(() => embedded.stop());

    const applied = await migrate(config.DATABASE_URL);
    log.info('database ready', { provider: providerOf(config.DATABASE_URL), migrationsApplied: applied });
    const repo = createRepository(config.DATABASE_URL);
    closers.push(() => repo.close());
    const queues = openQueues(config.REDIS_URL, config.QUEUE_PREFIX);
    closers.push(() => queues.close());
    // ioredis reconnects by itself, backing off up to 5 s (see redisConnection); say so, and say when it is back.
    let lost = false;
    queues.connection.on('error', (err) => log.warn('redis connection error; reconnecting', { error: errorMessage(err) }));
    queues.connection.on('reconnecting', (delayMs: number) => {
      lost = true;
      log.warn('redis reconnecting', { inMs: delayMs });
    });
    queues.connection.on('ready', () => {
      if (lost) log.info('redis connection restored');
      lost = false;
    });

    const backend = await selectBackend(config.MAAS_BACKEND);
    log.info('compute backend', { backend: backend.name, detail: backend.detail });

    if (role === 'start' || role === 'worker') {
      const worker = startTrialWorker({
        repo,
        queues,
        log,
        prefix: config.QUEUE_PREFIX,
        backend: backend.name,
        concurrency: config.WORKER_CONCURRENCY,
        lockMs: config.TRIAL_LOCK_MS,
        dbRetryMs: config.DB_RETRY_MS,
        ...(config.TRIAL_MEMORY_MB ? { memoryLimitBytes: config.TRIAL_MEMORY_MB * 2 ** 20 } : {}),
      });
      closers.push(() => worker.close(config.WORKER_GRACE_MS));
    }
    if (role === 'start' || role === 'api') {
      const coordinator = new Coordinator({ repo, queues, log, prefix: config.QUEUE_PREFIX, intervalMs: config.COORDINATOR_INTERVAL_MS });
      await coordinator.start();
      closers.push(() => coordinator.stop());
      const predictor = new Predictor(repo, log);
      closers.push(() => predictor.close());
      const app = createApp({ repo, coordinator, predictor, queues, prefix: config.QUEUE_PREFIX, log, maxUploadBytes: config.MAX_UPLOAD_BYTES });
      const server = await new Promise<ReturnType<typeof serve>>((ready, fail) => {
        const s = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, (info) => {
          log.info('api listening', { url: `http://${config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST}:${info.port}` });
          ready(s);
        });
        s.once('error', (err: NodeJS.ErrnoException) =>
          fail(new Error(err.code === 'EADDRINUSE' ? `port ${config.PORT} is in use; set PORT to another one` : errorMessage(err))),
        );
      });
      closers.push(() => new Promise((done) => server.close(() => done(undefined))));
    }
    return stop;
  } catch (err) {
    await stop();
    throw err;
  }
}
