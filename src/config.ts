import { z } from 'zod';

/**
 * The one configuration read by the api, the coordinator and the workers,
 * validated from the environment at start-up.
 */
const schema = z.object({
  /** HTTP port of the api. @defaultValue 3000 */
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /**
   * Interface the api listens on. Loopback by default; another interface is refused while no
   * API key exists, unless ALLOW_OPEN_ACCESS is set. @defaultValue '127.0.0.1'
   */
  HOST: z.string().min(1).default('127.0.0.1'),
  /** Lets an api with no API keys listen on a non-loopback interface (anyone who reaches it is admin of the default project). @defaultValue false */
  ALLOW_OPEN_ACCESS: z.enum(['true', 'false', '1', '0']).default('false').transform((v) => v === 'true' || v === '1'),
  /** Origins (comma-separated, e.g. `https://app.example.com`) whose pages may call the api from a browser; none by default. */
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((o) => o.trim()).filter(Boolean))
    .refine((list) => list.every((o) => /^https?:\/\/[^/\s]+$/.test(o)), { message: 'must be origins like https://app.example.com, comma-separated, without paths' }),
  /** Rate-limit points per API key (or address, with no keys) per minute; a request costs 1, an upload or a new study 10. @defaultValue 600 */
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(600),
  /** Default quota: bytes of stored (encoded) datasets per project. @defaultValue 5 GiB */
  QUOTA_DATASET_BYTES: z.coerce.number().int().min(0).default(5 * 2 ** 30),
  /** Default quota: queued or running studies per project. @defaultValue 20 */
  QUOTA_RUNNING_STUDIES: z.coerce.number().int().min(0).default(20),
  /** Default quota: trials a project's active studies may run at once (the sum of their budget.parallelism). @defaultValue 64 */
  QUOTA_TRIALS_IN_FLIGHT: z.coerce.number().int().min(0).default(64),
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
  /** Live events kept per study in Redis, about (older ones are trimmed; a reader that missed them gets `reset`). @defaultValue 10000 */
  EVENTS_MAX_PER_STUDY: z.coerce.number().int().min(10).max(10_000_000).default(10_000),
  /** Days an ended study's live events are kept after its last one. @defaultValue 7 */
  EVENTS_TTL_DAYS: z.coerce.number().int().min(1).max(3650).default(7),
  /** Days an active study's live events are kept after its last one (a study abandoned without ending). @defaultValue 30 */
  EVENTS_ACTIVE_TTL_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  /** Where `npm start` keeps an embedded redis-server's data when it has to start one. @defaultValue './data/redis' */
  REDIS_DATA_DIR: z.string().default('./data/redis'),
  /** Largest accepted dataset upload, in bytes. @defaultValue 100 MB */
  MAX_UPLOAD_BYTES: z.coerce.number().int().positive().default(100 * 1024 * 1024),
  /** Threads that parse and encode uploaded datasets, off the api's event loop. @defaultValue 1 */
  PREPARE_THREADS: z.coerce.number().int().min(1).max(16).default(1),
  /** Uploads that may wait for a preparation thread; beyond them an upload is answered 503 with Retry-After. @defaultValue 4 */
  PREPARE_QUEUE: z.coerce.number().int().min(0).max(1000).default(4),
  /** A dataset preparation running longer is stopped and answered 413. @defaultValue 60000 */
  PREPARE_TIMEOUT_MS: z.coerce.number().int().min(100).default(60_000),
  /**
   * Most weights (parameters) of a model: a study whose space can give a larger one is refused
   * with the count, and a worker fails such a trial before building it. @defaultValue 100000000
   */
  MAX_MODEL_PARAMS: z.coerce.number().int().min(1).default(100_000_000),
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
  /**
   * Most instances one model call of the api may take when it coalesces concurrent predictions of
   * one model version (dynamic batching); 1 turns batching off. @defaultValue 64
   */
  SERVE_BATCH_MAX: z.coerce.number().int().min(1).max(10_000).default(64),
  /**
   * Longest a prediction waits for others to join its batch, in ms (a lone request never waits); 0
   * sets no timer and coalesces only requests already queued. @defaultValue 2
   */
  SERVE_BATCH_WAIT_MS: z.coerce.number().int().min(0).max(1000).default(2),
  /**
   * Worker threads that load and call the served models, each with its own compute backend, so
   * that a long model call never holds the api's event loop; each model version is loaded in one
   * of them. 0 calls models on the api's own thread. @defaultValue 0
   */
  SERVE_THREADS: z.coerce.number().int().min(0).max(64).default(0),
  /**
   * How long the api reuses what an alias (or a version number) names before asking the database
   * again; the api's own promotions and alias moves take effect at once, another process's within
   * this time. 0 asks on every prediction. @defaultValue 1000
   */
  SERVE_ALIAS_CACHE_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
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
