/**
 * Scores a model's champion on a study's validation rows, when the champion was trained on
 * other data (see the coordinator's promotion): its value of the study's objective metric,
 * computed as training computes it (train.ts `evaluate`), in a worker because it is inference.
 */
import type { Job } from 'bullmq';
import {
  decodePredictions,
  encodeInstances,
  NonFiniteOutputError,
  preprocessingSchema,
  rawInstances,
  rawTargets,
  studySpec,
  type Prediction,
  type RawTarget,
} from '../data/index.ts';
import type { Metric } from '../domain.ts';
import { ValidationError } from '../errors.ts';
import { errorMessage, type Logger } from '../log.ts';
import { scoreChampionJobSchema, type ChampionScore, type Queues } from '../queue/index.ts';
import { ACTIVE_STUDY_STATES, CHAMPION, type Repository } from '../storage/index.ts';
import type { DatasetCache } from './dataset-cache.ts';
import { loadModel, predictBatch } from '../model/index.ts';

/** Validation rows run through the champion at once. */
const BATCH_ROWS = 256;
/** What categoricalCrossentropy clips probabilities to, as tfjs does. */
const EPSILON = 1e-7;

/** The champion cannot be scored on these rows, and trying again will not change that. */
class Unscorable extends Error {}

export interface ScoreDeps {
  repo: Repository;
  queues: Queues;
  datasets: DatasetCache;
  log: Logger;
}

/** The processor of SCORE_CHAMPION_JOB jobs; its result ({ value } or { error }) is read by the coordinator. */
export function createScoreProcessor(deps: ScoreDeps) {
  return async function scoreChampion(job: Job): Promise<ChampionScore> {
    const { studyId, versionId } = scoreChampionJobSchema.parse(job.data);
    const log = deps.log.child({ studyId, job: 'score-champion' });
    try {
      const value = await score(deps, studyId, versionId);
      log.info('champion scored on the study\'s validation rows', { versionId, value });
      return { value };
    } catch (err) {
      // Input the champion cannot take, or a task it does not do: an answer, not a failure to retry.
      if (!(err instanceof Unscorable || err instanceof ValidationError || err instanceof NonFiniteOutputError)) throw err;
      // As the api words it: a missing field is named without a "missing value" placeholder.
      const reason = err instanceof ValidationError && err.value === undefined ? `${err.field}: ${err.rule}` : errorMessage(err);
      log.info('champion could not be scored', { versionId, reason });
      return { error: reason };
    } finally {
      // Delayed a little, so the coordinator's tick finds the job completed, not still active.
      await deps.queues.studyEvents.add('champion-scored', { studyId, reason: 'champion scored' }, { delay: 500 }).catch((e) => log.warn('could not notify the coordinator', { error: errorMessage(e) }));
    }
  };
}

async function score({ repo, datasets }: ScoreDeps, studyId: string, versionId: string): Promise<number> {
  const study = await repo.studies.get(studyId);
  if (!study || !ACTIVE_STUDY_STATES.includes(study.state)) throw new Unscorable('the study ended before the champion was scored');
  const champion = await repo.models.byAlias(study.projectId, study.promoteTo, CHAMPION);
  if (champion?.id !== versionId) throw new Unscorable('the champion moved before it was scored');
  const [artifact, dataset, championStudy] = await Promise.all([repo.trials.artifact(champion.trialId), repo.datasets.get(champion.datasetId), repo.studies.get(champion.studyId)]);
  if (!artifact || !dataset || !championStudy) throw new Unscorable(`champion v${champion.version} has lost its weights, dataset or study`);
  const forecast = { window: championStudy.config.window, horizon: championStudy.config.horizon };
  const pre = { ...preprocessingSchema.parse(dataset.preprocessing), ...(dataset.kind === 'timeseries' ? forecast : {}) };
  const inputShape = studySpec(dataset.preprocessing, forecast).inputShape;
  const training = await datasets.get(study.datasetId, { window: study.config.window, horizon: study.config.horizon });
  const metric = study.config.objective.metric;
  const classifies = training.preprocessing.task === 'classification';
  if ((pre.task === 'classification') !== classifies) {
    throw new Unscorable(`champion v${champion.version} does ${pre.task}, and this study's data need ${training.preprocessing.task}`);
  }
  const sum = new MetricSum(metric, training.preprocessing.targetStd ?? 1);
  const model = await loadModel(artifact);
  try {
    for (let start = training.data.trainRows; start < training.data.rows; start += BATCH_ROWS) {
      const end = Math.min(start + BATCH_ROWS, training.data.rows);
      const features = encodeInstances(pre, rawInstances(training, pre, start, end));
      const predictions = decodePredictions(pre, await predictBatch(model, features, end - start, inputShape), end - start);
      sum.add(predictions, rawTargets(training, start, end));
    }
  } finally {
    model.dispose();
  }
  return sum.value();
}

/** The study's objective metric over predictions in raw units, as train.ts `evaluate` computes it over encoded ones. */
class MetricSum {
  private total = 0;
  private count = 0;

  constructor(private readonly metric: Metric, private readonly targetStd: number) {}

  add(predictions: Prediction[], truths: RawTarget[]): void {
    predictions.forEach((p, i) => {
      const truth = truths[i] as RawTarget;
      if (typeof truth === 'string') {
        if (!('probabilities' in p)) throw new Unscorable('the champion does not classify');
        if (this.metric === 'val_accuracy') this.total += p.label === truth ? 1 : 0;
        else {
          // Normalized and clipped like tfjs' categoricalCrossentropy; a class the champion never saw has probability 0.
          const all = Object.values(p.probabilities).reduce((a, b) => a + b, 0);
          const prob = (Object.hasOwn(p.probabilities, truth) ? (p.probabilities[truth] as number) : 0) / all;
          this.total += -Math.log(Math.min(Math.max(prob, EPSILON), 1 - EPSILON));
        }
        this.count += 1;
        return;
      }
      const values = 'value' in p ? [p.value] : 'forecast' in p ? p.forecast : [];
      if (values.length !== truth.length) throw new Unscorable(`the champion predicts ${values.length} values per row, and this study's rows have ${truth.length}`);
      // val_mae in the target's units; val_loss is the mean squared error of standardized values.
      let row = 0;
      truth.forEach((y, k) => {
        const error = (values[k] as number) - y;
        row += this.metric === 'val_mae' ? Math.abs(error) : (error / this.targetStd) ** 2;
      });
      this.total += row / truth.length;
      this.count += 1;
    });
  }

  value(): number {
    if (this.count === 0) throw new Unscorable('the study has no validation rows');
    return this.total / this.count;
  }
}
