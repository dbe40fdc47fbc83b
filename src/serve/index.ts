/**
 * `maas serve`: a prediction server with no queue, coordinator, training or Redis. It serves
 * exported archives (`--model FILE`, repeatable) or the registry of the database at
 * DATABASE_URL (`--from`), answering maas's own predict, the KServe v2 Open Inference Protocol
 * and TF Serving REST.
 */
import { stat, readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { serve } from '@hono/node-server';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Config } from '../config.ts';
import { ValidationError } from '../errors.ts';
import { errorMessage, type Logger } from '../log.ts';
import { isLoopback } from '../net.ts';
import { ARCHIVE_LIMITS, readArchive } from '../serving/archive.ts';
import { Predictor } from '../serving/predictor.ts';
import { repositorySource, type ModelSource } from '../serving/source.ts';
import { ThreadedRunner } from '../serving/threaded-runner.ts';
import { CHAMPION, createRepository, DEFAULT_PROJECT, type Repository } from '../storage/index.ts';
import { selectBackend } from '../model/index.ts';
import { archiveSource, type LoadedArchive } from './archive-source.ts';
import { createServeApp } from './app.ts';
import { serveStatus, type ServeStatus } from './status.ts';

export { archiveSource, type LoadedArchive } from './archive-source.ts';
export { createServeApp, type ServeAppDeps } from './app.ts';
export { serveStatus, type ServeStatus } from './status.ts';

/** What to serve: archives or the database, one of the two. */
export type ServeFrom = { models: string[] } | { database: string };

export interface ServeOptions {
  from: ServeFrom;
  /** HOST, PORT, ALLOW_OPEN_ACCESS, MAAS_BACKEND, SERVE_BATCH_*, SERVE_THREADS, MAX_UPLOAD_BYTES, RATE_LIMIT_PER_MINUTE, CORS_ORIGINS. */
  config: Config;
  log: Logger;
}

/** A running standalone server. */
export interface StandaloneServer {
  /** Where it listens, e.g. http://127.0.0.1:8501. */
  url: string;
  app: OpenAPIHono;
  /** Stops listening, releases the models and closes the database. */
  stop(): Promise<void>;
}

/** Reads and verifies archives (sizes checked before a file is read); every problem names the file. */
export async function loadArchives(files: string[]): Promise<LoadedArchive[]> {
  const archives: LoadedArchive[] = [];
  for (const file of files) {
    let size: number;
    try {
      size = (await stat(file)).size;
    } catch (err) {
      throw new ValidationError('model', file, `cannot be read: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`);
    }
    if (size > ARCHIVE_LIMITS.maxArchiveBytes) throw new ValidationError('model', file, `is ${size} bytes, more than the ${ARCHIVE_LIMITS.maxArchiveBytes} an archive may have`);
    archives.push({ file, archive: readArchive(await readFile(file), { fileName: file }) });
  }
  return archives;
}

/**
 * Starts the standalone server. With archives there are no API keys, so a HOST other than
 * loopback is refused unless ALLOW_OPEN_ACCESS is set; with a database its keys apply as in
 * the api (and an open database gets the same rule).
 */
