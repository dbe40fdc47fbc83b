/**
 * The trivial model a study must beat, scored on the same validation rows as its trials:
 * the majority class (classification), the training mean (regression), or the last observed
 * value repeated over the horizon (forecasting).
 */
import type { Metric, TaskSpec } from '../domain.ts';
import { lastValueMae } from './forecast.ts';
import type { TrainingData } from './training-data.ts';

export interface Baseline {
  /** What the baseline predicts. */
  method: 'majority class' | 'training mean' | 'last value';
  metric: Extract<Metric, 'val_accuracy' | 'val_mae'>;
  value: number;
}

/** Scores the trivial model on the validation rows of `training`. */
export function baselineOf(training: TrainingData): Baseline {
  const { spec, data, preprocessing } = training;
  if (spec.task === 'forecasting') {
    return { method: 'last value', metric: 'val_mae', value: lastValueMae(data, preprocessing, spec.inputShape[0] as number, spec.outputs) };
  }
  const validation = data.labels.subarray(data.trainRows, data.rows);
  if (spec.task === 'regression') {
    // Labels are standardized with the training mean, so the mean predicts 0.
    let sum = 0;
    for (const y of validation) sum += Math.abs(y);
    return { method: 'training mean', metric: 'val_mae', value: (sum / validation.length) * (training.targetStd ?? 1) };
  }
  return { method: 'majority class', metric: 'val_accuracy', value: majorityAccuracy(data.labels.subarray(0, data.trainRows), validation, spec) };
}

function majorityAccuracy(train: Float32Array, validation: Float32Array, spec: TaskSpec): number {
  const counts = new Array<number>(spec.outputs).fill(0);
  for (const y of train) counts[y] = (counts[y] ?? 0) + 1;
  // A loop, not Math.max(...counts), which overflows the stack past ~120,000 classes.
  let majority = 0;
  for (let k = 1; k < counts.length; k++) if (counts[k]! > counts[majority]!) majority = k;
  let hits = 0;
  for (const y of validation) if (y === majority) hits++;
  return hits / validation.length;
}
