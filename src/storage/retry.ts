import { setTimeout as wait } from 'node:timers/promises';
import { errorMessage, type Logger } from '../log.ts';

/**
 * Error codes that mean the database is briefly out of reach rather than that the statement is
 * wrong: Node's socket errors; Prisma's "can't reach", "timed out", "connection closed", pool
 * timeout and "too many connections"; PostgreSQL's shutdown, "starting up" and
 * "too many connections" SQLSTATEs (class 08, connection exceptions, is matched below).
 */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH',
  'P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2037',
  '57P01', '57P02', '57P03', '53300',
]);
/** Driver adapter error kinds (Prisma 7) of the same sort; the SQLite adapter reports SQLITE_BUSY as SocketTimeout. */
const UNAVAILABLE_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);
/** For errors that carry no code: pg's lost connection, and SQLite's lock wait as better-sqlite3 words it. */
const UNAVAILABLE_MESSAGE =
  /connection terminated|terminating connection|server has closed the connection|can't reach database server|database is locked|timed out|timeout exceeded when trying to connect|unable to start a transaction in the given time|the database system is (starting up|shutting down)/i;

/**
 * Whether `err` says the database is unreachable for now (so the same call may succeed later),
 * looking through the causes that Prisma and its adapters wrap around the driver's error.
 */
export function isUnavailable(err: unknown): boolean {
  const seen = new Set<unknown>();
  const pending: unknown[] = [err];
  while (pending.length > 0) {
    const e = pending.pop();
    if (typeof e !== 'object' || e === null || seen.has(e)) continue;
    seen.add(e);
    const { code, originalCode, kind, message, cause, meta, errors } = e as Record<string, unknown>;
    for (const c of [code, originalCode]) {
      if (typeof c === 'string' && (UNAVAILABLE_CODES.has(c) || /^08[0-9A-Z]{3}$/.test(c) || c.startsWith('SQLITE_BUSY'))) return true;
    }
    if (typeof kind === 'string' && UNAVAILABLE_KINDS.has(kind)) return true;
    if (typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message)) return true;
    pending.push(cause, (meta as { driverAdapterError?: unknown } | undefined)?.driverAdapterError);
    // Node reports a refused connection to every address of a host as one AggregateError.
    if (Array.isArray(errors)) pending.push(...errors);
  }
  return false;
}

export interface DbRetryOptions {
  log: Logger;
  /** Longest time one call keeps retrying, counted from its first failure; 0 retries nothing. @defaultValue 60000 */
  totalMs?: number;
  /** Wait before the first retry; it doubles with each retry. @defaultValue 250 */
  initialDelayMs?: number;
  /** Longest wait between two tries. @defaultValue 5000 */
  maxDelayMs?: number;
  /** Which errors are worth another try. @defaultValue isUnavailable */
  retryable?: (err: unknown) => boolean;
  /** @defaultValue a timer; tests pass one that returns at once */
  sleep?: (ms: number) => Promise<void>;
  /** @defaultValue Date.now */
  now?: () => number;
}

/** Runs `call`, trying it again while the database is unavailable; `what` names it in the log. */
export type DbRetry = <T>(what: string, call: () => Promise<T>) => Promise<T>;

/**
 * Retries calls to the database with backoff while it is unreachable, and throws any other error
 * at once (a constraint or validation error would fail the same way again). Only for calls that
 * may safely run twice: one whose connection dropped may have committed before it did.
 */
export function createDbRetry(o: DbRetryOptions): DbRetry {
  const totalMs = o.totalMs ?? 60_000;
  const initialDelayMs = o.initialDelayMs ?? 250;
  const maxDelayMs = o.maxDelayMs ?? 5000;
  const retryable = o.retryable ?? isUnavailable;
  const sleep = o.sleep ?? ((ms: number) => wait(ms));
  const now = o.now ?? Date.now;
  // Shared by every call through this retry, so an outage is logged once however many calls meet it.
  let downSince: number | null = null;

  return async (what, call) => {
    let delay = initialDelayMs;
    let deadline: number | undefined;
    for (;;) {
      try {
        const result = await call();
        if (downSince !== null) {
          o.log.info('database back', { afterMs: now() - downSince });
          downSince = null;
        }
        return result;
      } catch (err) {
        if (!retryable(err)) throw err;
        const at = now();
        deadline ??= at + totalMs;
        if (at >= deadline) {
          if (totalMs > 0) o.log.warn('database still unavailable; giving up', { call: what, afterMs: totalMs, error: errorMessage(err) });
          throw err;
        }
        if (downSince === null) {
          downSince = at;
          o.log.warn('database unavailable; retrying', { call: what, forMs: totalMs, error: errorMessage(err) });
        }
        await sleep(Math.min(delay, deadline - at));
        delay = Math.min(delay * 2, maxDelayMs);
      }
    }
  };
}
