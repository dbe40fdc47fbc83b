import { describe, expect, it } from 'vitest';
import type { StudyEvent } from '../../src/client/index.ts';
import { Tally } from '../../src/cli/watch.ts';

const at = '2026-01-01T00:00:00.000Z';
const base = { studyId: 's', at };

/** A trial's events from its start to its end, with `epochs` epochs. */
function trialRun(number: number, epochs: number, value: number): StudyEvent[] {
  const trial = { ...base, trialId: `t${number}`, number };
  return [
    { ...trial, type: 'trial.started', attempt: 1, worker: 'w', backend: 'cpu' },
    ...Array.from({ length: epochs }, (_, i): StudyEvent => ({ ...trial, type: 'trial.epoch', epoch: i + 1, metrics: { val_accuracy: value }, value })),
    { ...trial, type: 'trial.ended', state: 'completed', value, reason: null },
  ] as StudyEvent[];
}

const reset = { ...base, type: 'reset', reason: 'trimmed' } as StudyEvent;

describe('maas studies watch counts what the events say', () => {
  it('counts events replayed after a reset once', () => {
    const tally = new Tally(3, 'val_accuracy', true, Date.parse(at));
    const seen = [...trialRun(0, 3, 0.5), ...trialRun(1, 2, 0.7)];
    for (const e of seen) tally.apply(e);
    expect([tally.ended.size, tally.epochs]).toEqual([2, 5]);
    // The stream starts over from the oldest kept event: what the watch saw comes again.
    for (const e of [reset, ...trialRun(1, 2, 0.7), ...trialRun(2, 4, 0.6)]) tally.apply(e);
    expect([tally.ended.size, tally.epochs, tally.running.size]).toEqual([3, 9, 0]);
    expect(tally.best).toEqual({ number: 1, value: 0.7 });
  });

  it('keeps what it saw when the reset continues with events it has not seen', () => {
    const tally = new Tally(3, 'val_accuracy', true, Date.parse(at));
    for (const e of [...trialRun(0, 3, 0.9), reset, ...trialRun(2, 1, 0.4)]) tally.apply(e);
    expect([tally.ended.size, tally.epochs]).toEqual([2, 4]);
    expect(tally.best).toEqual({ number: 0, value: 0.9 });
  });
});
