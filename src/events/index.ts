export { liveEventSchema, LIVE_EVENT_TYPES, type LiveEvent, type LiveEventType, type NewLiveEvent, type StoredEvent } from './schema.ts';
export { createEventLog, compareIds, eventLogSettings, EVENT_ID_PATTERN, type EventLog, type EventLogOptions, type ReadBatch, type ReadStart } from './event-log.ts';
export { EventFeed, type EventFeedOptions, type Watch } from './feed.ts';
export { withEvents, type EmitOptions } from './emitting-repository.ts';
