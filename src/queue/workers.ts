import type { Redis } from 'ioredis';
import { z } from 'zod';

/**
 * The live worker registry: each worker keeps a key with its description and
 * a short expiry, renewed while it runs, so a worker that dies drops out by
 * itself. The coordinator reads it to route heavy trials to GPU workers; the
 * api reads it for /metrics and GET /v1/workers.
 */
export const workerInfoSchema = z.object({
  id: z.string(),
  host: z.string(),
  pid: z.number().int(),
  backend: z.string(),
  device: z.enum(['cpu', 'gpu']),
  concurrency: z.number().int(),
  startedAt: z.string(),
  /** When the worker last renewed its entry (ISO time); absent in entries of older workers. */
  seenAt: z.string().optional(),
});
export type WorkerInfo = z.infer<typeof workerInfoSchema>;

const key = (prefix: string, id: string) => `${prefix}:maas-workers:${id}`;

/** Writes (or renews) a worker's entry for `ttlSeconds`, stamped with the time of this renewal. */
export async function announceWorker(redis: Redis, prefix: string, info: WorkerInfo, ttlSeconds: number): Promise<void> {
  await redis.set(key(prefix, info.id), JSON.stringify({ ...info, seenAt: new Date().toISOString() }), 'EX', ttlSeconds);
}

export async function retireWorker(redis: Redis, prefix: string, id: string): Promise<void> {
  await redis.del(key(prefix, id));
}

/** Every worker whose entry has not expired. */
export async function listWorkers(redis: Redis, prefix: string): Promise<WorkerInfo[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', key(prefix, '*'), 'COUNT', 500);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  if (keys.length === 0) return [];
  const values = await redis.mget(keys);
  return values.flatMap((v) => {
    const parsed = v === null ? null : workerInfoSchema.safeParse(JSON.parse(v));
    return parsed?.success ? [parsed.data] : [];
  });
}
