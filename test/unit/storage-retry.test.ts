import { describe, expect, it } from 'vitest';
import type { Logger } from '../../src/log.ts';
import { createDbRetry, isUnavailable } from '../../src/storage/index.ts';

/** A logger that keeps what it is told. */
function recorder(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = {
    lines,
    debug: (m: string) => lines.push(`debug ${m}`),
    info: (m: string) => lines.push(`info ${m}`),
    warn: (m: string) => lines.push(`warn ${m}`),
    error: (m: string) => lines.push(`error ${m}`),
    child: () => log,
  };
  return log;
}

/** A clock that only moves when the retry sleeps, so backoff is checked without waiting. */
function fakeClock() {
  let t = 0;
  const waits: number[] = [];
  return {
    waits,
    now: () => t,
    sleep: async (ms: number) => {
      waits.push(ms);
      t += ms;
    },
  };
}

/** Errors shaped as Prisma 7, its adapters and the drivers throw them. */
const socket = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code, errno: -111, syscall: 'connect' });
const known = (code: string, kind: Record<string, unknown>, message = 'database error') =>
  Object.assign(new Error(message), { name: 'PrismaClientKnownRequestError', code, meta: { driverAdapterError: Object.assign(new Error(String(kind.kind)), { name: 'DriverAdapterError', cause: kind }) } });

describe('isUnavailable', () => {
  it.each([
    ['a refused connection', socket('ECONNREFUSED')],
    ['a reset connection', socket('ECONNRESET')],
    ['every address refused', new AggregateError([socket('ECONNREFUSED'), socket('ECONNREFUSED')], '')],
    ["pg's lost connection", new Error('Connection terminated unexpectedly')],
    ['Prisma: cannot reach the server', known('P1001', { kind: 'DatabaseNotReachable', host: '127.0.0.1', port: 5432 }, "Can't reach database server at 127.0.0.1:5432")],
    ['Prisma: the server closed the connection', known('P1017', { kind: 'ConnectionClosed' })],
    ['Prisma: pool timeout', Object.assign(new Error('Timed out fetching a new connection from the connection pool.'), { code: 'P2024' })],
    ['PostgreSQL shutting down (57P01)', known('P2039', { kind: 'postgres', code: '57P01', severity: 'FATAL', message: 'terminating connection due to administrator command' })],
    ['PostgreSQL starting up (57P03)', known('P2039', { kind: 'postgres', code: '57P03', severity: 'FATAL', message: 'the database system is starting up' })],
    ['a connection exception (08006)', Object.assign(new Error('connection failure'), { code: '08006', severity: 'FATAL' })],
    ['SQLite busy, through the adapter', known('P1008', { kind: 'SocketTimeout' }, 'Operation has timed out')],
    ['SQLite busy, from the driver', Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' })],
  ])('is true for %s', (_, err) => {
    expect(isUnavailable(err)).toBe(true);
  });

  it.each([
    ['a unique constraint', known('P2002', { kind: 'UniqueConstraintViolation', constraint: { fields: ['id'] } }, 'Unique constraint failed on the fields: (`id`)')],
    ['a foreign key', known('P2003', { kind: 'ForeignKeyConstraintViolation' }, 'Foreign key constraint violated')],
    ['another PostgreSQL error (23514)', known('P2039', { kind: 'postgres', code: '23514', severity: 'ERROR', message: 'new row violates check constraint' })],
    ['a validation error', Object.assign(new Error('Argument `id` is missing.'), { name: 'PrismaClientValidationError' })],
    ['a plain error', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['a value that is not an error', 'boom'],
  ])('is false for %s', (_, err) => {
    expect(isUnavailable(err)).toBe(false);
  });

  it('ends on a cycle of causes', () => {
    const a: Error & { cause?: unknown } = new Error('a');
    a.cause = new Error('b', { cause: a });
    expect(isUnavailable(a)).toBe(false);
  });
});

describe('createDbRetry', () => {
  it('retries while the database is unavailable, doubling the wait up to 5 s, and logs the outage once', async () => {
    const clock = fakeClock();
    const log = recorder();
    const retry = createDbRetry({ log, ...clock });
    let calls = 0;
    const result = await retry('record an epoch', async () => {
      if (++calls <= 7) throw socket('ECONNREFUSED');
      return 'written';
    });
    expect(result).toBe('written');
    expect(clock.waits).toEqual([250, 500, 1000, 2000, 4000, 5000, 5000]);
    expect(log.lines).toEqual(['warn database unavailable; retrying', 'info database back']);
  });

  it('throws any other error at once', async () => {
    const clock = fakeClock();
    const log = recorder();
    const retry = createDbRetry({ log, ...clock });
    let calls = 0;
    const unique = known('P2002', { kind: 'UniqueConstraintViolation' }, 'Unique constraint failed');
    await expect(retry('complete the trial', async () => {
      calls++;
      throw unique;
    })).rejects.toBe(unique);
    expect(calls).toBe(1);
    expect(clock.waits).toEqual([]);
    expect(log.lines).toEqual([]);
  });

  it('gives up with the last error once `totalMs` has passed, its last wait cut to fit', async () => {
    const clock = fakeClock();
    const log = recorder();
    const retry = createDbRetry({ log, totalMs: 2000, ...clock });
    const down = socket('ECONNREFUSED');
    await expect(retry('claim the trial', async () => {
      throw down;
    })).rejects.toBe(down);
    expect(clock.waits).toEqual([250, 500, 1000, 250]);
    expect(log.lines).toEqual(['warn database unavailable; retrying', 'warn database still unavailable; giving up']);
  });

  it('retries nothing when `totalMs` is 0', async () => {
    const clock = fakeClock();
    const retry = createDbRetry({ log: recorder(), totalMs: 0, ...clock });
    await expect(retry('record an epoch', async () => {
      throw socket('ECONNRESET');
    })).rejects.toThrow('ECONNRESET');
    expect(clock.waits).toEqual([]);
  });

  it('logs one outage however many calls meet it', async () => {
    const log = recorder();
    let up = false;
    const sleeps: (() => void)[] = [];
    // Both calls wait until the test brings the database back.
    const retry = createDbRetry({ log, sleep: () => new Promise<void>((done) => sleeps.push(done)) });
    const write = () => retry('record an epoch', async () => {
      if (!up) throw new Error('Connection terminated unexpectedly');
      return true;
    });
    const both = Promise.all([write(), write()]);
    await new Promise((r) => setImmediate(r));
    expect(sleeps).toHaveLength(2);
    up = true;
    for (const wake of sleeps) wake();
    await expect(both).resolves.toEqual([true, true]);
    expect(log.lines).toEqual(['warn database unavailable; retrying', 'info database back']);
  });
});
