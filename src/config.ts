import { z } from 'zod';

/**
 * The one configuration read by the api, the coordinator and the workers,
 * validated from the environment at start-up.
 */
const schema = z.object({
  /** HTTP port of the api. @defaultValue 3000 */
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** Interface the api listens on. @defaultValue '0.0.0.0' */
  HOST: z.string().default('0.0.0.0'),
  /** `file:<path>` (SQLite) or `postgresql://…`. @defaultValue 'file:./data/maas.db' */
  DATABASE_URL: z
    .string()
    .default('file:./data/maas.db')
    .refine((v) => v.startsWith('file:') || /^postgres(ql)?:\/\//.test(v), {
      message: 'must start with file: (SQLite) or postgresql:// (PostgreSQL)',
    }),
  /** @defaultValue 'redis://127.0.0.1:6379' */
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  /** Prefix of every BullMQ key, so several deployments (or tests) can share one Redis. @defaultValue 'maas' */
  QUEUE_PREFIX: z.string().min(1).default('maas'),
  /** Where `npm start` keeps an embedded redis-server's data when it has to start one. @defaultValue './data/redis' */
  REDIS_DATA_DIR: z.string().default('./data/redis'),
  /** Largest accepted dataset upload, in bytes. @defaultValue 100 MB */
  MAX_UPLOAD_BYTES: z.coerce.number().int().positive().default(100 * 1024 * 1024),
  /** Most tensor memory one trial may hold, in MiB; a trial over it fails once with an out-of-memory reason. @defaultValue no limit */
  TRIAL_MEMORY_MB: z.coerce.number().int().min(1).optional(),
  /** Trials one worker process trains at once. @defaultValue 1 */
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1),
  /** Force a compute backend: tensorflow-gpu, tensorflow, webgpu, wasm or cpu. @defaultValue automatic */
  MAAS_BACKEND: z.enum(['tensorflow-gpu', 'tensorflow', 'webgpu', 'wasm', 'cpu']).optional(),
  /** How long a worker's lock on a trial lasts without renewal; a dead worker's trial is taken up again after about this long. @defaultValue 30000 */
  TRIAL_LOCK_MS: z.coerce.number().int().min(1000).default(30_000),
  /**
   * On SIGTERM, how long a worker waits for its running epochs to end; each trial is then
   * handed back with its checkpoint, and any still mid-epoch is taken over from its last one. @defaultValue 30000
   */
  WORKER_GRACE_MS: z.coerce.number().int().min(0).default(30_000),
  /**
   * How long a worker keeps retrying a database call of a running trial while the database is
   * unreachable (refused or dropped connections, SQLite busy), with backoff from 250 ms to 5 s,
   * before the attempt fails and is retried from its checkpoint; 0 turns retrying off. @defaultValue 60000
   */
  DB_RETRY_MS: z.coerce.number().int().min(0).default(60_000),
  /** How often the coordinator re-checks every running study (time limits, lost jobs). @defaultValue 5000 */
  COORDINATOR_INTERVAL_MS: z.coerce.number().int().min(100).default(5000),
  /** Log level: debug, info, warn, error. @defaultValue 'info' */
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
});

export type Config = z.infer<typeof schema>;

/** Reads the configuration; exits with every problem listed when it is invalid. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n');
  throw new Error(`invalid configuration:\n${problems}`);
}
