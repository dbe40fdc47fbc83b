import { describe, expect, it } from 'vitest';
import type { BatchRun } from '../../src/serving/batcher.ts';
import { MergedCalls } from '../../src/serving/merged-calls.ts';

/**
 * A fake model of one feature and two outputs per row, [x, 10x], recording each call's rows; its
 * first call waits for `finishFirst`, as a long call on another thread; a NaN row makes it throw.
 */
function slowFirstModel() {
  const calls: number[][] = [];
  let finishFirst!: () => void;
  const first = new Promise<void>((resolve) => (finishFirst = resolve));
  const run: BatchRun = async (features, count) => {
    calls.push([...features]);
    if (calls.length === 1) await first;
    if (features.some(Number.isNaN)) throw new Error('a NaN row');
    const out = new Float32Array(count * 2);
    features.forEach((x, i) => {
      out[2 * i] = x;
      out[2 * i + 1] = 10 * x;
    });
    return out;
  };
  return { calls, run, finishFirst };
}

const rows = (...xs: number[]) => Float32Array.from(xs);
const values = (answers: Float32Array[]) => answers.map((a) => [...a]);

describe('MergedCalls', () => {
  it('runs one call at a time and merges the calls made meanwhile into the next, up to maxRows, each answered with its own rows', async () => {
    const m = slowFirstModel();
    const merged = new MergedCalls(m.run, { maxRows: 4 });
    const first = merged.call(rows(1), 1);
    const later = [merged.call(rows(2), 1), merged.call(rows(3, 4), 2), merged.call(rows(5), 1), merged.call(rows(6, 7), 2)];
    await new Promise((done) => setImmediate(done));
    // Nothing else runs while the first call does.
    expect(m.calls).toEqual([[1]]);
    m.finishFirst();
    expect(values([await first, ...(await Promise.all(later))])).toEqual([[1, 10], [2, 20], [3, 30, 4, 40], [5, 50], [6, 60, 7, 70]]);
    // 1 + 2 + 1 rows fill one call of 4; the last two rows wait for the next.
    expect(m.calls).toEqual([[1], [2, 3, 4, 5], [6, 7]]);
  });

  it('runs a call of more than maxRows alone', async () => {
    const m = slowFirstModel();
    const merged = new MergedCalls(m.run, { maxRows: 2 });
    const answers = Promise.all([merged.call(rows(1), 1), merged.call(rows(2, 3, 4), 3), merged.call(rows(5), 1)]);
    m.finishFirst();
    await answers;
    expect(m.calls).toEqual([[1], [2, 3, 4], [5]]);
  });

  it('runs the calls of a failed merged call one by one, failing only the bad one, unless retryAlone says no', async () => {
    const m = slowFirstModel();
    const merged = new MergedCalls(m.run, { maxRows: 8 });
    const first = merged.call(rows(0), 1);
    const answers = Promise.allSettled([merged.call(rows(1), 1), merged.call(rows(Number.NaN), 1), merged.call(rows(3), 1)]);
    m.finishFirst();
    await first;
    expect((await answers).map((a) => a.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(m.calls).toEqual([[0], [1, Number.NaN, 3], [1], [Number.NaN], [3]]);

    const n = slowFirstModel();
    const strict = new MergedCalls(n.run, { maxRows: 8, retryAlone: () => false });
    const head = strict.call(rows(0), 1);
    const failed = Promise.allSettled([strict.call(rows(1), 1), strict.call(rows(Number.NaN), 1)]);
    n.finishFirst();
    await head;
    expect((await failed).map((a) => a.status)).toEqual(['rejected', 'rejected']);
    expect(n.calls).toEqual([[0], [1, Number.NaN]]);
  });
});
