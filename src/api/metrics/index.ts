import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Queues } from '../../queue/index.ts';
import { listWorkers } from '../../queue/workers.ts';
import type { Repository } from '../../storage/index.ts';

const route = createRoute({
  method: 'get',
  path: '/metrics',
  summary: 'Prometheus metrics: live workers and their backends, queue depth per device class, trials and studies by state',
  responses: { 200: { description: 'Prometheus text exposition format 0.0.4', content: { 'text/plain': { schema: z.string() } } } },
});

const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed'] as const;

/** Escapes a label value as the exposition format requires. */
const label = (v: string | number) => String(v).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

function family(name: string, help: string, samples: [Record<string, string | number>, number][]): string {
  const lines = samples.map(([labels, value]) => {
    const l = Object.entries(labels).map(([k, v]) => `${k}="${label(v)}"`).join(',');
    return `${name}${l ? `{${l}}` : ''} ${value}`;
  });
  return [`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, ...lines].join('\n');
}

/**
 * GET /metrics for an operator's Prometheus (and so KEDA or an HPA): the
 * live workers with their compute backends, trial jobs per queue and state,
 * and trials and studies by state.
 */
export function registerMetrics(app: OpenAPIHono, deps: { repo: Repository; queues: Queues; prefix: string }): void {
  app.openapi(route, async (c) => {
    const [workers, trialCounts, studyCounts, ...queueCounts] = await Promise.all([
      listWorkers(deps.queues.connection, deps.prefix),
      deps.repo.db.trial.groupBy({ by: ['state'], _count: { _all: true } }),
      deps.repo.db.study.groupBy({ by: ['state'], _count: { _all: true } }),
      ...(['cpu', 'gpu'] as const).map((device) => deps.queues.trials[device].getJobCounts(...QUEUE_STATES).then((counts) => ({ device, counts }))),
    ]);
    const byBackend = new Map<string, { backend: string; device: string; n: number }>();
    for (const w of workers) {
      const k = `${w.backend}/${w.device}`;
      byBackend.set(k, { backend: w.backend, device: w.device, n: (byBackend.get(k)?.n ?? 0) + 1 });
    }
    const text = [
      family('maas_workers', 'Live workers by compute backend and device class.', [...byBackend.values()].map((b) => [{ backend: b.backend, device: b.device }, b.n])),
      family('maas_worker_info', 'One sample per live worker, with its backend and concurrency.', workers.map((w) => [{ worker: w.id, host: w.host, backend: w.backend, device: w.device, concurrency: w.concurrency }, 1])),
      family('maas_queue_jobs', 'Trial jobs in each device class queue, by state.', queueCounts.flatMap(({ device, counts }) => QUEUE_STATES.map((state): [Record<string, string>, number] => [{ device, state }, counts[state] ?? 0]))),
      family('maas_trials', 'Trials by state, all studies.', trialCounts.map((t) => [{ state: t.state }, t._count._all])),
      family('maas_studies', 'Studies by state.', studyCounts.map((s) => [{ state: s.state }, s._count._all])),
    ].join('\n');
    return c.text(`${text}\n`, 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
  });
}
