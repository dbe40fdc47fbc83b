/**
 * One reader per api process for every watched study: it reads the watched streams together
 * (one pipelined round trip per round, on the shared connection, never a blocking command) and
 * hands each watcher the events after the last one it got. Thousands of open event streams
 * cost one poll, not a Redis connection each.
 */
import { errorMessage, type Logger } from '../log.ts';
import { compareIds, type EventLog } from './event-log.ts';
import type { StoredEvent } from './schema.ts';

/** Options of {@link EventFeed}. */
export interface EventFeedOptions {
  events: EventLog;
  log: Logger;
  /** How often the watched streams are read while anyone watches. @defaultValue 250 */
  pollMs?: number;
  /** Entries read per stream per round; a full batch is followed by another round at once. @defaultValue 200 */
  batch?: number;
  /**
   * Events held for one watcher that does not keep up (its client reads slowly). Past this the
   * watch is closed, and its client resumes with Last-Event-ID, so memory stays bounded. @defaultValue 2000
   */
  maxBuffered?: number;
}

/** One watcher of one study: the events after the last one it was given, in order. */
export interface Watch {
  /**
   * The events that arrived since the last call; waits up to `waitMs` for one, and gives []
   * when none came. Null once the watch is closed.
   */
  next(waitMs: number): Promise<StoredEvent[] | null>;
  /** Stops watching; a pending `next` answers null. */
  close(reason?: string): void;
  /** Why the watch was closed (by its owner, the feed closing, or a client too slow); null while open. */
  readonly closedReason: string | null;
  /** Settles with the reason once the watch is closed, by whoever closed it. */
  readonly closed: Promise<string>;
}

class Watcher implements Watch {
  closedReason: string | null = null;
  readonly closed: Promise<string>;
  private settle!: (reason: string) => void;
  private buffer: StoredEvent[] = [];
  private wake: (() => void) | undefined;

  constructor(
    readonly studyId: string,
    /** The id of the last event given to this watcher (or the one it starts after). */
    public lastId: string,
    private readonly maxBuffered: number,
    private readonly onClose: (w: Watcher) => void,
  ) {
    this.closed = new Promise((done) => {
      this.settle = done;
    });
  }

  push(event: StoredEvent): void {
    if (this.closedReason !== null) return;
    this.buffer.push(event);
    if (this.buffer.length > this.maxBuffered) this.close(`the client read too slowly (over ${this.maxBuffered} events waiting); resume with Last-Event-ID`);
    else this.wake?.();
  }

  async next(waitMs: number): Promise<StoredEvent[] | null> {
    if (this.buffer.length === 0 && this.closedReason === null) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((done) => {
        this.wake = done;
        timer = setTimeout(done, waitMs);
      });
      clearTimeout(timer);
      this.wake = undefined;
    }
    if (this.closedReason !== null) return null;
    return this.buffer.splice(0);
  }

  close(reason = 'closed'): void {
    if (this.closedReason !== null) return;
    this.closedReason = reason;
    this.buffer = [];
    this.onClose(this);
    this.settle(reason);
    this.wake?.();
  }
}

export class EventFeed {
  private readonly watchers = new Map<string, Set<Watcher>>();
  private readonly pollMs: number;
  private readonly batch: number;
  private readonly maxBuffered: number;
  private running = false;
  private closed = false;
  private wakeLoop: (() => void) | undefined;
  /** A watcher joined since the current round started: the next round starts at once. */
  private joined = false;
  /** Whether the last round failed, so an outage is logged once, and its end once. */
  private failing = false;

  constructor(private readonly o: EventFeedOptions) {
    this.pollMs = o.pollMs ?? 250;
    this.batch = o.batch ?? 200;
    this.maxBuffered = o.maxBuffered ?? 2000;
  }

  /** Open watches, over all studies. */
  get size(): number {
    let n = 0;
    for (const set of this.watchers.values()) n += set.size;
    return n;
  }

  /** Watches a study's events after `after` (a stream id; '0-0' for all of them). */
  watch(studyId: string, after: string): Watch {
    const w = new Watcher(studyId, after, this.maxBuffered, (x) => this.forget(x));
    if (this.closed) {
      w.close('the server is shutting down');
      return w;
    }
    const set = this.watchers.get(studyId) ?? new Set<Watcher>();
    set.add(w);
    this.watchers.set(studyId, set);
    // A new watcher gets its history now, not after the current pause.
    this.joined = true;
    this.wakeLoop?.();
    if (!this.running) void this.loop();
    return w;
  }

  /** Closes every watch and stops reading (the server is shutting down). */
  close(): void {
    this.closed = true;
    for (const set of [...this.watchers.values()]) for (const w of [...set]) w.close('the server is shutting down');
    this.wakeLoop?.();
  }

  private forget(w: Watcher): void {
    const set = this.watchers.get(w.studyId);
    set?.delete(w);
    if (set?.size === 0) this.watchers.delete(w.studyId);
  }

  private async loop(): Promise<void> {
    this.running = true;
    try {
      while (this.watchers.size > 0 && !this.closed) {
        let more = false;
        this.joined = false;
        try {
          more = await this.round();
          if (this.failing) this.o.log.info('event feed reading again');
          this.failing = false;
        } catch (err) {
          if (!this.failing) this.o.log.warn('event feed could not read; retrying', { error: errorMessage(err) });
          this.failing = true;
        }
        if ((more || this.joined) && !this.failing) continue;
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((done) => {
          this.wakeLoop = done;
          timer = setTimeout(done, this.failing ? Math.max(this.pollMs, 1000) : this.pollMs);
        });
        clearTimeout(timer);
        this.wakeLoop = undefined;
      }
    } finally {
      this.running = false;
    }
  }

  /** Reads every watched stream once and hands out what it read; true when some stream may have more. */
  private async round(): Promise<boolean> {
    const positions = new Map<string, string>();
    for (const [studyId, set] of this.watchers) {
      let from: string | undefined;
      for (const w of set) if (from === undefined || compareIds(w.lastId, from) < 0) from = w.lastId;
      if (from !== undefined) positions.set(studyId, from);
    }
    const read = await this.o.events.readAfter(positions, this.batch);
    let more = false;
    for (const [studyId, got] of read) {
      if (got.entries >= this.batch) more = true;
      const from = positions.get(studyId);
      for (const w of this.watchers.get(studyId) ?? []) {
        // One that joined during the read, before this position, has not been read for: the next round is.
        if (from === undefined || compareIds(w.lastId, from) < 0) continue;
        for (const e of got.events) if (compareIds(e.id, w.lastId) > 0) w.push(e);
        // Past unparsed entries too, so they are not read again.
        if (got.lastId !== null && compareIds(got.lastId, w.lastId) > 0) w.lastId = got.lastId;
      }
    }
    return more;
  }
}
