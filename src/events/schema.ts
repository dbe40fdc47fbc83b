/**
 * The live events of a study, as GET /v1/studies/{id}/events sends them (the `data` line of
 * each Server-Sent Event is one of these as JSON) and as the event log stores them. The schema
 * is the contract with the dashboard and the CLI: they parse with it too.
 */
import { z } from 'zod';

/** Every event has these: the study, and when the event was appended (ISO 8601). */
const common = { studyId: z.string(), at: z.string() };
const trial = { ...common, trialId: z.string(), number: z.number().int() };
const reason = z.string().nullable();
const event = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) => z.object({ type: z.literal(type), ...shape });

/** One live event of a study: `type` says which. */
export const liveEventSchema = z.discriminatedUnion('type', [
  event('trial.created', { ...trial, family: z.string(), params: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])) }),
  event('trial.started', { ...trial, attempt: z.number().int(), worker: z.string().nullable(), backend: z.string().nullable() }),
  /** `value` is the epoch's objective metric. */
  event('trial.epoch', { ...trial, epoch: z.number().int(), metrics: z.record(z.string(), z.number()), value: z.number().nullable() }),
  event('trial.paused', { ...trial, rung: z.number().int(), epoch: z.number().int() }),
  event('trial.promoted', { ...trial, rung: z.number().int() }),
  event('trial.requeued', { ...trial, reason: z.string() }),
  event('trial.ended', { ...trial, state: z.enum(['completed', 'pruned', 'failed', 'cancelled']), value: z.number().nullable(), reason }),
  /** Non-final transitions; the final one is study.ended. */
  event('study.state', { ...common, state: z.enum(['queued', 'running']), message: reason }),
  /**
   * The study's budget was raised. A completed study runs again (`reopened`): its study.ended is
   * then no longer the last event, and a new one comes when it ends again.
   */
  event('study.continued', { ...common, maxTrials: z.number().int(), timeLimitSeconds: z.number().int().nullable(), reopened: z.boolean(), message: z.string() }),
  /** The last event of a study, after its champion.decision (until the study is continued). */
  event('study.ended', { ...common, state: z.enum(['completed', 'failed', 'cancelled']), message: reason }),
  /** `version` is null when the study registered none (it failed or was cancelled). */
  event('champion.decision', { ...common, model: z.string(), version: z.number().int().nullable(), moved: z.boolean(), reason: z.string() }),
  /** Sent by the server only: the reader's place is gone, and it starts again from the oldest kept event. */
  event('reset', { ...common, reason: z.string() }),
]);
export type LiveEvent = z.infer<typeof liveEventSchema>;
export type LiveEventType = LiveEvent['type'];
export const LIVE_EVENT_TYPES: readonly LiveEventType[] = liveEventSchema.options.map((o) => o.shape.type.value);

/** Omit over each member of a union, keeping it a union that `type` narrows. */
type OmitEach<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** An event as a writer gives it: the log adds `studyId` and `at`. */
export type NewLiveEvent = OmitEach<LiveEvent, 'studyId' | 'at'>;

/** A stored event with its stream id (what SSE sends as `id:`). */
export interface StoredEvent {
  id: string;
  event: LiveEvent;
}
