import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Queues } from '../../queue/index.ts';
import { listWorkers } from '../../queue/workers.ts';
import type { ServingMetrics } from '../../serving/metrics.ts';
import type { Repository } from '../../storage/index.ts';

const route = createRoute({
  method: 'get',
  path: '/metrics',
  operationId: 'getMetrics',
  summary: 'Prometheus metrics: live workers and their backends, queue depth per device class, trials and studies by state, trial durations, and prediction requests and latency per model version',
  responses: { 200: { description: 'Prometheus text exposition format 0.0.4', content: { 'text/plain': { schema: z.string() } } } },
});

const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed'] as const;

/** Escapes a label value as the exposition format requires. */
const label = (v: string | number) => String(v).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

function family(name: string, help: string, samples: [Record<string, string | number>, number][], type: 'gauge' | 'summary' = 'gauge'): string {
  const lines = samples.map(([labels, value]) => {
    const l = Object.entries(labels).map(([k, v]) => `${k}="${label(v)}"`).join(',');
    return `${name}${l ? `{${l}}` : ''} ${value}`;
  });
  return [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...lines].join('\n');
}

/** Quantiles of `values` (sorted ascending), nearest rank. */
function quantile(sorted: number[], q: number): number {
  return sorted.length === 0 ? Number.NaN : (sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number);
}

/** A summary of how long ended trials took, by final state, from the database (so every api replica reports the same). */
function durations(rows: { state: string; durationMs: number | null }[]): string {
  const name = 'maas_trial_duration_seconds';
  const byState = new Map<string, number[]>();
  for (const r of rows) {
    if (r.durationMs === null) continue;
    const values = byState.get(r.state) ?? [];
    values.push(r.durationMs / 1000);
    byState.set(r.state, values);
  }
  const samples: [Record<string, string | number>, number][] = [];
  for (const [state, values] of byState) {
    values.sort((a, b) => a - b);
    for (const q of [0.5, 0.9, 0.99]) samples.push([{ state, quantile: q }, quantile(values, q)]);
  }
  const lines = [family(name, 'Training time of trials that ended in the last 24 hours (all their segments), by final state.', samples, 'summary')];
  for (const [state, values] of byState) {
    lines.push(`${name}_sum{state="${label(state)}"} ${values.reduce((a, b) => a + b, 0)}`, `${name}_count{state="${label(state)}"} ${values.length}`);
  }
  return lines.join('\n');
}

/**
 * GET /metrics for an operator's Prometheus (and so KEDA or an HPA): the
 * live workers with their compute backends, trial jobs per queue and state,
 * and trials and studies by state.
 */
export function registerMetrics(app: OpenAPIHono, deps: { repo: Repository; queues: Queues; prefix: string; predictor?: { metrics: ServingMetrics } }): void {
  app.openapi(route, async (c) => {
    const [workers, trialCounts, studyCounts, ended, ...queueCounts] = await Promise.all([
      listWorkers(deps.queues.connection, deps.prefix),
      deps.repo.db.trial.groupBy({ by: ['state'], _count: { _all: true } }),
      deps.repo.db.study.groupBy({ by: ['state'], _count: { _all: true } }),
      // A sliding day, as summaries usually are, so a scrape's cost does not grow with the trials of all time.
      deps.repo.db.trial.findMany({ where: { state: { in: ['completed', 'pruned', 'failed'] }, durationMs: { not: null }, endedAt: { gte: new Date(Date.now() - 86_400_000) } }, select: { state: true, durationMs: true } }),
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
      durations(ended),
      // This replica's predictions: counters of one process, which Prometheus sums over replicas.
      ...(deps.predictor ? [deps.predictor.metrics.exposition()] : []),
    ].join('\n');
    return c.text(`${text}\n`, 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
  });
}
