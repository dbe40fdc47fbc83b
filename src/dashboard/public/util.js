// Small pieces every page uses: loading data, showing errors, formatting numbers and times.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api } from './api.js';
import { html } from './html.js';

/**
 * Loads `path` (when it is not null); `reload()` loads it again now. With `every` (ms, or a
 * function of the latest data giving ms or nothing, e.g. to stop once what it shows has ended),
 * it is loaded again that long after each answer. Returns { data, error, loading, reload }; the
 * last good data stays while reloading.
 */
export function useApi(path, { every } = {}) {
  const [state, setState] = useState({ data: undefined, error: null, loading: path !== null });
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const interval = useRef(every);
  interval.current = every;
  useEffect(() => {
    if (path === null) return undefined;
    let live = true;
    let timer;
    setState((s) => ({ ...s, loading: true }));
    const again = (data) => {
      const ms = typeof interval.current === 'function' ? interval.current(data) : interval.current;
      if (live && ms) timer = setTimeout(reload, ms);
    };
    api(path).then(
      (data) => {
        if (!live) return;
        setState({ data, error: null, loading: false });
        again(data);
      },
      (error) => {
        if (!live) return;
        setState((s) => ({ data: s.data, error, loading: false }));
        again(undefined);
      },
    );
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [path, tick]);
  return { ...state, reload };
}

/** An error box with the server's message (and its per-field issues, when there are some). */
/**
 * A list the api pages with `limit` and `cursor`: the first page on mount, `more()` appends the next,
 * `reload()` starts again from the first.
 */
export function usePagedList(path, field, limit) {
  const [items, setItems] = useState([]);
  const [next, setNext] = useState(null);
  const [error, setError] = useState(null);
  const [loading, setLoading] = useState(true);
  async function load(cursor) {
    setLoading(true);
    try {
      const page = await api(`${path}?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      setItems((old) => (cursor ? [...old, ...page[field]] : page[field]));
      setNext(page.nextCursor);
      setError(null);
    } catch (err) {
      setError(err);
    } finally {
      setLoading(false);
    }
  }
  useEffect(() => void load(), []);
  return { items, next, error, loading, more: () => load(next), reload: () => load() };
}

export function ErrorNote({ error }) {
  if (!error) return null;
  return html`<div class="error" role="alert" data-testid="error">
    ${error.message ?? String(error)}
    ${error.issues?.length ? html`<ul>${error.issues.map((i) => html`<li><code>${i.field}</code> ${i.rule}</li>`)}</ul>` : null}
  </div>`;
}

/** A number with at most `digits` significant digits, or an en dash for none. */
export function num(value, digits = 4) {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  if (Number.isInteger(value)) return String(value);
  return Number(value.toPrecision(digits)).toString();
}

/** A duration in ms as "1 h 2 min", "3 min 4 s" or "5 s". */
export function duration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** A local date and time from an ISO string. */
export function when(iso) {
  return iso ? new Date(iso).toLocaleString() : '–';
}

/** A state as a coloured badge (the colours are in style.css). */
export function StateBadge({ state }) {
  return html`<span class=${`badge state-${state}`} data-state=${state}>${state}</span>`;
}
