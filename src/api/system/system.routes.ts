import { createRoute, z } from '@hono/zod-openapi';
import { errorResponse } from '../openapi.ts';

const workerSchema = z
  .object({
    id: z.string(),
    backend: z.string().openapi({ description: 'Compute backend the worker trains on: tensorflow, webgpu, wasm, cpu, …' }),
    device: z.enum(['cpu', 'gpu']).openapi({ description: 'The device class, and so the trial queue it reads' }),
    host: z.string().optional().openapi({ description: "The worker's host name; only for an admin of the default project (the operator), as it tells about every project's work" }),
    concurrency: z.number().int().openapi({ description: 'Trials it runs at once, at most' }),
    startedAt: z.string(),
    lastSeenAt: z.string().nullable().openapi({ description: 'When it last renewed its registry entry (every few seconds while alive); null for a worker too old to say' }),
    running: z.number().int().optional().openapi({ description: 'Trials it is running now, of every project; only for an admin of the default project' }),
  })
  .openapi('Worker');

const queueSchema = z
  .object({
    name: z.string(),
    waiting: z.number().int().openapi({ description: 'Jobs ready to run (waiting or prioritized)' }),
    active: z.number().int(),
    delayed: z.number().int().openapi({ description: 'Jobs waiting for a retry backoff or a delay' }),
    failed: z.number().int(),
    completed: z.number().int().openapi({ description: 'Completed jobs still kept in Redis (trial jobs are removed on completion; their results are in the database)' }),
    paused: z.boolean().openapi({ description: 'Whether the queue is paused' }),
  })
  .openapi('Queue');

export const workers = createRoute({
  method: 'get',
  path: '/v1/workers',
  operationId: 'listWorkers',
  summary: 'Live workers, with their compute backend, device class and (for the operator) host and how many trials each runs now',
  responses: {
    200: {
      description: 'Every worker whose registry entry has not expired, by id',
      content: {
        'application/json': {
          schema: z.object({ workers: z.array(workerSchema) }),
          example: { workers: [{ id: 'host-1234-ab12', backend: 'wasm', device: 'cpu', host: 'host', concurrency: 1, startedAt: '2026-12-01T10:00:00.000Z', lastSeenAt: '2026-12-01T10:05:00.000Z', running: 1 }] },
        },
      },
    },
    503: errorResponse('Redis or the database does not answer'),
  },
});

export const queues = createRoute({
  method: 'get',
  path: '/v1/queues',
  operationId: 'listQueues',
  summary: 'Job counts of each queue: the trial queue of each device class and the study events queue',
  responses: {
    200: {
      description: 'Job counts by state, of every project',
      content: {
        'application/json': {
          schema: z.object({ queues: z.array(queueSchema) }),
          example: { queues: [{ name: 'trials', waiting: 3, active: 1, delayed: 0, failed: 0, completed: 0, paused: false }] },
        },
      },
    },
    503: errorResponse('Redis does not answer'),
  },
});
