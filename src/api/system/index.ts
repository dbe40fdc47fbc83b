import type { OpenAPIHono } from '@hono/zod-openapi';
import { ServiceBusyError } from '../../errors.ts';
import type { Queues } from '../../queue/index.ts';
import { listWorkers } from '../../queue/workers.ts';
import { DEFAULT_PROJECT, type Repository } from '../../storage/index.ts';
import { principalOf } from '../auth.ts';
import { mountBullBoard } from './bull-board.ts';
import * as routes from './system.routes.ts';

/** How long Redis may take to answer before the dashboard is told it is down, rather than left waiting. */
const REDIS_TIMEOUT_MS = 3000;

/** `work`, or a 503 when Redis (whose client queues commands while disconnected) has not answered in time. */
async function answered<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, fail) => {
    timer = setTimeout(() => fail(new ServiceBusyError(5, `Redis did not answer within ${REDIS_TIMEOUT_MS / 1000} s`)), REDIS_TIMEOUT_MS);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The cluster as operators and the dashboard's workers page see it: GET /v1/workers and
 * GET /v1/queues (role read; counts of every project, but no other project's ids; worker hosts
 * and running counts only for an admin of the default project), and the
 * read-only Bull Board at /ui/queues (admin of the default project; see bull-board.ts).
 */
export function registerSystem(app: OpenAPIHono, deps: { repo: Repository; queues: Queues; prefix: string }): void {
  const { repo, queues } = deps;
  const named = [queues.trials.cpu, queues.trials.gpu, queues.studyEvents];

  app.openapi(routes.workers, async (c) => {
    const workers = await answered(listWorkers(queues.connection, deps.prefix));
    // Host names and what each worker runs now describe every tenant's work: the operator's to see.
    const p = principalOf(c);
    const operator = p.role === 'admin' && p.projectId === DEFAULT_PROJECT;
    const running = operator ? await repo.trials.runningByWorker(workers.map((w) => w.id)) : null;
    const view = workers
      .map((w) => ({
        id: w.id,
        backend: w.backend,
        device: w.device,
        concurrency: w.concurrency,
        startedAt: w.startedAt,
        lastSeenAt: w.seenAt ?? null,
        ...(running ? { host: w.host, running: running.get(w.id) ?? 0 } : {}),
      }))
      .sort((a, b) => a.id.localeCompare(b.id));
    return c.json({ workers: view }, 200);
  });

  app.openapi(routes.queues, async (c) => {
    const counted = await answered(
      Promise.all(
        named.map(async (q) => {
          const [counts, paused] = await Promise.all([q.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed', 'completed'), q.isPaused()]);
          const n = (state: string) => counts[state] ?? 0;
          return { name: q.name, waiting: n('waiting') + n('prioritized'), active: n('active'), delayed: n('delayed'), failed: n('failed'), completed: n('completed'), paused };
        }),
      ),
    );
    return c.json({ queues: counted }, 200);
  });

  mountBullBoard(app, named);
}