export async function startStandalone(options: ServeOptions): Promise<StandaloneServer> {
  const { config, log } = options;
  const closers: (() => Promise<unknown> | unknown)[] = [];
  const stop = async () => {
    for (const close of closers.reverse()) await Promise.resolve(close()).catch((err) => log.warn('error while stopping', { error: errorMessage(err) }));
  };
  try {
    let repo: Repository | undefined;
    let source: ModelSource;
    let status: ServeStatus;
    if ('models' in options.from) {
      if (options.from.models.length === 0) throw new ValidationError('model', undefined, 'is required: give at least one archive (maas models export)');
      const archives = await loadArchives(options.from.models);
      source = archiveSource(archives);
      status = serveStatus('archives', archives.map(({ file, archive }) => ({ file, name: archive.card.name, version: archive.card.version, checksum: archive.checksum })));
    } else {
      const store = createRepository(options.from.database);
      repo = store;
      closers.push(() => store.close());
      await store.ping();
      // Lookups are cached as in the api: an alias moved by another process is picked up within SERVE_ALIAS_CACHE_MS.
      source = repositorySource(store, { cacheMs: config.SERVE_ALIAS_CACHE_MS });
      status = serveStatus('database', [], () => store.ping());
    }
    const open = repo === undefined || !(await repo.keys.any());
    if (open && !isLoopback(config.HOST) && !config.ALLOW_OPEN_ACCESS) {
      throw new Error(
        repo === undefined
          ? `HOST=${config.HOST} would let anyone who reaches it use these models, since a server of archives has no API keys; set ALLOW_OPEN_ACCESS=true to allow it knowingly`
          : `HOST=${config.HOST} would let anyone who reaches it act as admin, since no API key exists; make one first (maas keys create --project NAME --role predict), or set ALLOW_OPEN_ACCESS=true to allow it knowingly`,
      );
    }

    const backend = await selectBackend(config.MAAS_BACKEND);
    log.info('compute backend', { backend: backend.name, detail: backend.detail });
    const batch = config.SERVE_BATCH_MAX > 1 ? { maxBatchSize: config.SERVE_BATCH_MAX, maxWaitMs: config.SERVE_BATCH_WAIT_MS } : false;
    // Model calls on worker threads, with this process's kind of backend, off the event loop.
    const runner = config.SERVE_THREADS > 0 ? new ThreadedRunner({ threads: config.SERVE_THREADS, backend: backend.name, log }) : undefined;
    const predictor = new Predictor(source, log, { batch, ...(runner ? { runner } : {}) });
    closers.push(() => predictor.close());
    // Every archive is loaded now, so a model that cannot load stops the start instead of failing requests.
    // Champions load through their alias, which keeps them warm; other versions load by number.
    for (const a of status.archives) {
      const champion = (await source.versions(DEFAULT_PROJECT, a.name)).find((v) => v.version === a.version)?.aliases.includes(CHAMPION);
      await predictor.signature(DEFAULT_PROJECT, a.name, champion ? { alias: CHAMPION } : { version: a.version });
      log.info('serving', { model: a.name, version: a.version, ...(champion ? { alias: CHAMPION } : {}), file: a.file, checksum: a.checksum });
    }

    const app = createServeApp({
      predictor, source, log, status,
      ...(repo ? { repo } : {}),
      maxBodyBytes: config.MAX_UPLOAD_BYTES,
      corsOrigins: config.CORS_ORIGINS,
      rateLimitPerMinute: config.RATE_LIMIT_PER_MINUTE,
    });
    const server = await new Promise<ReturnType<typeof serve>>((ready, fail) => {
      const s = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, () => ready(s));
      s.once('error', (err: NodeJS.ErrnoException) => fail(new Error(err.code === 'EADDRINUSE' ? `port ${config.PORT} is in use; set PORT to another one` : errorMessage(err))));
    });
    closers.push(() => new Promise((done) => server.close(() => done(undefined))));
    const address = server.address();
    const url = typeof address === 'object' && address ? `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}` : `http://${config.HOST}:${config.PORT}`;
    log.info('serving predictions', {
      url,
      source: status.source,
      access: open ? `open: no API key${repo ? ' exists' : 's with archives'}, every request acts as admin of the default project` : 'API keys required',
    });
    return { url, app, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A mistake in `maas serve`'s arguments. */
export class ServeUsageError extends Error {}

/** What `maas serve ARGS` asks for; `databaseUrl` is DATABASE_URL, used by --from. */
export function parseServeArgs(args: string[], databaseUrl: string): ServeFrom | 'help' {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { model: { type: 'string', multiple: true, short: 'm' }, from: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false });
  } catch (err) {
    throw new ServeUsageError(errorMessage(err).replace(/\. To specify a positional argument.*$/s, ''));
  }
  const { model = [], from = false, help = false } = parsed.values;
  if (help) return 'help';
  if (from && model.length > 0) throw new ServeUsageError('give either --model FILE (archives) or --from (the database), not both');
  if (from) return { database: databaseUrl };
  if (model.length === 0) throw new ServeUsageError('what to serve? give --model FILE (an archive from maas models export; repeatable) or --from (the registry at DATABASE_URL)');
  return { models: model };
}
