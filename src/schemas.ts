import { z } from 'zod';
import { boundedArray } from './bounded-schemas.ts';
import { FAMILIES } from './domain.ts';
import { OBJECTIVE_METRICS } from './metrics.ts';

/**
 * Schemas shared by the HTTP boundary and by the JSON columns read back from
 * the database, so a study's stored config is checked the same way it was
 * accepted.
 */

export const metricSchema = z.enum(['val_accuracy', 'val_loss', 'val_mae']);
export const directionSchema = z.enum(['minimize', 'maximize']);
/** A validation metric, or a cost the worker measures (see COST_METRICS). */
export const objectiveMetricSchema = z.enum(OBJECTIVE_METRICS);

/** At most 3 objectives: exact hypervolume past 3 grows too fast to show on every leaderboard read. */
export const MAX_OBJECTIVES = 3;
export const MAX_CONSTRAINTS = 8;
const objectiveEntry = z.object({ metric: objectiveMetricSchema, direction: directionSchema.optional() }).strict();
const constraintEntry = z
  .object({
    metric: objectiveMetricSchema,
    /** The metric must be at most this. */
    max: z.number().optional(),
    /** The metric must be at least this. */
    min: z.number().optional(),
  })
  .strict();
const storedObjective = z.object({ metric: objectiveMetricSchema, direction: directionSchema });

/** Model and alias names appear in URLs: keep them to a safe alphabet. */
export const modelNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'must be 1-100 letters, digits, ".", "_" or "-", starting with a letter or digit');

/**
 * Which workers a study's trials need.
 * - 'auto': heavy families (cnn, rnn, transformer) go to the GPU queue while a GPU worker is
 *   alive, everything else (and everything when none is) to the CPU queue.
 * - 'cpu': every trial goes to the CPU queue, even while a GPU worker is alive.
 * - 'gpu': every trial, of any family, goes to the GPU queue and waits there until a GPU worker
 *   takes it; that queue's depth in /metrics is what an autoscaler reads to start one.
 */
export const studyDeviceSchema = z.enum(['auto', 'cpu', 'gpu']);
export type StudyDevice = z.infer<typeof studyDeviceSchema>;

/**
 * Whether a finished study's version takes its model's `champion` alias (the version is registered either way).
 * - 'if-better': only when it beats both the study's baseline and the current champion on the same validation rows.
 * - 'always': it does, whatever its score (the behaviour before this setting existed).
 * - 'never': it does not; move the alias by hand (PUT .../aliases/champion).
 */
export const promotionSchema = z.enum(['if-better', 'always', 'never']);
export type Promotion = z.infer<typeof promotionSchema>;

/** Up to 10,000 trials: a random search of many short trials (Ray Tune benchmarks 10,000 one-second trials) is a real use. */
export const MAX_TRIALS = 10_000;
export const MAX_TIME_LIMIT_SECONDS = 30 * 86400;

