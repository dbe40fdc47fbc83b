import { serve } from '@hono/node-server';
import { createApp } from './api/create-app.ts';
import { loadConfig, type Config } from './config.ts';
import { Coordinator } from './coordinator/index.ts';
import { createLogger, errorMessage, type Logger } from './log.ts';
import { isLoopback } from './net.ts';
import { createEventLog, EventFeed, eventLogSettings, withEvents } from './events/index.ts';
import { openQueues } from './queue/index.ts';
import { ensureRedis, type EmbeddedRedis } from './redis-server.ts';
import { createPreparer } from './preparation/index.ts';
import { Predictor } from './serving/predictor.ts';
import { repositorySource } from './serving/source.ts';
import { ThreadedRunner } from './serving/threaded-runner.ts';
import { createRepository, migrate, providerOf } from './storage/index.ts';
import { capWasmHeap, selectBackend } from './model/index.ts';
import { RECYCLE_EXIT_CODE, superviseWorker, supervisedChild } from './workers/supervisor.ts';
import { startTrialWorker } from './workers/worker.ts';

/**
 * Which parts one process runs. `start` is all of them, for a single machine: api and
 * coordinator here, and the trial worker in a supervised child process (`maas worker`), so a
 * trial that breaks its compute backend cannot break predict. `worker` runs the trial worker in
 * this process (the CLI's `maas worker` forks it under a supervisor).
 */
export type Role = 'start' | 'api' | 'worker';

/**
 * Runs maas in this process and returns a function that stops it cleanly:
 * the worker stops taking trials, the coordinator and the server close, and
 * an embedded redis-server (if this process started one) shuts down last.
 */
