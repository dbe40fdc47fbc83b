import { errorMessage, type Logger } from '../log.ts';
import type { ServingMetrics } from './metrics.ts';
import type { VersionRef } from './source.ts';

/**
 * Runs shadow predictions in the background, at most `maxInFlight` at once: a shadow beyond them is
 * dropped (and counted) rather than queued, so shadow work never piles up behind the answers.
 * Only each shadow's count and latency are kept (and a failure's message, at debug level).
 */
export class ShadowRunner {
  private readonly running = new Set<Promise<void>>();
  private closed = false;

  constructor(
    private readonly metrics: ServingMetrics,
    private readonly log: Logger,
    /** Shadow predictions running at once. */
    private readonly maxInFlight: number,
  ) {}

  /**
   * Starts `predict` (false: nothing was predicted, e.g. the backend was reset meanwhile) for the
   * shadow version `ref`, unless maxInFlight run already or the runner is closed; never waits for it.
   * `done` runs after it, whatever the outcome.
   */
  start(ref: VersionRef, predict: () => Promise<boolean>, done: () => void): void {
    if (this.closed) return;
    const labels = { project: ref.projectId, model: ref.name, version: ref.version };
    if (this.running.size >= this.maxInFlight) {
      this.metrics.dropped(labels);
      return;
    }
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    const work: Promise<void> = predict()
      .then(
        (predicted) => {
          if (predicted) this.metrics.record({ ...labels, role: 'shadow' }, seconds(), true);
        },
        (err: unknown) => {
          this.metrics.record({ ...labels, role: 'shadow' }, seconds(), false);
          this.log.debug('shadow prediction failed', { name: ref.name, version: ref.version, error: errorMessage(err) });
        },
      )
      .finally(() => {
        this.running.delete(work);
        done();
      });
    this.running.add(work);
  }

  /** Resolves once the shadow predictions running now (and any they started) have ended. */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  /** Starts no more shadows. */
  close(): void {
    this.closed = true;
  }
}