export const studyConfigSchema = z.object({
  /** The metric the study optimizes. Required unless `objectives` is given, whose first entry it then is. */
  objective: z.object({
    metric: metricSchema,
    /** Defaults to maximize for accuracy and minimize for losses, errors and costs. */
    direction: directionSchema.optional(),
  }).optional(),
  /**
   * Several objectives (multi-objective search): the first is primary (a validation metric: the
   * one early stopping and promotion read), the others validation metrics or worker-measured
   * costs. The leaderboard becomes the Pareto front. @defaultValue `[objective]`
   */
  objectives: boundedArray(objectiveEntry, MAX_OBJECTIVES, { min: 1, what: 'objectives' }).optional(),
  /** Bounds a trial must meet to be promoted, e.g. `{ metric: 'predict_ms_per_row', max: 5 }`. @defaultValue none */
  constraints: boundedArray(constraintEntry, MAX_CONSTRAINTS, { what: 'constraints' }).optional(),
  budget: z.object({
    maxTrials: z.number().int().min(1).max(MAX_TRIALS),
    maxEpochs: z.number().int().min(1).max(1000),
    /** Trials that run at once across all workers. @defaultValue 1 */
    parallelism: z.number().int().min(1).max(64).default(1),
    /** Wall-clock limit for the whole study; running trials stop at their next epoch. */
    timeLimitSeconds: z.number().int().min(1).max(MAX_TIME_LIMIT_SECONDS).optional(),
    /**
     * A running trial with no report (its start, or an epoch) for this long is stuck: its
     * attempt is failed and the trial retried, like one whose worker died. Longer than the
     * slowest epoch. @defaultValue 3600
     */
    trialTimeoutSeconds: z.number().int().min(1).max(7 * 86400).default(3600),
    /** Times a trial is retried after a stuck or lost attempt, before it fails for good. @defaultValue 2 */
    maxRetries: z.number().int().min(0).max(10).default(2),
    /** The study fails, stopping its other trials, once more than this many trials have failed. @defaultValue no limit */
    maxFailedTrials: z.number().int().min(0).max(10_000).optional(),
  }),
  search: z.object({
    algorithm: z.string().default('random'),
    /** Defaults to every family that fits the dataset. At most one of each; a longer list is refused before its items are read. */
    families: boundedArray(z.string(), FAMILIES.length, { what: 'families' }).optional(),
    /** Per-family overrides of the default space: a distribution or a constant per parameter. */
    space: z.record(z.string(), z.unknown()).optional(),
    /** The algorithm's options, e.g. `{ "nStartupTrials": 20 }` for tpe; checked by `createSampler`. @defaultValue the algorithm's defaults */
    options: z.record(z.string(), z.unknown()).optional(),
    /** Multi-fidelity scheduler: 'asha' or 'hyperband'. @defaultValue none (trials train to maxEpochs) */
    scheduler: z.string().optional(),
    /** Scheduler only: epochs of the first rung. @defaultValue 1 */
    minResource: z.unknown().optional(),
    /** Scheduler only: epochs of the last rung. @defaultValue budget.maxEpochs */
    maxResource: z.unknown().optional(),
    /** Scheduler only: η, the share 1/η of a rung that goes on. @defaultValue 3 */
    reductionFactor: z.unknown().optional(),
    /** Pruner decided at each epoch report: 'median' (or { type: 'median', ...options }). @defaultValue none */
    pruner: z.unknown().optional(),
    /**
     * Another study of the project, on the same dataset and objective, whose finished trials the
     * sampler learns from as if they were this study's (those that fit this study's space). @defaultValue none
     */
    warmStartFrom: z.string().min(1).max(200).optional(),
  }).default({ algorithm: 'random' }),
  earlyStopping: z.object({
    /** Epochs without improvement before a trial stops. @defaultValue 3 */
    patience: z.number().int().min(0).max(1000).default(3),
    /** Smallest change that counts as an improvement. @defaultValue 0 */
    minDelta: z.number().min(0).default(0),
  }).default({ patience: 3, minDelta: 0 }),
  /** Seeds sampling, splits and weight initialization. @defaultValue drawn at creation and stored */
  seed: z.number().int().min(0).max(2 ** 31 - 1).optional(),
  /** Model that the best trial is promoted to. @defaultValue the study's name */
  promoteTo: modelNameSchema.optional(),
  /** When the new version takes the model's `champion` alias; see promotionSchema. @defaultValue 'if-better' */
  promotion: promotionSchema.default('if-better'),
  /** Forecasting only (time-series datasets): steps of history each forecast reads. Required there. */
  window: z.number().int().optional(),
  /** Forecasting only: steps each forecast predicts. Required there. */
  horizon: z.number().int().optional(),
  /**
   * The device class the study's trials need; see studyDeviceSchema. Studies stored before it
   * existed read back as 'auto', which is how they were routed. @defaultValue 'auto'
   */
  device: studyDeviceSchema.default('auto'),
});

export type StudyConfigInput = z.input<typeof studyConfigSchema>;

/** A study's config as stored: every default filled in. */
export const storedStudyConfigSchema = studyConfigSchema.extend({
  objective: z.object({ metric: metricSchema, direction: directionSchema }),
  /** Two or more, the first equal to `objective`; absent for one objective. */
  objectives: z.array(storedObjective).optional(),
  constraints: z.array(constraintEntry).optional(),
  search: z.object({
    algorithm: z.string(),
    families: boundedArray(z.string(), FAMILIES.length, { what: 'families' }),
    space: z.unknown(),
    /** Absent on studies stored before sampler options existed. */
    options: z.record(z.string(), z.unknown()).optional(),
    /** Parsed by `parseScheduling`; absent on studies stored before schedulers existed. */
    scheduling: z
      .object({
        scheduler: z.enum(['asha', 'hyperband']).nullable(),
        resources: z.object({ minResource: z.number().int(), maxResource: z.number().int(), reductionFactor: z.number().int() }).nullable(),
        pruner: z.object({ type: z.literal('median'), nStartupTrials: z.number().int(), nWarmupSteps: z.number().int(), intervalSteps: z.number().int() }).nullable(),
      })
      .optional(),
    /** See studyConfigSchema. */
    warmStartFrom: z.string().optional(),
  }),
  seed: z.number().int(),
  promoteTo: modelNameSchema,
  /** Absent on studies stored before it existed, which read as 'if-better'. */
  promotion: promotionSchema.optional(),
  /** The trivial model's score on the validation rows, computed when the study was created. */
  baseline: z
    .object({ method: z.enum(['majority class', 'training mean', 'last value']), metric: z.enum(['val_accuracy', 'val_mae']), value: z.number() })
    .optional(),
});
export type StudyConfig = z.infer<typeof storedStudyConfigSchema>;

export const epochMetricsSchema = z.record(z.string(), z.number());

export function parseJson<T>(schema: z.ZodType<T>, text: string, what: string): T {
  const parsed = schema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`stored ${what} is invalid: ${parsed.error.message}`);
  return parsed.data;
}
