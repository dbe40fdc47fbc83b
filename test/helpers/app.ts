import { randomUUID } from 'node:crypto';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { createApp, type AppDeps } from '../../src/api/create-app.ts';
import { Coordinator } from '../../src/coordinator/index.ts';
import { createLogger } from '../../src/log.ts';
import { createPreparer, type Preparer, type PreparerOptions } from '../../src/preparation/index.ts';
import { openQueues, type Queues } from '../../src/queue/index.ts';
import { Predictor } from '../../src/serving/predictor.ts';
import { repositorySource } from '../../src/serving/source.ts';
import { selectBackend } from '../../src/model/index.ts';
import { startTrialWorker } from '../../src/workers/worker.ts';
import { createRepository, type Repository } from '../../src/storage/index.ts';
import { createEventLog, EventFeed, withEvents, type EventLog } from '../../src/events/index.ts';
import { freshDatabase, REDIS_URL, type Provider } from './databases.ts';
import { eventually } from './processes.ts';

export interface TestApp {
  app: OpenAPIHono;
  repo: Repository;
  /** The fresh database's URL, for a part of a test that reaches it another way (e.g. through a proxy). */
  databaseUrl: string;
  queues: Queues;
  coordinator: Coordinator;
  prefix: string;
  /** The study event log the repository's writes append to. */
  events: EventLog;
  close(): Promise<void>;
}

/**
 * The real app over a fresh database and its own queue prefix on the real
 * Redis, for tests that call `app.request()`; with `withWorker`, the
 * coordinator loop and one worker run in this process too.
 */
export async function startTestApp(provider: Provider, options: { maxUploadBytes?: number; withWorker?: boolean; backend?: 'cpu' | 'wasm'; prepare?: PreparerOptions; preparer?: Preparer; app?: Pick<AppDeps, 'corsOrigins' | 'rateLimitPerMinute' | 'quotas' | 'eventStreams'> } = {}): Promise<TestApp> {
  const database = await freshDatabase(provider);
  const prefix = `test-${randomUUID()}`;
  const queues = openQueues(REDIS_URL, prefix);
  const log = createLogger('error');
  // As in src/main.ts: every write of the app, the coordinator and the worker appends its study's events.
  const events = createEventLog({ redis: queues.connection, prefix });
  const feed = new EventFeed({ events, log });
  const repo = withEvents(createRepository(database.url), { events, log });
  const coordinator = new Coordinator({ repo, queues, log, prefix });
  const predictor = new Predictor(repositorySource(repo), log);
  // A given pool is closed with the app, like one made here from `prepare`.
  const preparer = options.preparer ?? createPreparer({ databaseUrl: database.url, ...options.prepare });
  // Tests send many requests from one address; a test of the limit itself asks for a small one.
  const app = createApp({ repo, coordinator, predictor, queues, prefix, log, maxUploadBytes: options.maxUploadBytes, preparer, rateLimitPerMinute: 1_000_000, events: { log: events, feed }, ...options.app });
  let worker: { close(): Promise<void> } | undefined;
  if (options.withWorker) {
    // The real coordinator loop and one real worker, in this process.
    const backend = options.backend ?? 'cpu';
    await selectBackend(backend);
    await coordinator.start();
    worker = startTrialWorker({ repo, queues, log, prefix, backend });
  }
  return {
    app,
    repo,
    databaseUrl: database.url,
    queues,
    coordinator,
    prefix,
    events,
    close: async () => {
      feed.close();
      await worker?.close();
      await preparer.close();
      predictor.close();
      await coordinator.stop();
      for (const q of Object.values(queues.trials)) await q.obliterate({ force: true });
      await queues.studyEvents.obliterate({ force: true });
      // The studies' event streams would expire by themselves; a test leaves nothing behind.
      let cursor = '0';
      do {
        const [next, keys] = await queues.connection.scan(cursor, 'MATCH', `${prefix}:events:*`, 'COUNT', 1000);
        if (keys.length > 0) await queues.connection.del(...keys);
        cursor = next;
      } while (cursor !== '0');
      await queues.close();
      await repo.close();
      await database.drop();
    },
  };
}

/** Builds a multipart body for POST /v1/datasets. */
export function uploadForm(csv: string, fields: Record<string, string>, fileName = 'data.csv'): FormData {
  const form = new FormData();
  form.set('file', new File([csv], fileName, { type: 'text/csv' }));
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  return form;
}

/**
 * Waits until a study has ended and returns its state with its trials'
 * errors, so a failed study's assertion says why.
 */
export async function studyEnd(repo: Repository, studyId: string, timeoutMs = 280_000): Promise<{ state: string; errors: string }> {
  const state = await eventually(async () => {
    const s = (await repo.studies.get(studyId))?.state;
    return s === 'completed' || s === 'failed' || s === 'cancelled' ? s : undefined;
  }, `study ${studyId} to end`, timeoutMs, 500);
  const errors = JSON.stringify((await repo.trials.list(studyId)).map((x) => x.error).filter(Boolean));
  return { state, errors };
}