export async function run(role: Role, config: Config = loadConfig(), log: Logger = createLogger(config.LOG_LEVEL, { role })): Promise<() => Promise<void>> {
  const closers: (() => Promise<unknown> | unknown)[] = [];
  let stopped: Promise<void> | undefined;
  // Once: a signal may arrive while a worker recycles itself.
  const stop = () =>
    (stopped ??= (async () => {
      for (const close of closers.reverse()) await Promise.resolve(close()).catch((err) => log.warn('error while stopping', { error: errorMessage(err) }));
    })());
  try {
    let embedded: EmbeddedRedis | null = null;
    // Only `npm start` on one machine brings its own Redis; api and worker processes expect a shared one.
    if (role === 'start') embedded = await ensureRedis(config.REDIS_URL, config.REDIS_DATA_DIR, log);
    if (embedded) closers.push(() => embedded.stop());

    const applied = await migrate(config.DATABASE_URL);
    log.info('database ready', { provider: providerOf(config.DATABASE_URL), migrationsApplied: applied });
    // After the migrations, which the child would otherwise race; stopped before Redis (closers run in reverse).
    const supervisor = role === 'start' ? superviseWorker({ log, graceMs: config.WORKER_GRACE_MS }) : null;
    if (supervisor) closers.push(() => supervisor.stop());
    const store = createRepository(config.DATABASE_URL);
    closers.push(() => store.close());
    const queues = openQueues(config.REDIS_URL, config.QUEUE_PREFIX);
    closers.push(() => queues.close());
    // Every role's trial and study writes append the study's live events (see src/events).
    const eventLog = createEventLog({ redis: queues.connection, prefix: config.QUEUE_PREFIX, ...eventLogSettings(config) });
    const repo = withEvents(store, { events: eventLog, log });
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

    if (role === 'worker') {
      const child = supervisedChild();
      // Test hook: a small wasm heap, so that a test can exhaust it for real.
      const heapMb = Number(process.env.MAAS_TEST_WASM_HEAP_MB ?? '');
      if (heapMb > 0 && capWasmHeap(heapMb * 2 ** 20)) log.warn('wasm heap capped (test hook MAAS_TEST_WASM_HEAP_MB)', { heapMb });
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
        maxModelParams: config.MAX_MODEL_PARAMS,
        ...(child ? { beforeEpochWrite: child.checkSupervisor } : {}),
        // A broken backend cannot be trusted again in this process: hand the trials back, close, and
        // exit for the supervisor (or systemd, Kubernetes) to start a fresh one.
        onBackendBroken: () => {
          log.warn('recycling the worker process', { exitCode: RECYCLE_EXIT_CODE });
          void stop().finally(() => process.exit(RECYCLE_EXIT_CODE));
        },
      });
      closers.push(() => worker.close(config.WORKER_GRACE_MS));
      child?.ready();
    }
    if (role === 'start' || role === 'api') {
      const coordinator = new Coordinator({ repo, queues, log, prefix: config.QUEUE_PREFIX, intervalMs: config.COORDINATOR_INTERVAL_MS });
      await coordinator.start();
      closers.push(() => coordinator.stop());
      const predictor = new Predictor(repositorySource(repo, { cacheMs: config.SERVE_ALIAS_CACHE_MS }), log, {
        batch: config.SERVE_BATCH_MAX > 1 ? { maxBatchSize: config.SERVE_BATCH_MAX, maxWaitMs: config.SERVE_BATCH_WAIT_MS } : false,
        // Model calls on worker threads, with this process's kind of backend, off the event loop.
        ...(config.SERVE_THREADS > 0 ? { runner: new ThreadedRunner({ threads: config.SERVE_THREADS, backend: backend.name, log }) } : {}),
      });
      closers.push(() => predictor.close());
      const preparer = createPreparer({ threads: config.PREPARE_THREADS, queue: config.PREPARE_QUEUE, timeoutMs: config.PREPARE_TIMEOUT_MS, databaseUrl: config.DATABASE_URL });
      closers.push(() => preparer.close());
      const open = !(await repo.keys.any());
      if (open && !isLoopback(config.HOST) && !config.ALLOW_OPEN_ACCESS) {
        throw new Error(
          `HOST=${config.HOST} would let anyone who reaches it act as admin, since no API key exists; make one first (maas keys create --project NAME --role admin), or set ALLOW_OPEN_ACCESS=true to allow it knowingly`,
        );
      }
      const feed = new EventFeed({ events: eventLog, log });
      const rateLimitRedis = queues.connection.duplicate({ enableAutoPipelining: true });
      // Without a listener ioredis prints each reconnect error; the limiter falls back to memory meanwhile.
      rateLimitRedis.on('error', (err: Error) => log.debug('rate-limit Redis connection error', { error: errorMessage(err) }));
      closers.push(async () => rateLimitRedis.disconnect());
      const app = createApp({
        repo, coordinator, predictor, queues, prefix: config.QUEUE_PREFIX, log, maxUploadBytes: config.MAX_UPLOAD_BYTES, maxModelParams: config.MAX_MODEL_PARAMS, preparer,
        corsOrigins: config.CORS_ORIGINS,
        rateLimitPerMinute: config.RATE_LIMIT_PER_MINUTE,
        rateLimitRedis,
        quotas: { datasetBytes: config.QUOTA_DATASET_BYTES, runningStudies: config.QUOTA_RUNNING_STUDIES, trialsInFlight: config.QUOTA_TRIALS_IN_FLIGHT },
        events: { log: eventLog, feed },
      });
      const server = await new Promise<ReturnType<typeof serve>>((ready, fail) => {
        const s = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, (info) => {
          // The address the socket really has, not the one asked for.
          const host = info.family === 'IPv6' ? `[${info.address}]` : info.address;
          log.info('api listening', {
            url: `http://${host}:${info.port}`,
            access: open ? `open: no API key exists, so every request acts as admin of the default project${isLoopback(config.HOST) ? '; listening on loopback only' : ' (ALLOW_OPEN_ACCESS)'}` : 'API keys required',
          });
          ready(s);
        });
        s.once('error', (err: NodeJS.ErrnoException) =>
          fail(new Error(err.code === 'EADDRINUSE' ? `port ${config.PORT} is in use; set PORT to another one` : errorMessage(err))),
        );
      });
      closers.push(() => new Promise((done) => server.close(() => done(undefined))));
      // First (closers run in reverse): open event streams end, so the server's close does not wait for them.
      closers.push(() => feed.close());
    }
    // `start` ends, as it used to, when its worker cannot start (a forced backend that does not load).
    supervisor?.ready.catch((err: Error & { exitCode?: number }) => {
      if (stopped) return;
      log.error('the worker process could not start; stopping', { error: errorMessage(err) });
      void stop().finally(() => process.exit(err.exitCode ?? 1));
    });
    return stop;
  } catch (err) {
    await stop();
    throw err;
  }
}
