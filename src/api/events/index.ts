import type { OpenAPIHono } from '@hono/zod-openapi';
import { streamSSE, type SSEStreamingApi } from 'hono/streaming';
import { NotFoundError, ServiceBusyError } from '../../errors.ts';
import { compareIds, createEventLog, EventFeed, type EventLog, type LiveEvent, type ReadStart, type Watch } from '../../events/index.ts';
import { errorMessage, type Logger } from '../../log.ts';
import type { Queues } from '../../queue/index.ts';
import type { Repository, StudyRecord } from '../../storage/index.ts';
import { principalOf } from '../auth.ts';
import { clientAddress } from '../rate-limit.ts';
import { streamStudyEvents } from './events.routes.ts';
import { StreamSlots } from './stream-slots.ts';

/** Limits and timings of GET /v1/studies/{id}/events. */
export interface EventStreamOptions {
  /** Milliseconds between `: ping` comments on a quiet stream. @defaultValue 15000 */
  heartbeatMs?: number;
  /** Milliseconds a stream stays open before the server closes it (the client resumes with Last-Event-ID). @defaultValue 3600000 (1 h) */
  maxLifetimeMs?: number;
  /** Streams one key (or, without keys, one address) may hold open. @defaultValue 10 */
  maxPerPrincipal?: number;
  /** Streams this process serves at once. @defaultValue 500 */
  maxTotal?: number;
  /** Retry-After of a refused stream, in seconds. @defaultValue 5 */
  retryAfterSeconds?: number;
}

/** The event log and the one reader this api process shares among its streams. */
export interface LiveEvents {
  log: EventLog;
  feed: EventFeed;
}

export interface EventRouteDeps {
  repo: Repository;
  queues: Queues;
  prefix: string;
  log: Logger;
  /** @defaultValue a log and a feed over `queues.connection` under `prefix` */
  events?: LiveEvents;
  eventStreams?: EventStreamOptions;
}

const ENDED_STATES: readonly string[] = ['completed', 'failed', 'cancelled'];

const send = (stream: SSEStreamingApi, event: LiveEvent, id?: string) => stream.writeSSE({ event: event.type, data: JSON.stringify(event), ...(id !== undefined ? { id } : {}) });

/**
 * The id the final `study.ended` of an ended study whose events have expired (or predate them)
 * is sent under: its end time. A client that comes back with it is answered 204, and an
 * EventSource stops reconnecting.
 */
const expiredEndId = (study: StudyRecord) => `${(study.endedAt ?? study.createdAt).getTime()}-0`;

/** An ended study whose events have expired (or predate them): what is left to say. */
async function sayExpired(stream: SSEStreamingApi, study: StudyRecord): Promise<void> {
  const at = (study.endedAt ?? new Date()).toISOString();
  const base = { studyId: study.id, at };
  await send(stream, { ...base, type: 'reset', reason: 'the event history of this ended study has expired; its final state follows' });
  await send(stream, { ...base, type: 'study.ended', state: study.state as 'completed' | 'failed' | 'cancelled', message: study.message }, expiredEndId(study));
}

/**
 * Writes the watch's events until `study.ended` (the study's last), the client leaves, the watch
 * is closed, or the lifetime ends. A `study.ended` is checked against the database first: one
 * appended just after a continue from another process is stale (the study runs again) and is not
 * sent; one that is sent carries the study's state and message as the database has them.
 */
async function pump(stream: SSEStreamingApi, watch: Watch, o: { heartbeatMs: number; lifetimeMs: number; study: () => Promise<StudyRecord | null> }): Promise<void> {
  const deadline = Date.now() + o.lifetimeMs;
  let wroteAt = Date.now();
  while (!stream.aborted) {
    const left = deadline - Date.now();
    if (left <= 0) return;
    const events = await watch.next(Math.max(0, Math.min(left, o.heartbeatMs - (Date.now() - wroteAt))));
    if (events === null) return;
    for (const e of events) {
      if (e.event.type === 'study.ended') {
        const now = await o.study().catch(() => null);
        if (now && !ENDED_STATES.includes(now.state)) continue;
        const state = (now?.state ?? e.event.state) as typeof e.event.state;
        await send(stream, { ...e.event, state, message: now ? now.message : e.event.message }, e.id);
        return;
      }
      await send(stream, e.event, e.id);
    }
    if (events.length > 0) wroteAt = Date.now();
    else if (Date.now() - wroteAt >= o.heartbeatMs) {
      await stream.write(': ping\n\n');
      wroteAt = Date.now();
    }
  }
}

