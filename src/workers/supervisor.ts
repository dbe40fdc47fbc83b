import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../log.ts';

/**
 * The exit code of a worker process that recycles itself because a trial left its compute
 * backend unusable (a wasm heap overrun, an abort): its supervisor starts a fresh one at once.
 * 75 is sysexits' EX_TEMPFAIL.
 */
export const RECYCLE_EXIT_CODE = 75;

/** Marks a worker process started by a supervisor (internal; not a setting). */
const CHILD_ENV = 'MAAS_SUPERVISED_WORKER';
const ENTRY = fileURLToPath(new URL('../../bin/maas.js', import.meta.url));

export interface SupervisorOptions {
  log: Logger;
  /**
   * How long a stopping worker may take to hand its running trials back (WORKER_GRACE_MS); the
   * supervisor kills it 10 s after that. @defaultValue 30000
   */
  graceMs?: number;
  /** Wait before restarting a worker that crashed; doubles with each crash in a row. @defaultValue 1000 */
  backoffMs?: number;
  /** Longest wait between restarts. @defaultValue 30000 */
  maxBackoffMs?: number;
}

/** A parent that keeps one `maas worker` process running. */
export interface Supervisor {
  /**
   * Resolves when the first worker process is ready. Rejects, and the supervisor gives up, when
   * that process exits before (a setting or a database that is wrong will not fix itself);
   * the error's `exitCode` is the worker's.
   */
  ready: Promise<void>;
  /** Stops the worker (SIGTERM: it hands its trials back within the grace period) and restarts no more. */
  stop(): Promise<void>;
}

/** A worker that has run this long without crashing starts its next crash's backoff afresh. */
const STABLE_MS = 60_000;

/**
 * Runs the trial worker in a child process (`maas worker`, forked) and starts a new one when it
 * exits: at once when it recycled itself after a compute-backend fault (exit code
 * {@link RECYCLE_EXIT_CODE}), with backoff when it crashed. The parent holds no tfjs state, so a
 * poisoned backend never reaches it (`start`'s api and predictor run in the parent).
 */
export function superviseWorker(o: SupervisorOptions): Supervisor {
  const graceMs = o.graceMs ?? 30_000;
  const backoffMs = o.backoffMs ?? 1000;
  const maxBackoffMs = o.maxBackoffMs ?? 30_000;
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  let stopping = false;
  let everReady = false;
  let crashes = 0;
  let restart: NodeJS.Timeout | undefined;
  let settle: { resolve: () => void; reject: (err: Error) => void } | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject };
  });
  // stop() may come before the first worker is ready; a caller that no longer waits must not see an unhandled rejection.
  ready.catch(() => undefined);

  const start = (): void => {
    const startedAt = Date.now();
    // stdio is inherited: the worker's JSON log goes where this process's goes.
    const c = fork(ENTRY, ['worker'], { env: { ...process.env, [CHILD_ENV]: '1' } });
    child = c;
    const pid = c.pid;
    c.on('message', (m: unknown) => {
      if ((m as { type?: unknown } | null)?.type !== 'ready') return;
      everReady = true;
      o.log.info('worker process ready', { pid });
      settle?.resolve();
    });
    exited = new Promise((done) =>
      c.once('exit', (code, signal) => {
        child = null;
        done();
        if (stopping) return;
        if (!everReady) {
          o.log.error('worker process exited before it was ready; not restarting it', { pid, code, signal });
          settle?.reject(Object.assign(new Error(`the worker process exited (${code ?? signal}) before it was ready`), { exitCode: code ?? 1 }));
          return;
        }
        const recycled = code === RECYCLE_EXIT_CODE;
        const ranMs = Date.now() - startedAt;
        crashes = ranMs >= STABLE_MS ? 0 : crashes + 1;
        // A recycle is expected and needs no pause, unless the process keeps recycling at once.
        const delay = recycled && ranMs >= 10_000 ? 0 : Math.min(maxBackoffMs, backoffMs * 2 ** Math.max(0, crashes - 1));
        const why = recycled ? 'it recycled itself after a compute-backend fault' : 'it crashed';
        o.log[recycled ? 'info' : 'warn']('worker process exited; starting a new one', { pid, code, signal, why, inMs: delay });
        restart = setTimeout(start, delay);
      }),
    );
  };
  start();

  return {
    ready,
    stop: async () => {
      stopping = true;
      clearTimeout(restart);
      settle?.reject(new Error('stopped before the worker process was ready'));
      const c = child;
      if (!c) return;
      c.kill('SIGTERM');
      const killer = setTimeout(() => c.kill('SIGKILL'), graceMs + 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** What a worker process started by {@link superviseWorker} does for its supervisor. */
export interface SupervisedChild {
  /** Tells the supervisor that the worker takes trials. */
  ready(): void;
  /**
   * Ends this process at once (as SIGKILL would) when the supervisor has died, so that an orphan
   * writes nothing more: a worker killed with its supervisor leaves its trial to its lock, as
   * one killed alone does. Cheap enough to call before every epoch's write.
   */
  checkSupervisor(): void;
}

/** Whether this process is a worker started by {@link superviseWorker}. */
export function underSupervisor(): boolean {
  return process.env[CHILD_ENV] === '1' && typeof process.send === 'function';
}

/** This process's link to its supervisor, or null when it was not started by one. Call it once. */
export function supervisedChild(): SupervisedChild | null {
  if (!underSupervisor()) return null;
  const supervisor = process.ppid;
  const die = () => process.kill(process.pid, 'SIGKILL');
  // The channel closes when the supervisor dies; checkSupervisor also catches it between events.
  process.once('disconnect', die);
  return {
    ready: () => process.send?.({ type: 'ready', pid: process.pid }),
    checkSupervisor: () => {
      if (process.ppid !== supervisor) die();
    },
  };
}
