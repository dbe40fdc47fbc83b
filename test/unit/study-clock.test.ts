import { describe, expect, it } from 'vitest';
import { runningSeconds } from '../../src/storage/index.ts';

/** The clock a study's time limit counts: running time only, kept across a continuation. */
describe('runningSeconds', () => {
  const at = (s: number) => new Date(Date.UTC(2026, 0, 1) + s * 1000);
  const now = at(1000).getTime();

  it('counts from creation while the study runs, and stops at its end', () => {
    expect(runningSeconds({ createdAt: at(0), endedAt: null, resumedAt: null, ranSeconds: 0 }, now)).toBe(1000);
    expect(runningSeconds({ createdAt: at(0), endedAt: at(300), resumedAt: null, ranSeconds: 0 }, now)).toBe(300);
  });

  it('adds the time run before a continuation to the time since it, leaving out the gap', () => {
    // Ran 300 s, stayed completed until 900, continued then: 300 + 100.
    expect(runningSeconds({ createdAt: at(0), endedAt: null, resumedAt: at(900), ranSeconds: 300 }, now)).toBe(400);
    // Ended again at 950: 300 + 50, whatever the time now.
    expect(runningSeconds({ createdAt: at(0), endedAt: at(950), resumedAt: at(900), ranSeconds: 300 }, now)).toBe(350);
  });

  it('ignores an end older than the continuation (a row read between the two writes)', () => {
    expect(runningSeconds({ createdAt: at(0), endedAt: at(300), resumedAt: at(900), ranSeconds: 300 }, now)).toBe(400);
  });
});