/** GET /v1/studies/{id}/events: a study's live events as Server-Sent Events. */
export function registerEvents(app: OpenAPIHono, deps: EventRouteDeps): void {
  const o = deps.eventStreams ?? {};
  const heartbeatMs = o.heartbeatMs ?? 15_000;
  const lifetimeMs = o.maxLifetimeMs ?? 3_600_000;
  const retryAfterSeconds = o.retryAfterSeconds ?? 5;
  const slots = new StreamSlots({ perPrincipal: o.maxPerPrincipal ?? 10, total: o.maxTotal ?? 500, retryAfterSeconds });
  // Made lazily: building the app (and its OpenAPI document) must not touch Redis.
  let made: LiveEvents | undefined = deps.events;
  const events = (): LiveEvents => {
    if (made) return made;
    const log = createEventLog({ redis: deps.queues.connection, prefix: deps.prefix });
    made = { log, feed: new EventFeed({ events: log, log: deps.log }) };
    return made;
  };
  const log = deps.log.child({ component: 'events' });

  app.openapi(streamStudyEvents, async (c) => {
    const { id } = c.req.valid('param');
    const principal = principalOf(c);
    const study = await deps.repo.studies.get(id);
    // Another project's study is answered exactly like a missing one.
    if (!study || study.projectId !== principal.projectId) throw new NotFoundError('study', id);
    const after = c.req.valid('header')['last-event-id'] ?? c.req.valid('query').after ?? null;
    // Hono answers HEAD by running this handler and dropping the body without cancelling it: a
    // stream started here would hold a slot, and poll, for its whole lifetime.
    if (c.req.method === 'HEAD') {
      c.header('Content-Type', 'text/event-stream');
      c.header('Cache-Control', 'no-cache');
      return c.body(null, 200);
    }
    const who = principal.keyId ? `key:${principal.keyId}` : `addr:${clientAddress(c)}`;
    const release = slots.take(who, principal.keyId ? `key ${principal.keyId}` : 'this address');
    let start: ReadStart;
    try {
      start = await events().log.start(id, after);
    } catch (err) {
      release();
      log.warn('could not read the event log', { studyId: id, error: errorMessage(err) });
      throw new ServiceBusyError(retryAfterSeconds, `the event log cannot be read now (${errorMessage(err)}); retry after ${retryAfterSeconds} s`);
    }
    // The client has the study's last event: 204 tells it (an EventSource too) to stop reconnecting.
    const expiredAndSeen = !start.exists && ENDED_STATES.includes(study.state) && after !== null && compareIds(after, expiredEndId(study)) >= 0;
    // A study.ended the reader has is final unless the study runs again (a continue raced its end).
    if ((start.ended && ENDED_STATES.includes(study.state)) || expiredAndSeen) {
      release();
      return c.body(null, 204);
    }
    // Proxies that buffer responses (nginx) would hold the events back.
    c.header('X-Accel-Buffering', 'no');
    return streamSSE(c, async (stream) => {
      let watch: Watch | undefined;
      let finished = false;
      // A write that never completes (a client that stopped reading) must not hold the slot past the lifetime.
      const watchdog = setTimeout(() => stream.abort(), lifetimeMs + 1000);
      try {
        if (!start.exists && ENDED_STATES.includes(study.state)) return await sayExpired(stream, study);
        if (start.reset !== null) await send(stream, { type: 'reset', studyId: id, at: new Date().toISOString(), reason: start.reset });
        const w = (watch = events().feed.watch(id, start.from));
        stream.onAbort(() => w.close('the client went away'));
        // Closed by the feed (shutting down, or this client reads too slowly): end the response even mid-write.
        void w.closed.then(() => {
          if (!finished) stream.abort();
        });
        await pump(stream, w, { heartbeatMs, lifetimeMs, study: () => deps.repo.studies.get(id) });
      } finally {
        finished = true;
        clearTimeout(watchdog);
        watch?.close();
        release();
      }
    });
  });
}
