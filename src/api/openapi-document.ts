import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createLogger } from '../log.ts';
import { GPU_TRIALS_QUEUE, STUDY_EVENTS_QUEUE, TRIALS_QUEUE, type Queues } from '../queue/index.ts';
import { createApp, type AppDeps } from './create-app.ts';

/**
 * A dependency that must not be used: building the app reads properties of its dependencies
 * (handlers keep references), but serving /openapi.json calls none of them. A call throws,
 * naming what was called, so a route that starts using a dependency while the app is built
 * shows up here instead of producing a half-built document.
 */
function standIn<T>(name: string): T {
  return new Proxy(function unavailable() {}, {
    get: (_target, key) => (key === 'then' || typeof key === 'symbol' ? undefined : standIn(`${name}.${String(key)}`)),
    apply: () => {
      throw new Error(`${name}() was called while building the OpenAPI document; only the app's routes are built for it, with stand-in dependencies`);
    },
    construct: () => {
      throw new Error(`new ${name}() was called while building the OpenAPI document`);
    },
  }) as T;
}

/**
 * A queue that never connects: a BullMQ Queue without its constructor having run (which
 * connects and writes the queue's metadata), for code that checks `instanceof Queue` or reads
 * its name while the app is built. Calling its methods fails.
 */
function standInQueue(name: string): Queue {
  const queue = Object.create(Queue.prototype) as Queue;
  Object.defineProperty(queue, 'name', { value: name });
  return queue;
}

/**
 * The OpenAPI document the app serves at GET /openapi.json, built from the app's own routes
 * with no database, Redis or listening server, so the typed client can be generated at install
 * time on any machine.
 */
export async function openApiDocument(): Promise<Record<string, unknown>> {
  // The rate limiter registers its Lua script on the connection when the app is built; a lazy
  // ioredis client takes that without connecting, and nothing here sends it a command.
  const connection = new Redis({ lazyConnect: true, enableOfflineQueue: false });
  try {
    const deps: AppDeps = {
      repo: standIn('repo'),
      coordinator: standIn('coordinator'),
      predictor: standIn('predictor'),
      queues: {
        connection,
        trials: { cpu: standInQueue(TRIALS_QUEUE), gpu: standInQueue(GPU_TRIALS_QUEUE) } as Queues['trials'],
        studyEvents: standInQueue(STUDY_EVENTS_QUEUE) as Queues['studyEvents'],
        close: async () => undefined,
      },
      prefix: 'openapi',
      log: createLogger('error'),
      preparer: standIn('preparer'),
    };
    const res = await createApp(deps).request('/openapi.json');
    if (res.status !== 200) throw new Error(`GET /openapi.json answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as Record<string, unknown>;
  } finally {
    connection.disconnect();
  }
}
