// The one way pages talk to the api: JSON in, JSON out, the server's message on failure.

/** The value of a cookie readable by scripts (the CSRF token), or undefined. */
function cookie(name) {
  for (const part of document.cookie.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

/** An answer that was not 2xx: `status` and `code` come from the server, `message` is its own words. */
export class ApiError extends Error {
  constructor(status, code, message, issues) {
    super(message);
    this.status = status;
    this.code = code;
    this.issues = issues;
  }
}

/**
 * Calls the api; resolves to the parsed JSON (null for an empty answer), or throws an ApiError
 * carrying the server's message. A 401 also tells the app, which shows the sign-in form.
 */
export async function api(path, { method = 'GET', body } = {}) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin' };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined || method === 'POST') {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body ?? {});
  }
  const csrf = cookie('maas_csrf');
  if (csrf && method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = csrf;
  const res = await fetch(path, init);
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const error = data?.error;
    if (res.status === 401) window.dispatchEvent(new CustomEvent('maas:unauthorized'));
    throw new ApiError(res.status, error?.code ?? 'http_error', error?.message ?? `${method} ${path} answered ${res.status}`, error?.issues);
  }
  return data;
}

/** Every event type of a study's stream (see GET /v1/studies/{id}/events). */
export const EVENT_TYPES = [
  'trial.created', 'trial.started', 'trial.epoch', 'trial.paused', 'trial.promoted', 'trial.requeued', 'trial.ended',
  'study.state', 'study.continued', 'study.ended', 'champion.decision', 'reset',
];

/**
 * Follows a study's live events: `onEvent(event)` gets each parsed event, history first. The
 * browser's EventSource reconnects by itself with Last-Event-ID after a dropped connection. The
 * stream is closed after study.ended (nothing follows it; the server ends it there and answers a
 * reconnect past it with 204, which is no failure) or when the returned function is called.
 * `onOpen` runs each time the stream is connected; `onFailure` when the browser gives up on it
 * (an answer that is not an event stream, such as 429, 503, 401 or 404), so a page can poll
 * meanwhile and open a new stream later.
 */
export function events(studyId, onEvent, { after, onOpen, onFailure } = {}) {
  const url = `/v1/studies/${encodeURIComponent(studyId)}/events${after ? `?after=${encodeURIComponent(after)}` : ''}`;
  const source = new EventSource(url);
  let ended = false;
  const handle = (message) => {
    let event;
    try {
      event = JSON.parse(message.data);
    } catch {
      return;
    }
    event.id = message.lastEventId;
    if (event.type === 'study.ended') {
      ended = true;
      source.close();
    }
    onEvent(event);
  };
  for (const type of EVENT_TYPES) source.addEventListener(type, handle);
  source.addEventListener('open', () => onOpen?.());
  source.addEventListener('error', () => {
    if (!ended && source.readyState === EventSource.CLOSED) onFailure?.();
  });
  return () => source.close();
}
