import { Queue, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { z } from 'zod';

/**
 * The queue layer: queue names, job payloads and their options in one place.
 * Every payload a worker reads is parsed with these schemas.
 */

/** Trials waiting for a worker. One job per trial; the job id is the trial id, so enqueueing twice is a no-op. */
export const TRIALS_QUEUE = 'trials';
/** Heavy trials (see HEAVY_FAMILIES) while a GPU worker is alive; only GPU workers read it. */
export const GPU_TRIALS_QUEUE = 'trials-gpu';

/** The device class of a worker, and of the queue it reads. */
export type DeviceClass = 'cpu' | 'gpu';
export const QUEUE_OF: Record<DeviceClass, string> = { cpu: TRIALS_QUEUE, gpu: GPU_TRIALS_QUEUE };
/** "Something happened to this study": wakes a coordinator to decide what comes next. */
export const STUDY_EVENTS_QUEUE = 'study-events';

export const trialJobSchema = z.object({
  trialId: z.string().min(1),
  studyId: z.string().min(1),
  /** The trial's retry count when the job was made; a job of an earlier retry does not claim the trial. Absent on older jobs. */
  retries: z.number().int().min(0).optional(),
});

/**
 * The job id of a trial's current segment: the trial id for its first, one per rung for the
 * segments a scheduler's promotions start, and one per retry of a stuck trial (whose old job
 * may still be held by a hung worker), so each segment is enqueued exactly once.
 */
export function trialJobId(trial: { id: string; rung: number; retries?: number }): string {
  const rung = trial.rung === 0 ? '' : `-r${trial.rung}`;
  const retry = trial.retries ? `-t${trial.retries}` : '';
  return `${trial.id}${rung}${retry}`;
}
export type TrialJob = z.infer<typeof trialJobSchema>;

/**
 * Scoring the champion of a study's model on the study's validation rows, when that champion was
 * trained on other data: model inference, so a worker does it (src/workers/score-champion.ts), on
 * the trial queue of the champion's device class, before the coordinator ends the study.
 */
export const SCORE_CHAMPION_JOB = 'score-champion';
export const scoreChampionJobSchema = z.object({ studyId: z.string().min(1), versionId: z.string().min(1) });
export type ScoreChampionJob = z.infer<typeof scoreChampionJobSchema>;
/** What a score job returns: the champion's value of the study's objective metric, or why it has none. */
export const championScoreSchema = z.union([z.object({ value: z.number() }), z.object({ error: z.string() })]);
export type ChampionScore = z.infer<typeof championScoreSchema>;

/** One score job per study and champion version, so enqueueing it again is a no-op. */
export function scoreJobId(studyId: string, versionId: string): string {
  return `score-${studyId}-${versionId}`;
}

/** The result is read by the coordinator from the finished job, so it is kept a while. */
export const SCORE_JOB_OPTIONS: JobsOptions = {
  attempts: 2,
  backoff: { type: 'exponential', delay: 2000 },
  removeOnComplete: { age: 7 * 24 * 3600 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

export const studyEventSchema = z.object({
  studyId: z.string().min(1),
  reason: z.string(),
  /** The event's tick also checks every unfinished trial's job: a trial was queued again and needs one. @defaultValue false */
  reconcile: z.boolean().optional(),
});
export type StudyEvent = z.infer<typeof studyEventSchema>;

export const TRIAL_JOB_OPTIONS: JobsOptions = {
  // Infrastructure failures (a lost database connection, a killed process) are retried;
  // failures that cannot succeed throw UnrecoverableError and are not.
  attempts: 3,
  backoff: { type: 'exponential', delay: 2000 },
  // The database keeps every result; Redis keeps only what is in flight.
  removeOnComplete: true,
  removeOnFail: { age: 7 * 24 * 3600 },
};

/** A Redis connection as BullMQ needs it (blocking commands must not time out). */
export function redisConnection(url: string): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: null,
    // Back off up to 5 s between reconnects instead of hammering a restarting server.
    retryStrategy: (times) => Math.min(200 * times, 5000),
  });
}

export interface Queues {
  /** The trial queue of each device class (which also carries score-champion jobs). */
  trials: Record<DeviceClass, Queue<TrialJob | ScoreChampionJob>>;
  studyEvents: Queue<StudyEvent>;
  connection: Redis;
  close(): Promise<void>;
}

export function openQueues(redisUrl: string, prefix: string): Queues {
  const connection = redisConnection(redisUrl);
  const trialQueue = (name: string) => new Queue<TrialJob | ScoreChampionJob>(name, { connection, prefix, defaultJobOptions: TRIAL_JOB_OPTIONS });
  const trials = { cpu: trialQueue(TRIALS_QUEUE), gpu: trialQueue(GPU_TRIALS_QUEUE) };
  const studyEvents = new Queue<StudyEvent>(STUDY_EVENTS_QUEUE, {
    connection,
    prefix,
    defaultJobOptions: { attempts: 5, backoff: { type: 'exponential', delay: 500 }, removeOnComplete: true, removeOnFail: { age: 24 * 3600 } },
  });
  return {
    trials,
    studyEvents,
    connection,
    close: async () => {
      await Promise.all([trials.cpu.close(), trials.gpu.close(), studyEvents.close()]);
      connection.disconnect();
    },
  };
}
