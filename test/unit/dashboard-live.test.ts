import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// The study page's live follower, with its event stream and api calls replaced, on fake timers.
const live = await import(join(import.meta.dirname, '../../src/dashboard/public/pages/study-live.js'));

type Event = { type: string; id?: string; [k: string]: unknown };
type EventOptions = { after?: string; onOpen?: () => void; onFailure?: () => void };

interface Trial {
  id: string;
  number: number;
  family: string;
  params: Record<string, unknown>;
  state: string;
  value: number | null;
}

/** A study on a fake api: every request is logged with the fake time it came at. */
function fakeApi(trialCount: number, running: number[]) {
  const study = { state: 'running', message: null as string | null };
  const trials: Trial[] = Array.from({ length: trialCount }, (_, n) => ({ id: `t${n}`, number: n, family: 'mlp', params: { units: n }, state: running.includes(n) ? 'running' : 'completed', value: 0.5 }));
  const calls: { path: string; at: number }[] = [];
  const api = async (path: string) => {
    calls.push({ path, at: Date.now() });
    if (path === '/v1/studies/s') return { id: 's', ...study };
    if (path === '/v1/studies/s/trials?limit=500') return { trials };
    const trial = trials.find((t) => path === `/v1/studies/s/trials/${t.id}`);
    if (!trial) throw new Error(`unexpected request ${path}`);
    return { ...trial, rung: 0, curve: [{ attempt: 1, epoch: 1, metrics: { val_loss: 0.9 } }, { attempt: 1, epoch: 2, metrics: { val_loss: 0.8 } }] };
  };
  const curveRequests = () => calls.filter((c) => /\/trials\/t\d+$/.test(c.path)).map((c) => c.path.split('/').pop());
  return { study, trials, calls, api, curveRequests };
}

/** A fake EventSource wrapper: each stream is refused, or opens and sends `history`, as `next` says. */
function fakeEvents() {
  const opened: EventOptions[] = [];
  let closed = 0;
  let next: { refuse: true } | { history: Event[]; thenFail?: boolean } = { refuse: true };
  const events = (_studyId: string, onEvent: (e: Event) => void, options: EventOptions) => {
    opened.push(options);
    const plan = next;
    // Like the browser: the answer comes after the call returns.
    setTimeout(() => {
      if ('refuse' in plan) return options.onFailure?.();
      options.onOpen?.();
      for (const e of plan.history) onEvent(e);
      if (plan.thenFail) options.onFailure?.();
    }, 10);
    return () => void closed++;
  };
  return { events, opened, closed: () => closed, set: (plan: typeof next) => (next = plan) };
}

function follow(api: (path: string) => Promise<unknown>, events: unknown) {
  const store = live.emptyStore();
  const seen = { draws: 0, reloads: 0, modes: [] as string[] };
  const stop = live.followStudy(
    { studyId: 's', metric: 'val_loss', store, onDraw: () => seen.draws++, onReload: () => seen.reloads++, onMode: (m: string) => seen.modes.push(m) },
    { api, events },
  );
  return { store, seen, stop };
}

const ended: Event = { type: 'study.ended', id: '9-0', studyId: 's', state: 'completed', message: null };

