import { ServiceBusyError } from '../errors.ts';
import { errorMessage, type Logger } from '../log.ts';
import { backendFaultOf, probeBackend, resetBackend, type BackendFault } from '../model/index.ts';

/** Returned by {@link BackendGuard.run} when the backend was reset while the work ran: run it again. */
export const AGAIN = Symbol('again');

export interface BackendGuardOptions {
  log: Logger;
  /** Called when the backend is reset: every model loaded before is gone and must be loaded again. */
  onReset: () => void;
  /** Re-creates the compute backend. @defaultValue resetBackend (a fresh tfjs backend instance) */
  reset?: () => Promise<unknown>;
  /** Least time between two attempts to reset a backend that stays broken. @defaultValue 10000 */
  retryResetMs?: number;
}

/**
 * Keeps the api's tfjs backend usable. Work that fails with a backend fault (a wasm trap, an
 * allocation failure) is checked with a probe; a broken backend is reset (a new wasm
 * instance) and the models are loaded again on their next request. While a reset cannot be
 * made, predictions are answered 503 and /healthz reports the backend broken.
 */
export class BackendGuard {
  private broken: string | null = null;
  /** Bumped by each reset: work begun before one ran on tensors that are gone. */
  private generation = 0;
  private recovering: Promise<void> | null = null;
  private lastResetAt = 0;

  constructor(private readonly o: BackendGuardOptions) {}

  /** `ok`, or `broken: <reason>`, probing the backend first (a fraction of a millisecond). */
  async check(): Promise<string> {
    if (this.broken === null) {
      const health = await probeBackend();
      if (!health.ok) await this.recover({ fatal: true, reason: health.reason });
    } else {
      await this.retry();
    }
    return this.broken === null ? 'ok' : `broken: ${this.broken}`;
  }

  /** Throws a 503 while the backend is broken (trying a reset first, at most every retryResetMs). */
  async ensureUsable(): Promise<void> {
    if (this.broken !== null) await this.retry();
    if (this.broken !== null) throw new ServiceBusyError(this.retrySeconds(), `the compute backend is broken (${this.broken}); predictions resume once it is reset`);
  }

  /**
   * Runs tfjs work. A backend fault is probed, and a broken backend reset, before a 503 is
   * thrown for this request; AGAIN when another request's fault reset the backend meanwhile.
   */
  async run<T>(work: () => Promise<T>): Promise<T | typeof AGAIN> {
    const generation = this.generation;
    try {
      return await work();
    } catch (err) {
      if (generation !== this.generation) return AGAIN;
      const fault = backendFaultOf(err);
      if (!fault) throw err;
      await this.recover(fault);
      const now = this.broken === null ? 'it has been reset; retry the request' : `it is broken: ${this.broken}`;
      throw new ServiceBusyError(this.retrySeconds(), `the compute backend failed on this request (${fault.reason}); ${now}`);
    }
  }

  private retrySeconds(): number {
    return this.broken === null ? 1 : Math.ceil((this.o.retryResetMs ?? 10_000) / 1000);
  }

  private async retry(): Promise<void> {
    if (Date.now() - this.lastResetAt < (this.o.retryResetMs ?? 10_000)) return;
    await this.recover({ fatal: true, reason: this.broken ?? 'broken' });
  }

  /** Probes after `fault`; resets the backend when it is broken, or when the fault was a trap (its heap cannot be trusted). */
  private recover(fault: BackendFault): Promise<void> {
    this.recovering ??= (async () => {
      const health = await probeBackend();
      if (health.ok && !fault.fatal && this.broken === null) return;
      const why = health.ok ? fault.reason : health.reason;
      this.o.log.error('compute backend fault while predicting; resetting the backend', { fault: fault.reason, probe: health.ok ? 'ok' : health.reason });
      this.generation++;
      this.lastResetAt = Date.now();
      this.o.onReset();
      try {
        const name = await (this.o.reset ?? resetBackend)();
        const after = await probeBackend();
        if (!after.ok) throw new Error(after.reason);
        this.broken = null;
        this.o.log.info('compute backend reset; models load again on their next request', { backend: name });
      } catch (err) {
        this.broken = `${why}; a reset failed: ${errorMessage(err)}`;
        this.o.log.error('compute backend broken and could not be reset; predict answers 503 until it is', { reason: this.broken });
      }
    })().finally(() => {
      this.recovering = null;
    });
    return this.recovering;
  }
}
