import type { StudyConfig } from '../schemas.ts';

/**
 * What becomes of a trial whose attempt stopped reporting for the study's trialTimeoutSeconds:
 * queued again (a new job that continues from its checkpoint) while it has retries left, else
 * failed with the reason. The coordinator's sweep and the worker that gives up on a hung trial
 * both decide with this, so either may act first and the outcome is the same.
 */
export function stuckOutcome(budget: StudyConfig['budget'], retries: number): { retry: true } | { retry: false; reason: string } {
  if (retries < budget.maxRetries) return { retry: true };
  const tries = budget.maxRetries + 1;
  return { retry: false, reason: `no report for ${budget.trialTimeoutSeconds} s (budget.trialTimeoutSeconds) on ${tries} ${tries === 1 ? 'try' : 'tries'}` };
}

/**
 * A timer that fires when `ms` pass without a `touch`: a trial's silence. `silent` resolves
 * then (and never, once stopped).
 */
export function silenceWatch(ms: number): { silent: Promise<'silent'>; touch(): void; stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  let fire!: (value: 'silent') => void;
  const silent = new Promise<'silent'>((resolve) => (fire = resolve));
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => fire('silent'), ms);
    // A silent trial must not keep a process alive that has nothing else to do.
    timer.unref();
  };
  arm();
  return { silent, touch: arm, stop: () => clearTimeout(timer) };
}
