import { afterEach, describe, expect, it, vi } from 'vitest';
import { Batcher, type BatchRun } from '../../src/serving/batcher.ts';

/**
 * A fake model of one feature and two outputs per row, [x, 10x], recording each call's rows; a
 * row of NaN makes it throw, as a model call that one bad request breaks.
 */
function fakeModel() {
  const calls: number[][] = [];
  const run: BatchRun = async (features, count) => {
    calls.push([...features]);
    if (features.some(Number.isNaN)) throw new Error('a NaN row');
    const out = new Float32Array(count * 2);
    features.forEach((x, i) => {
      out[2 * i] = x;
      out[2 * i + 1] = 10 * x;
    });
    return out;
  };
  return { calls, run };
}

const rows = (...xs: number[]) => Float32Array.from(xs);
const turn = () => new Promise((done) => setImmediate(done));

describe('Batcher', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('coalesces requests submitted together into one call, each getting its own rows in order', async () => {
    const m = fakeModel();
    const b = new Batcher(m.run, { maxWaitMs: 1 });
    const answers = await Promise.all([b.submit(rows(1, 2), 2), b.submit(rows(3), 1), b.submit(rows(4, 5, 6), 3)]);
    expect(m.calls).toEqual([[1, 2, 3, 4, 5, 6]]);
    expect(answers.map((a) => [...a])).toEqual([[1, 10, 2, 20], [3, 30], [4, 40, 5, 50, 6, 60]]);
  });

  it('runs the others of a failed batch one by one, failing only the bad request', async () => {
    const m = fakeModel();
    const b = new Batcher(m.run, { maxWaitMs: 1 });
    const answers = await Promise.allSettled([b.submit(rows(1), 1), b.submit(rows(Number.NaN), 1), b.submit(rows(3), 1)]);
    expect(answers.map((a) => a.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(answers[0]!.status === 'fulfilled' && [...answers[0]!.value]).toEqual([1, 10]);
    expect(answers[2]!.status === 'fulfilled' && [...answers[2]!.value]).toEqual([3, 30]);
    expect(m.calls).toEqual([[1, Number.NaN, 3], [1], [Number.NaN], [3]]);
  });

  it('fails the whole batch, without running it again, when retryAlone says the error is not one request\'s', async () => {
    const m = fakeModel();
    const b = new Batcher(m.run, { maxWaitMs: 1, retryAlone: () => false });
    const answers = await Promise.allSettled([b.submit(rows(1), 1), b.submit(rows(Number.NaN), 1)]);
    expect(answers.map((a) => a.status)).toEqual(['rejected', 'rejected']);
    expect(m.calls).toHaveLength(1);
  });

  it('never puts more than maxBatchSize instances in one call, runs a full batch at once, and a larger request alone', async () => {
    vi.useFakeTimers();
    const m = fakeModel();
    const b = new Batcher(m.run, { maxBatchSize: 4, maxWaitMs: 1000 });
    const first = b.submit(rows(1, 2), 2);
    const second = b.submit(rows(3), 1);
    const third = b.submit(rows(4, 5), 2);
    // 2 + 1 + 2 > 4: the first two made a batch that could not grow, so it ran without waiting.
    expect(m.calls).toEqual([[1, 2, 3]]);
    const big = b.submit(rows(6, 7, 8, 9, 10), 5);
    expect(m.calls).toEqual([[1, 2, 3], [6, 7, 8, 9, 10]]);
    expect([...(await big)]).toEqual([6, 60, 7, 70, 8, 80, 9, 90, 10, 100]);
    expect(b.queued).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(m.calls).toEqual([[1, 2, 3], [6, 7, 8, 9, 10], [4, 5]]);
    expect((await Promise.all([first, second, third])).map((a) => a.length)).toEqual([4, 2, 4]);
  });

  it('holds a batch for maxWaitMs and no longer', async () => {
    vi.useFakeTimers();
    const m = fakeModel();
    const b = new Batcher(m.run, { maxWaitMs: 50 });
    const first = b.submit(rows(1), 1);
    await vi.advanceTimersByTimeAsync(30);
    const second = b.submit(rows(2), 1);
    await vi.advanceTimersByTimeAsync(19);
    expect(m.calls).toEqual([]);
    // 50 ms after the first request, not after the second.
    await vi.advanceTimersByTimeAsync(1);
    expect(m.calls).toEqual([[1, 2]]);
    expect([...(await first), ...(await second)]).toEqual([1, 10, 2, 20]);
  });

  it('with maxWaitMs 0 sets no timer: it coalesces what is queued in this turn, and a later request makes a new batch', async () => {
    const m = fakeModel();
    const b = new Batcher(m.run, { maxWaitMs: 0 });
    const together = [b.submit(rows(1), 1), b.submit(rows(2), 1)];
    expect(m.calls).toEqual([]);
    await turn();
    const later = b.submit(rows(3), 1);
    await Promise.all([...together, later]);
    expect(m.calls).toEqual([[1, 2], [3]]);
  });

  it('runs at once when no request is on its way, and waits while one is', async () => {
    vi.useFakeTimers();
    const m = fakeModel();
    let pending = 1;
    const b = new Batcher(m.run, { maxWaitMs: 1000, pending: () => pending });
    const first = b.submit(rows(1), 1);
    expect(m.calls).toEqual([]);
    pending = 0;
    const second = b.submit(rows(2), 1);
    // The last one on its way has arrived: no reason to wait for the timer.
    expect(m.calls).toEqual([[1, 2]]);
    await Promise.all([first, second]);
    const alone = b.submit(rows(3), 1);
    expect(m.calls).toEqual([[1, 2], [3]]);
    await alone;
    pending = 1;
    const waiting = b.submit(rows(4), 1);
    pending = 0;
    b.poke();
    expect(m.calls).toEqual([[1, 2], [3], [4]]);
    await waiting;
  });

  it('drain runs what is queued and resolves after every batch has ended', async () => {
    const m = fakeModel();
    const b = new Batcher(m.run, { maxWaitMs: 60_000 });
    const answer = b.submit(rows(7), 1);
    let settled = false;
    void answer.then(() => {
      settled = true;
    });
    await b.drain();
    await turn();
    expect(settled).toBe(true);
    expect(m.calls).toEqual([[7]]);
  });

  it('refuses a model answer that cannot be split into whole rows', async () => {
    const b = new Batcher(async () => new Float32Array(3), { maxWaitMs: 1 });
    const answers = await Promise.allSettled([b.submit(rows(1), 1), b.submit(rows(2), 1)]);
    expect(answers.map((a) => a.status === 'rejected' && String(a.reason))).toEqual([
      'Error: the model gave 3 outputs for a batch of 2 instances, not a whole number per instance',
      'Error: the model gave 3 outputs for a batch of 2 instances, not a whole number per instance',
    ]);
  });

  it('refuses settings out of range, naming them', () => {
    const run = fakeModel().run;
    expect(() => new Batcher(run, { maxBatchSize: 0 })).toThrow('maxBatchSize is 0, but must be an integer >= 1');
    expect(() => new Batcher(run, { maxWaitMs: -1 })).toThrow('maxWaitMs is -1, but must be a number >= 0');
  });
});
