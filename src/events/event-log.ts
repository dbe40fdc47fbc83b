/**
 * The live events of each study in a Redis Stream, `${prefix}:events:${studyId}`: appended by
 * whichever process made the change (api, coordinator, worker), read by every api replica.
 * The database stays the record; the stream is a bounded, expiring feed of what changed.
 */
import type { Redis } from 'ioredis';
import { liveEventSchema, type NewLiveEvent, type StoredEvent } from './schema.ts';

/** Options of {@link createEventLog}. */
export interface EventLogOptions {
  /** The connection to use; its commands are short (no blocking reads). */
  redis: Redis;
  /** The deployment's queue prefix; keeps deployments (and tests) that share a Redis apart. */
  prefix: string;
  /** Events kept per study, approximately (XADD MAXLEN ~); EVENTS_MAX_PER_STUDY. @defaultValue 10000 */
  maxLength?: number;
  /** Seconds a study's stream lives after its last event while the study is active; EVENTS_ACTIVE_TTL_DAYS. @defaultValue 2592000 (30 days) */
  activeTtlSeconds?: number;
  /** Seconds an ended study's stream is kept after its last event; EVENTS_TTL_DAYS. @defaultValue 604800 (7 days) */
  endedTtlSeconds?: number;
}

/** The deployment's settings of the event log (src/config.ts), as {@link EventLogOptions}. */
export function eventLogSettings(c: { EVENTS_MAX_PER_STUDY: number; EVENTS_TTL_DAYS: number; EVENTS_ACTIVE_TTL_DAYS: number }): Pick<EventLogOptions, 'maxLength' | 'activeTtlSeconds' | 'endedTtlSeconds'> {
  const day = 24 * 3600;
  return { maxLength: c.EVENTS_MAX_PER_STUDY, activeTtlSeconds: c.EVENTS_ACTIVE_TTL_DAYS * day, endedTtlSeconds: c.EVENTS_TTL_DAYS * day };
}

/** Where a reader starts: after `from`, with a reset first when the asked-for id is no longer retained. */
export interface ReadStart {
  from: string;
  /** Why the reader must start over from the oldest retained event; null when nothing it asked for was lost. */
  reset: string | null;
  /** Whether the study has a stream at all (none yet, or it expired or was deleted). */
  exists: boolean;
  /** Whether the reader already has the study's `study.ended` (its last event): nothing more will come. */
  ended: boolean;
}

/** What one read of a study's stream gave. */
export interface ReadBatch {
  events: StoredEvent[];
  /** The id of the last entry read (an entry that does not parse is skipped, not read again); null when none. */
  lastId: string | null;
  /** How many entries were read, parsed or not: `count` of them means more may wait. */
  entries: number;
}

export interface EventLog {
  /** Appends an event; returns its stream id. Throws what Redis throws (see the emitting repository for the policy). */
  append(studyId: string, event: NewLiveEvent): Promise<string>;
  /** Appends events in order, in one round trip; returns their stream ids. */
  appendMany(studyId: string, events: readonly NewLiveEvent[]): Promise<string[]>;
  /** Where a reader that last saw `after` (null: a new reader) continues; one round trip. */
  start(studyId: string, after: string | null): Promise<ReadStart>;
  /** Up to `count` entries of each study after its id, in one round trip. */
  readAfter(positions: ReadonlyMap<string, string>, count: number): Promise<Map<string, ReadBatch>>;
  /** Deletes a study's events (the study was deleted). */
  remove(studyId: string): Promise<void>;
  /** The stream key of a study (tests and operators read it with redis-cli). */
  keyOf(studyId: string): string;
  /**
   * Whether the connection is lost (reconnecting or closed): a command would wait in ioredis's
   * offline queue until it is back. A connection still being made for the first time is not down.
   */
  down(): boolean;
}

/** A stream id, `<milliseconds>-<sequence>`, as SSE clients send it back. */
export const EVENT_ID_PATTERN = /^\d{1,15}-\d{1,15}$/;

/** Orders two stream ids (both match EVENT_ID_PATTERN, so Number is exact). */
export function compareIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am !== bm ? am - bm : as - bs;
}

/**
 * Appends a batch of events in one call (a coordinator's new trials: one round trip, not one
 * each). Each entry carries its position `n` (1, 2, …) so a reader can tell that the head was
 * trimmed. `study.ended` is kept the last event of a study, once: a trial that ends after its
 * study did (a running trial sees a cancellation at its next epoch, in another process) is
 * appended before a fresh copy of `study.ended`, whose old entry is deleted; a second
 * `study.ended` is dropped (its id is the kept one's), until a `study.continued` says the study
 * runs again. An ended study's stream expires sooner than an active one's.
 * KEYS[1] stream; ARGV: maxLength, activeTtl, endedTtl, then type and data of each event.
 * Returns the events' ids, in order.
 */
