// A study's trials as its live events describe them: a small store the page folds every event into.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, events } from '../api.js';

/** An empty store: trials by id, the champion decision, the study's latest state. */
export function emptyStore() {
  return { trials: new Map(), champion: null, studyState: null, message: null, ended: false, reset: false };
}

function trialOf(store, e) {
  let t = store.trials.get(e.trialId);
  if (!t) {
    t = { id: e.trialId, number: e.number, family: e.family ?? null, params: e.params ?? null, state: 'queued', value: null, rung: 0, pausedAt: null, curve: [] };
    store.trials.set(e.trialId, t);
  }
  return t;
}

/** Folds one event into the store. `metric` is the objective, read from an epoch's metrics when its value is null. */
export function apply(store, e, metric) {
  switch (e.type) {
    case 'trial.created': {
      const t = trialOf(store, e);
      t.family = e.family;
      t.params = e.params;
      break;
    }
    case 'trial.started':
      Object.assign(trialOf(store, e), { state: 'running', attempt: e.attempt, worker: e.worker, backend: e.backend });
      break;
    case 'trial.epoch': {
      const t = trialOf(store, e);
      const value = e.value ?? e.metrics?.[metric] ?? null;
      // A new attempt starts over (or resumes from a checkpoint): its epochs replace the ones it repeats.
      t.curve = t.curve.filter((p) => p[0] < e.epoch);
      if (value !== null) t.curve.push([e.epoch, value]);
      t.state = 'running';
      break;
    }
    case 'trial.paused':
      Object.assign(trialOf(store, e), { state: 'paused', rung: e.rung, pausedAt: { rung: e.rung, epoch: e.epoch } });
      break;
    case 'trial.promoted':
      Object.assign(trialOf(store, e), { state: 'running', rung: e.rung, pausedAt: null });
      break;
    case 'trial.requeued':
      Object.assign(trialOf(store, e), { state: 'queued', requeued: e.reason });
      break;
    case 'trial.ended':
      Object.assign(trialOf(store, e), { state: e.state, value: e.value, reason: e.reason });
      break;
    case 'study.state':
      Object.assign(store, { studyState: e.state, message: e.message });
      break;
    case 'study.continued':
      if (e.reopened) Object.assign(store, { studyState: 'running', message: e.message, ended: false });
      break;
    case 'study.ended':
      Object.assign(store, { studyState: e.state, message: e.message, ended: true });
      break;
    case 'champion.decision':
      store.champion = e;
      break;
    case 'reset':
      // Older events were trimmed from the stream: curves begun before them are read from the api.
      store.reset = true;
      break;
  }
}

const FINAL_TRIAL = ['completed', 'pruned', 'failed', 'cancelled'];
const FINAL_STUDY = ['completed', 'failed', 'cancelled'];

/**
 * How hard a page follows a study, in requests it may send. With the defaults a tab sends about
 * 0.6 requests a second while the event stream works (its tables, every 5 s) and about 2 while it
 * polls, far under a key's 600 a minute.
 */
export const PACE = {
  /** The charts redraw from the store at most this often, in ms (no requests). */
  drawMs: 1000,
  /** The page re-reads its tables (study, trials, leaderboard: 3 requests) at most this often, in ms. */
  reloadMs: 5000,
  /** While the stream is refused, a polling round (study, trials, curves) starts this long after the last ended, in ms. */
  pollMs: 5000,
  /** Curves (a request each) read in one polling round: those of running trials, the first this many. */
  curvesPerRound: 8,
  /** Curves read after a `reset` (events trimmed before the page saw them), at most. */
  curvesAfterReset: 50,
  /** Between two curve requests, in ms, so a round's requests do not come in a burst. */
  curveGapMs: 300,
  /** The first retry of a refused stream, in ms; each refusal doubles it up to retryMaxMs. */
  retryMs: 2000,
  retryMaxMs: 60_000,
  /** While the study is completed, the page re-reads it this often, in ms, so a continue from elsewhere (the CLI, another tab) is followed. */
  endedReadMs: 10_000,
};

