/**
 * Whether a finished study's version takes its model's `champion` alias (the study's `promotion`):
 * with 'if-better' only when it beats both the study's baseline and the current champion on the
 * same validation rows. A champion trained on the same dataset (and, for a forecaster, the same
 * window and horizon) is compared by its stored metrics; one trained on other data is scored on the
 * study's validation rows by a worker (a SCORE_CHAMPION_JOB), since that is model inference.
 */
import type { Job } from 'bullmq';
import type { EpochMetrics } from '../domain.ts';
import { errorMessage } from '../log.ts';
import { championScoreSchema, SCORE_CHAMPION_JOB, SCORE_JOB_OPTIONS, scoreJobId, type DeviceClass, type Queues } from '../queue/index.ts';
import { directionOf, improves } from '../metrics.ts';
import { CHAMPION, type ModelVersionRecord, type Repository, type StudyRecord } from '../storage/index.ts';

export interface PromotionDecision {
  /** Whether `champion` moves to the new version. */
  move: boolean;
  /** The champion's version id the decision was made against (null: none); undefined when it does not matter. */
  championWas: string | null | undefined;
  /** What happened to version `version`, for the study's message. */
  says: (version: number) => string;
}

export interface PromotionDeps {
  repo: Repository;
  queues: Queues;
  /** The trial queue a job of this model family goes to, as the study's trials do. */
  deviceOf: (family: string) => Promise<DeviceClass>;
}

/** Numbers in messages: enough digits to tell two scores apart, no float noise. */
const show = (v: number | undefined) => (v === undefined ? 'none' : String(Number(v.toPrecision(6))));

/**
 * Decides the promotion of a study whose best trial has `metrics`; 'waiting' while the
 * champion's score job has not finished (its end sends a study event, and the study ends then).
 */
export async function decidePromotion(deps: PromotionDeps, study: StudyRecord, metrics: EpochMetrics): Promise<PromotionDecision | 'waiting'> {
  const model = study.promoteTo;
  const promoted = (why: string) => (v: number) => `promoted to ${model} v${v} as champion${why}`;
  const kept = (why: string, championWas?: string | null): PromotionDecision => ({ move: false, championWas, says: (v) => `registered as ${model} v${v} without the champion alias: ${why}` });
  const policy = study.config.promotion ?? 'if-better';
  if (policy === 'never') return kept('the study\'s promotion is "never"');
  if (policy === 'always') return { move: true, championWas: undefined, says: promoted(' (the study\'s promotion is "always")') };

  const baseline = study.config.baseline;
  if (baseline) {
    const value = metrics[baseline.metric];
    if (value === undefined || !improves(value, baseline.value, directionOf(baseline.metric))) {
      return kept(`its ${baseline.metric} ${show(value)} does not beat the baseline (${baseline.method}) ${show(baseline.value)}`);
    }
  }
  const { metric, direction } = study.config.objective;
  const champion = await deps.repo.models.byAlias(study.projectId, model, CHAMPION);
  if (!champion) return { move: true, championWas: null, says: promoted(baseline ? ` (it beats the baseline, ${baseline.method}, and there was no champion)` : '') };
  const score = await championScore(deps, study, champion);
  if (score === 'waiting') return 'waiting';
  if ('error' in score) return kept(`the champion v${champion.version} could not be scored on this study's validation rows (${score.error})`, champion.id);
  const value = metrics[metric];
  const rows = score.scored ? 'scored on this study\'s validation rows' : 'on the same validation rows';
  if (value === undefined || !improves(value, score.value, direction)) {
    return kept(`its ${metric} ${show(value)} does not beat the champion v${champion.version}'s ${show(score.value)} (${rows})`, champion.id);
  }
  return { move: true, championWas: champion.id, says: promoted(`: its ${metric} ${show(value)} beats the champion v${champion.version}'s ${show(score.value)} (${rows})${baseline ? ` and the baseline's ${show(baseline.value)}` : ''}`) };
}

type Score = { value: number; scored: boolean } | { error: string };

/** The champion's value of the study's objective metric on the study's validation rows. */
async function championScore(deps: PromotionDeps, study: StudyRecord, champion: ModelVersionRecord): Promise<Score | 'waiting'> {
  const { metric } = study.config.objective;
  const trainedOn = await deps.repo.studies.get(champion.studyId);
  // The split is fixed by the dataset; a forecaster's rows also depend on its window and horizon.
  const sameRows = champion.datasetId === study.datasetId && trainedOn?.config.window === study.config.window && trainedOn?.config.horizon === study.config.horizon;
  // The stored metrics are those of the epoch whose weights the version holds: no need to run it again.
  const stored = champion.metrics[metric];
  if (sameRows && stored !== undefined) return { value: stored, scored: false };

  const jobId = scoreJobId(study.id, champion.id);
  const job = await findJob(deps.queues, jobId);
  if (!job) {
    const device = await deps.deviceOf(champion.family);
    await deps.queues.trials[device].add(SCORE_CHAMPION_JOB, { studyId: study.id, versionId: champion.id }, { ...SCORE_JOB_OPTIONS, jobId });
    return 'waiting';
  }
  const state = await job.getState();
  if (state === 'completed') {
    const result = championScoreSchema.safeParse(job.returnvalue);
    if (!result.success) return { error: `its score job returned ${errorMessage(result.error)}` };
    return 'value' in result.data ? { value: result.data.value, scored: true } : result.data;
  }
  if (state === 'failed') return { error: job.failedReason || 'its score job failed' };
  // No worker took it (none of its device class is running): the study ends anyway.
  const limit = study.config.budget.trialTimeoutSeconds;
  if (Date.now() - job.timestamp > limit * 1000) return { error: `no worker scored it within budget.trialTimeoutSeconds (${limit} s)` };
  return 'waiting';
}

async function findJob(queues: Queues, jobId: string): Promise<Job | undefined> {
  for (const queue of Object.values(queues.trials)) {
    const job = await queue.getJob(jobId);
    if (job) return job;
  }
  return undefined;
}