describe('the study page follows a study without flooding the api', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    // No jitter: the retries come at 2, 6, 14, 30, 62 s.
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('polls only running trials while the stream is refused, retries it with backoff, and stops once the study ends', async () => {
    const api = fakeApi(40, [38, 39]);
    const ev = fakeEvents();
    const { store, seen, stop } = follow(api.api, ev.events);
    await vi.advanceTimersByTimeAsync(60_000);

    expect(seen.modes).toEqual(['polling']);
    expect(ev.opened).toHaveLength(5);
    expect(new Set(api.curveRequests())).toEqual(new Set(['t38', 't39']));
    // About 4 requests a round, a round every 5 s: well under a few a second.
    expect(api.calls.length).toBeGreaterThan(20);
    expect(api.calls.length).toBeLessThanOrEqual(60);
    for (let at = 0; at < 60_000; at += 1000) expect(api.calls.filter((c) => c.at >= at && c.at < at + 1000).length).toBeLessThanOrEqual(4);
    expect(seen.reloads).toBeLessThanOrEqual(12);
    expect(store.trials.get('t38')).toMatchObject({ state: 'running', curve: [[1, 0.9], [2, 0.8]] });

    // The study ends: one more round reads the trials that were running, then the api hears no more.
    Object.assign(api.study, { state: 'completed', message: 'done' });
    for (const t of api.trials) t.state = 'completed';
    const curvesBefore = api.curveRequests().length;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(store).toMatchObject({ ended: true, studyState: 'completed' });
    expect(api.curveRequests().length).toBe(curvesBefore + 2);
    const reloads = seen.reloads;
    const calls = api.calls.length;
    await vi.advanceTimersByTimeAsync(300_000);
    expect(api.calls.length).toBe(calls);
    expect(seen.reloads).toBe(reloads);

    // The stream is still retried (at most once a minute) for the history; once it has it, all is quiet.
    const opened = ev.opened.length;
    ev.set({ history: [ended] });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(ev.opened.length).toBe(opened + 1);
    await vi.advanceTimersByTimeAsync(600_000);
    expect(ev.opened.length).toBe(opened + 1);
    expect(api.calls.length).toBe(calls);
    stop();
  });

  it('on a working stream sends no request per event, reloads the tables at most every 5 s, and closes at study.ended', async () => {
    const api = fakeApi(1, [0]);
    const ev = fakeEvents();
    const epochs: Event[] = Array.from({ length: 200 }, (_, i) => ({ type: 'trial.epoch', id: `${i}-0`, studyId: 's', trialId: 't0', number: 0, epoch: i + 1, metrics: { val_loss: 1 / (i + 1) }, value: null }));
    // The history, then the server's end of the stream after study.ended, which is no failure.
    ev.set({ history: [...epochs, ended], thenFail: true });
    const { store, seen, stop } = follow(api.api, ev.events);
    await vi.advanceTimersByTimeAsync(10);
    expect(store.ended).toBe(true);
    expect(store.trials.get('t0').curve).toHaveLength(200);
    expect(ev.closed()).toBe(1);
    // Drawn and reloaded once, at once, for the end.
    expect(seen).toEqual({ draws: 1, reloads: 1, modes: [] });
    await vi.advanceTimersByTimeAsync(600_000);
    expect(ev.opened).toHaveLength(1);
    expect(api.calls).toEqual([]);
    expect(seen).toEqual({ draws: 1, reloads: 1, modes: [] });
    stop();
  });

  it('throttles redraws and reloads while events stream in', async () => {
    const api = fakeApi(1, [0]);
    let send: (e: Event) => void = () => undefined;
    const events = (_id: string, onEvent: (e: Event) => void, options: EventOptions) => {
      send = onEvent;
      setTimeout(() => options.onOpen?.(), 10);
      return () => undefined;
    };
    const { seen, stop } = follow(api.api, events);
    // An epoch every 100 ms for 20 s.
    for (let i = 0; i < 200; i++) {
      send({ type: 'trial.epoch', id: `${i}-0`, studyId: 's', trialId: 't0', number: 0, epoch: i + 1, metrics: {}, value: i });
      await vi.advanceTimersByTimeAsync(100);
    }
    expect(seen.draws).toBeGreaterThanOrEqual(15);
    expect(seen.draws).toBeLessThanOrEqual(20);
    expect(seen.reloads).toBeGreaterThanOrEqual(3);
    expect(seen.reloads).toBeLessThanOrEqual(4);
    expect(api.calls).toEqual([]);
    stop();
  });

  it('stops polling when a retried stream opens, and resumes it after the last event seen', async () => {
    const api = fakeApi(3, [2]);
    const ev = fakeEvents();
    ev.set({ history: [{ type: 'trial.created', id: '1-0', studyId: 's', trialId: 't2', number: 2, family: 'mlp', params: {} }], thenFail: true });
    const { seen, stop } = follow(api.api, ev.events);
    await vi.advanceTimersByTimeAsync(100);
    expect(seen.modes).toEqual(['polling']);
    ev.set({ history: [] });
    await vi.advanceTimersByTimeAsync(2_000);
    expect(ev.opened.map((o) => o.after)).toEqual([undefined, '1-0']);
    expect(seen.modes).toEqual(['polling', 'events']);
    const calls = api.calls.length;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(api.calls.length).toBe(calls);
    stop();
  });

  it('after a reset reads the trimmed curves one at a time, at most 50', async () => {
    const api = fakeApi(80, []);
    const ev = fakeEvents();
    ev.set({ history: [{ type: 'reset', id: '5-0', studyId: 's', reason: 'trimmed' }] });
    const { stop } = follow(api.api, ev.events);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(api.curveRequests().length).toBeLessThanOrEqual(4);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(api.curveRequests()).toHaveLength(50);
    stop();
  });
});
