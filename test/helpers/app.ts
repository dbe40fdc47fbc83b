import { randomUUID } from 'node:crypto';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { createApp } from '../../src/api/create-app.ts';
import { Coordinator } from '../../src/coordinator/index.ts';
import { createLogger } from '../../src/log.ts';
import { openQueues, type Queues } from '../../src/queue/index.ts';
import { Predictor } from '../../src/serving/predictor.ts';
import { selectBackend } from '../../src/workers/training/index.ts';
import { startTrialWorker } from '../../src/workers/worker.ts';
import { createRepository, type Repository } from '../../src/storage/index.ts';
import { freshDatabase, REDIS_URL, type Provider } from './databases.ts';

export interface TestApp {
  app: OpenAPIHono;
  repo: Repository;
  queues: Queues;
  coordinator: Coordinator;
  prefix: string;
  close(): Promise<void>;
}

/**
 * The real app over a fresh database and its own queue prefix on the real
 * Redis, for tests that call `app.request()`; with `withWorker`, the
 * coordinator loop and one worker run in this process too.
 */
export async function startTestApp(provider: Provider, options: { maxUploadBytes?: number; withWorker?: boolean; backend?: 'cpu' | 'wasm' } = {}): Promise<TestApp> {
  const database = await freshDatabase(provider);
  const repo = createRepository(database.url);
  const prefix = `test-${randomUUID()}`;
  const queues = openQueues(REDIS_URL, prefix);
  const log = createLogger('error');
  const coordinator = new Coordinator({ repo, queues, log, prefix });
  const predictor = new Predictor(repo, log);
  const app = createApp({ repo, coordinator, predictor, queues, prefix, log, maxUploadBytes: options.maxUploadBytes });
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
    queues,
    coordinator,
    prefix,
    close: async () => {
      await worker?.close();
      predictor.close();
      await coordinator.stop();
      for (const q of Object.values(queues.trials)) await q.obliterate({ force: true });
      await queues.studyEvents.obliterate({ force: true });
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