const path = (studyId, trialId) => `/v1/studies/${encodeURIComponent(studyId)}${trialId === undefined ? '' : `/trials/${encodeURIComponent(trialId)}`}`;

/** Puts a trial's curve of its latest attempt, as the api has it, into the store. */
function foldTrial(store, t, metric) {
  const attempt = Math.max(0, ...t.curve.map((p) => p.attempt));
  const mine = trialOf(store, { trialId: t.id, number: t.number, family: t.family, params: t.params });
  Object.assign(mine, { state: t.state, value: t.value, rung: t.rung, family: t.family, params: t.params });
  mine.curve = t.curve.filter((p) => p.attempt === attempt && p.metrics[metric] !== undefined).map((p) => [p.epoch, p.metrics[metric]]);
}

/**
 * Follows a study: its event stream is folded into `store` (history first, then live). `onDraw`
 * runs at most every `pace.drawMs` while the store changes, `onReload` (the page re-reads its
 * tables) at most every `pace.reloadMs`, and both at once when the study ends. The stream is
 * closed on `study.ended` (the server ends it there too); that is not a failure.
 *
 * When the stream is refused (429 or 503 over the server's caps, 401, a proxy's error) the store
 * is kept from the api instead: a round every `pace.pollMs` reads the study, its trial list and
 * the curves of running trials only; polling stops once the study has ended. Meanwhile the
 * stream is retried, 2 s after the refusal, then 4, 8, … up to a minute; once one opens, polling
 * stops. `onMode('events' | 'polling')` says which. `deps` are for tests.
 *
 * A completed study may be continued and run again; its stream then goes on after the
 * study.ended this page saw. `resume(view)` (the returned function's property) opens the stream
 * again from the last event seen, so no history comes twice, when the api's `view` of the study
 * says it was continued after that end; otherwise it does nothing.
 *
 * @returns a function that stops everything (the page's unmount), with `resume(view)`.
 */
