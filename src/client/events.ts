import { createParser } from 'eventsource-parser';
import { liveEventSchema, type LiveEvent } from '../events/schema.ts';
import { MaasApiError } from './errors.ts';

/**
 * What GET /v1/studies/{id}/events sends, one member per `event:` type: the server's own schema
 * (src/events/schema.ts), so the two cannot drift apart.
 */
export type StudyEvent = LiveEvent;

/** An event with the stream id it came under (what Last-Event-ID resumes after). */
export type ReceivedEvent = StudyEvent & { id: string | undefined };

/** Where the api is; what createMaasClient keeps as `client.connection`. */
export interface Connection {
  /** The api's base URL, e.g. http://127.0.0.1:3000. */
  url: string;
  /** API key, sent as `Authorization: Bearer <key>`. @defaultValue none (an open deployment) */
  key?: string;
  /** @defaultValue globalThis.fetch */
  fetch?: typeof fetch;
}

export interface WatchOptions {
  /** Start after this event id (a `ReceivedEvent.id` of an earlier watch). @defaultValue the start of the retained history */
  after?: string;
  /** Ends the watch; the generator then returns. */
  signal?: AbortSignal;
  /** Return after `study.ended` (the last event of a study). @defaultValue true */
  untilEnded?: boolean;
  /** Wait before reconnecting when no Retry-After or `retry:` says otherwise. @defaultValue 1000 ms */
  retryMs?: number;
  /** Reconnections in a row without receiving an event before giving up with the last error. @defaultValue 10 */
  maxRetries?: number;
  /** Told of each reconnection: why, and the id it resumes after. */
  onReconnect?: (info: { attempt: number; error: unknown; lastEventId: string | undefined }) => void;
}

/** 4xx answers other than 408 and 429 will not change by retrying. */
const permanent = (status: number) => status >= 400 && status < 500 && status !== 408 && status !== 429;

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}

/**
 * Follows a study's events from GET /v1/studies/{id}/events (`source`: a MaasClient, or where the api is) (fetch + eventsource-parser, so it
 * runs in Node without EventSource). A dropped connection, or the server closing the stream at
 * its maximum lifetime, is resumed with Last-Event-ID, so no event is missed or repeated. Each
 * event is checked against the events schema; one this version does not know (a type added by a
 * newer server, or a payload it cannot read) is skipped, and the watch resumes after it. The
 * generator returns once the study has ended: after `study.ended` (unless `untilEnded` is false),
 * or when the server answers 204 (the watch already has the study's last event).
 *
 * @throws MaasApiError for an answer retrying cannot change (401, 403, 404), or after
 *   `maxRetries` failed reconnections in a row.
 */
export async function* watchStudy(source: Connection | { connection: Connection }, studyId: string, options: WatchOptions = {}): AsyncGenerator<ReceivedEvent, void, undefined> {
  const connection = 'connection' in source ? source.connection : source;
  const doFetch = connection.fetch ?? globalThis.fetch;
  const url = `${connection.url.replace(/\/+$/, '')}/v1/studies/${encodeURIComponent(studyId)}/events`;
  const untilEnded = options.untilEnded ?? true;
  let retryMs = options.retryMs ?? 1000;
  const maxRetries = options.maxRetries ?? 10;
  let lastEventId = options.after;
  let failures = 0;

  while (!options.signal?.aborted) {
    // One controller per connection, so returning early (or the caller's break) closes the socket.
    const controller = new AbortController();
    const stop = () => controller.abort();
    options.signal?.addEventListener('abort', stop, { once: true });
    let waitMs = retryMs;
    let error: unknown;
    try {
      const headers: Record<string, string> = { accept: 'text/event-stream' };
      if (connection.key) headers.authorization = `Bearer ${connection.key}`;
      if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
      const res = await doFetch(url, { headers, signal: controller.signal });
      if (res.status === 204) return;
      if (!res.ok || !res.body) {
        const text = await res.text().catch(() => '');
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // Not JSON (a proxy's page): the error shows the text.
        }
        const failure = new MaasApiError(res.status, body, res.headers.get('retry-after'));
        if (permanent(res.status)) throw failure;
        if (failure.retryAfterSeconds !== null) waitMs = failure.retryAfterSeconds * 1000;
        error = failure;
      } else {
        // null: an event this version cannot read, passed over (its id is still taken).
        const received: { event: StudyEvent | null; id: string | undefined }[] = [];
        const parser = createParser({
          onEvent: (message) => {
            let data: unknown;
            try {
              data = JSON.parse(message.data);
            } catch {
              data = undefined;
            }
            const parsed = liveEventSchema.safeParse(data);
            received.push({ event: parsed.success ? parsed.data : null, id: message.id });
          },
          onRetry: (ms) => {
            retryMs = ms;
          },
        });
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        try {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            parser.feed(value);
            for (const { event, id } of received.splice(0)) {
              if (id !== undefined) lastEventId = id;
              failures = 0;
              if (event === null) continue;
              yield { ...event, id };
              if (untilEnded && event.type === 'study.ended') return;
            }
          }
        } finally {
          await reader.cancel().catch(() => undefined);
        }
        error = new Error('the server closed the event stream');
      }
    } catch (err) {
      if (err instanceof MaasApiError && permanent(err.status)) throw err;
      if (options.signal?.aborted) return;
      error = err;
    } finally {
      options.signal?.removeEventListener('abort', stop);
      controller.abort();
    }
    failures += 1;
    if (failures > maxRetries) throw error;
    options.onReconnect?.({ attempt: failures, error, lastEventId });
    await sleep(waitMs, options.signal);
  }
}