const APPEND = `
local key = KEYS[1]
local maxLength = ARGV[1]
local n = 0
local endedId, endedData
local last = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)
if #last > 0 then
  local fields, f = last[1][2], {}
  for i = 1, #fields, 2 do f[fields[i]] = fields[i + 1] end
  n = tonumber(f['n']) or 0
  if f['type'] == 'study.ended' then endedId, endedData = last[1][1], f['data'] end
end
local ids = {}
for i = 4, #ARGV, 2 do
  local kind, data = ARGV[i], ARGV[i + 1]
  if endedId and kind == 'study.ended' then
    ids[#ids + 1] = endedId
  elseif kind == 'study.continued' then
    -- The study runs again: its end is no longer its last event; a new one comes when it ends.
    if endedId then redis.call('XDEL', key, endedId) end
    endedId, endedData = nil, nil
    n = n + 1
    ids[#ids + 1] = redis.call('XADD', key, 'MAXLEN', '~', maxLength, '*', 'type', kind, 'data', data, 'n', n)
  else
    if endedId then redis.call('XDEL', key, endedId) end
    n = n + 1
    local id = redis.call('XADD', key, 'MAXLEN', '~', maxLength, '*', 'type', kind, 'data', data, 'n', n)
    ids[#ids + 1] = id
    if endedId then
      n = n + 1
      endedId = redis.call('XADD', key, 'MAXLEN', '~', maxLength, '*', 'type', 'study.ended', 'data', endedData, 'n', n)
    elseif kind == 'study.ended' then
      endedId, endedData = id, data
    end
  end
end
if endedId then redis.call('EXPIRE', key, ARGV[3]) else redis.call('EXPIRE', key, ARGV[2]) end
return ids`;

const APPEND_COMMAND = 'maasAppendStudyEvents';

type Entry = [id: string, fields: string[]];

function fieldOf(fields: readonly string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/** A stored entry as an event; null for one that does not parse (written by another version). */
function toStored([id, fields]: Entry): StoredEvent | null {
  const data = fieldOf(fields, 'data');
  if (data === undefined) return null;
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return null;
  }
  const parsed = liveEventSchema.safeParse(json);
  return parsed.success ? { id, event: parsed.data } : null;
}

export function createEventLog(o: EventLogOptions): EventLog {
  const { redis } = o;
  const maxLength = o.maxLength ?? 10_000;
  const activeTtl = o.activeTtlSeconds ?? 30 * 24 * 3600;
  const endedTtl = o.endedTtlSeconds ?? 7 * 24 * 3600;
  // Defined once per connection: ioredis sends EVALSHA and falls back to EVAL when the server lacks the script.
  const commands = redis as unknown as Record<string, unknown>;
  if (typeof commands[APPEND_COMMAND] !== 'function') redis.defineCommand(APPEND_COMMAND, { numberOfKeys: 1, lua: APPEND });
  const keyOf = (studyId: string) => `${o.prefix}:events:${studyId}`;
  const appendScript = commands[APPEND_COMMAND] as (...args: (string | number)[]) => Promise<string[]>;
  async function appendMany(studyId: string, events: readonly NewLiveEvent[]): Promise<string[]> {
    if (events.length === 0) return [];
    const at = new Date().toISOString();
    const args = events.flatMap((e) => [e.type, JSON.stringify({ ...e, studyId, at })]);
    return appendScript.call(redis, keyOf(studyId), maxLength, activeTtl, endedTtl, ...args);
  }

  return {
    keyOf,
    down: () => redis.status === 'reconnecting' || redis.status === 'close' || redis.status === 'end',
    append: async (studyId, event) => (await appendMany(studyId, [event]))[0]!,
    appendMany,
    async start(studyId, after) {
      // The oldest entry and the newest, in one round trip.
      const replies = (await redis.pipeline().xrange(keyOf(studyId), '-', '+', 'COUNT', 1).xrevrange(keyOf(studyId), '+', '-', 'COUNT', 1).exec()) ?? [];
      const [head, tail] = replies.map(([err, entries]) => {
        if (err) throw err;
        return (entries as Entry[])[0];
      });
      if (!head || !tail) return { from: after ?? '0-0', reset: null, exists: false, ended: false };
      if (after !== null && fieldOf(tail[1], 'type') === 'study.ended' && compareIds(after, tail[0]) >= 0) return { from: after, reset: null, exists: true, ended: true };
      // Entry n > 1 at the head means older ones were trimmed; a reader that saw less than the head
      // missed some, and so does a new reader (it would count trials or draw curves from a part).
      const trimmed = Number(fieldOf(head[1], 'n') ?? 1) > 1;
      if (trimmed && after === null) {
        return { from: '0-0', reset: `events before ${head[0]} were dropped (a study keeps about the last ${maxLength}); starting from the oldest kept`, exists: true, ended: false };
      }
      if (trimmed && after !== null && compareIds(after, head[0]) < 0) {
        return { from: '0-0', reset: `event ${after} is older than the oldest one kept (${head[0]}); starting again from the oldest`, exists: true, ended: false };
      }
      return { from: after ?? '0-0', reset: null, exists: true, ended: false };
    },
    async readAfter(positions, count) {
      const studies = [...positions.keys()];
      const read = new Map<string, ReadBatch>();
      if (studies.length === 0) return read;
      const pipeline = redis.pipeline();
      for (const studyId of studies) pipeline.xrange(keyOf(studyId), `(${positions.get(studyId)}`, '+', 'COUNT', count);
      const replies = (await pipeline.exec()) ?? [];
      for (const [i, studyId] of studies.entries()) {
        const [err, entries] = replies[i] ?? [new Error('no reply')];
        if (err) throw err;
        const list = entries as Entry[];
        const events = list.map(toStored).filter((e): e is StoredEvent => e !== null);
        read.set(studyId, { events, lastId: list.at(-1)?.[0] ?? null, entries: list.length });
      }
      return read;
    },
    async remove(studyId) {
      await redis.del(keyOf(studyId));
    },
  };
}