export function followStudy({ studyId, metric, store, onDraw, onReload, onMode }, { events: openEvents = events, api: call = api, pace = PACE } = {}) {
  let stopped = false;
  let source = null;
  let lastId;
  // The stream delivered study.ended: nothing more will come, from it or from the api, unless
  // the study is continued (resume).
  let streamEnded = false;
  // When that study.ended was appended, in ms: a study continued later runs again.
  let endedAt = null;
  let polling = false;
  let pollTimer = null;
  let retryTimer = null;
  let retryDelay = pace.retryMs;
  let drawTimer = null;
  let reloadTimer = null;
  let lastReload = Date.now();
  let backfilling = false;

  const draw = () => {
    clearTimeout(drawTimer);
    drawTimer = null;
    if (!stopped) onDraw?.();
  };
  const reload = () => {
    clearTimeout(reloadTimer);
    reloadTimer = null;
    lastReload = Date.now();
    if (!stopped) onReload?.();
  };
  const changed = () => {
    if (drawTimer === null) drawTimer = setTimeout(draw, pace.drawMs);
    if (reloadTimer === null) reloadTimer = setTimeout(reload, Math.max(pace.drawMs, lastReload + pace.reloadMs - Date.now()));
  };
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  /** Reads trials' curves one at a time, `pace.curveGapMs` apart. */
  async function readCurves(ids) {
    for (const [i, id] of ids.entries()) {
      if (stopped) return;
      if (i > 0) await sleep(pace.curveGapMs);
      foldTrial(store, await call(path(studyId, id)), metric);
    }
  }

  function stopPolling() {
    polling = false;
    clearTimeout(pollTimer);
    pollTimer = null;
  }

  /** The study has ended (the stream or the api said so): one last draw and reload, then quiet. */
  function ended() {
    stopPolling();
    draw();
    reload();
  }

  async function round() {
    pollTimer = null;
    try {
      const study = await call(path(studyId));
      const { trials } = await call(`${path(studyId)}/trials?limit=500`);
      // Running now, or running at the last round (their last epochs came since).
      const wanted = trials.filter((t) => t.state === 'running' || store.trials.get(t.id)?.state === 'running').slice(0, pace.curvesPerRound);
      for (const t of trials) {
        Object.assign(trialOf(store, { trialId: t.id, number: t.number, family: t.family, params: t.params }), { family: t.family, params: t.params, state: t.state, value: t.value });
      }
      await readCurves(wanted.map((t) => t.id));
      if (!polling || stopped) return;
      changed();
      if (FINAL_STUDY.includes(study.state)) {
        Object.assign(store, { studyState: study.state, message: study.message, ended: true });
        ended();
        return;
      }
    } catch {
      // The next round tries again; the page shows the api's errors from its own requests.
    }
    if (polling && !stopped) pollTimer = setTimeout(round, pace.pollMs);
  }

  /** After a `reset` the events before it are gone: curves begun before them are read from the api. */
  async function backfill() {
    if (backfilling) return;
    backfilling = true;
    try {
      const { trials } = await call(`${path(studyId)}/trials?limit=500`);
      const wanted = trials.filter((t) => !FINAL_TRIAL.includes(t.state) || !store.trials.get(t.id)?.curve.length).slice(0, pace.curvesAfterReset);
      await readCurves(wanted.map((t) => t.id));
      changed();
    } catch {
      // The live events go on; only the trimmed part of some curves is missing.
    } finally {
      backfilling = false;
    }
  }

  function connect() {
    retryTimer = null;
    if (stopped || streamEnded) return;
    source = openEvents(studyId, (e) => {
      if (stopped) return;
      if (e.id) lastId = e.id;
      apply(store, e, metric);
      if (e.type === 'reset') void backfill();
      if (e.type === 'study.ended') {
        streamEnded = true;
        endedAt = Date.parse(e.at) || 0;
        source?.();
        ended();
      } else changed();
    }, {
      after: lastId,
      onOpen: () => {
        retryDelay = pace.retryMs;
        if (polling) {
          stopPolling();
          onMode?.('events');
        }
      },
      onFailure: () => {
        if (stopped || streamEnded) return;
        source = null;
        if (!polling && !store.ended) {
          polling = true;
          onMode?.('polling');
          void round();
        }
        // Jittered, so tabs refused together do not come back together.
        retryTimer = setTimeout(connect, retryDelay * (0.75 + Math.random() * 0.5));
        retryDelay = Math.min(retryDelay * 2, pace.retryMaxMs);
      },
    });
  }

  /** Opens the stream again when `view` (the api's study) was continued after the end the stream sent. */
  function resume(view) {
    if (stopped || !streamEnded || !view || FINAL_STUDY.includes(view.state)) return;
    // An answer read before the end came (still "running") is stale, not a continue.
    if (!view.resumedAt || !(Date.parse(view.resumedAt) > endedAt)) return;
    streamEnded = false;
    // The api says it runs: a refused stream is stood in for by polling, as for any active study.
    Object.assign(store, { ended: false, studyState: view.state });
    connect();
  }

  connect();
  const stop = () => {
    stopped = true;
    source?.();
    stopPolling();
    clearTimeout(retryTimer);
    clearTimeout(drawTimer);
    clearTimeout(reloadTimer);
  };
  return Object.assign(stop, { resume });
}

/**
 * The page's hook over followStudy: `version` changes when the charts should redraw, `onChange`
 * runs when the page should re-read its tables, `mode` is 'events' or 'polling', and
 * `resume(view)` follows the study again once the api's `view` says it was continued.
 */
export function useLiveStudy(studyId, metric, onChange) {
  const store = useRef(emptyStore());
  const follower = useRef(null);
  const [version, setVersion] = useState(0);
  const [mode, setMode] = useState('events');
  const changed = useRef(onChange);
  changed.current = onChange;

  useEffect(() => {
    if (!metric) return undefined;
    store.current = emptyStore();
    const stop = followStudy({
      studyId,
      metric,
      store: store.current,
      onDraw: () => setVersion((v) => v + 1),
      onReload: () => changed.current?.(),
      onMode: setMode,
    });
    follower.current = stop;
    return () => {
      follower.current = null;
      stop();
    };
  }, [studyId, metric]);
  return { store: store.current, version, mode, resume: (view) => follower.current?.resume(view) };
}
