import { createRoute, z } from '@hono/zod-openapi';
import { EVENT_ID_PATTERN, LIVE_EVENT_TYPES } from '../../events/index.ts';
import { errorResponse } from '../openapi.ts';

const eventId = z
  .string()
  .regex(EVENT_ID_PATTERN, 'must be an event id as sent in an "id:" line, <milliseconds>-<sequence> (e.g. 1733230000000-0)');

const retryAfter = { 'Retry-After': { description: 'Seconds to wait before opening another stream', schema: { type: 'integer' as const } } };

const example = [
  ': ping',
  '',
  'event: trial.epoch',
  'data: {"type":"trial.epoch","studyId":"4f6c…","at":"2025-01-01T12:00:03.000Z","trialId":"a1b2…","number":0,"epoch":3,"metrics":{"loss":0.41,"val_accuracy":0.88},"value":0.88}',
  'id: 1735732803000-0',
  '',
  '',
].join('\n');

export const streamStudyEvents = createRoute({
  method: 'get',
  path: '/v1/studies/{id}/events',
  operationId: 'streamStudyEvents',
  summary: "A study's live events as Server-Sent Events, resumable with Last-Event-ID",
  description:
    'Each event has `id:` (its stream id), `event:` (its type) and one `data:` line of JSON with `type`, `studyId`, `at` and the payload of its type. ' +
    'A new client gets the whole retained history (about the last EVENTS_MAX_PER_STUDY events, 10,000 by default), then live events; one that sends `Last-Event-ID` (or `?after=`) ' +
    'continues after that event. When older events were dropped, a new client first gets `event: reset`, and so does one whose event is no longer kept; both continue from the oldest one kept. ' +
    'Types: ' + LIVE_EVENT_TYPES.join(', ') + '. `study.ended` is always the last event of a study, after its `champion.decision`, and the server ends the stream after sending it; ' +
    'a client that comes back after it (its Last-Event-ID is the study.ended) is answered 204, which stops an EventSource from reconnecting. ' +
    'A `: ping` comment comes every 15 s. Otherwise the stream stays open until the client closes it, or until its maximum lifetime (1 h by default), after which the client reconnects with Last-Event-ID. ' +
    'An ended study whose history has expired answers `reset` (without an id) and `study.ended` (under an id made of its end time), then closes. HEAD answers the headers only.',
  request: {
    params: z.object({ id: z.string() }),
    query: z.object({ after: eventId.optional().openapi({ description: 'Continue after this event id (Last-Event-ID wins when both are sent).' }) }),
    headers: z.object({ 'last-event-id': eventId.optional().openapi({ description: 'Sent by EventSource when it reconnects: continue after this event.' }) }),
  },
  responses: {
    200: {
      description: 'The event stream (text/event-stream)',
      content: { 'text/event-stream': { schema: z.string().openapi({ description: 'Server-Sent Events', example }) } },
    },
    204: { description: "The study has ended and the client already has its last event (study.ended): nothing more will come" },
    400: errorResponse('A bad Last-Event-ID or after'),
    404: errorResponse('No such study'),
    429: { ...errorResponse('This key (or address) has as many event streams open as it may'), headers: retryAfter },
    503: { ...errorResponse('The server has as many event streams open as it may'), headers: retryAfter },
  },
});
