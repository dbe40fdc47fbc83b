import * as tf from '@tensorflow/tfjs';
import type { EncodedData, TaskSpec } from '../../domain.ts';
import { ValidationError } from '../../errors.ts';

/** The training and validation splits as tensors; labels one-hot for classification, `[n, outputs]` otherwise. */
export interface SplitTensors {
  xTrain: tf.Tensor;
  yTrain: tf.Tensor;
  xVal: tf.Tensor;
  yVal: tf.Tensor;
}

/** Checks `data` against `spec` and builds the tensors once; the caller disposes them. */
export function toTensors(data: EncodedData, spec: TaskSpec): SplitTensors {
  checkData(data, spec);
  const { rows, trainRows } = data;
  return tf.tidy(() => {
    const x = tf.tensor(data.features, [rows, ...spec.inputShape], 'float32');
    const y =
      spec.task === 'classification'
        ? tf.oneHot(tf.tensor1d(Int32Array.from(data.labels), 'int32'), spec.outputs).toFloat()
        : tf.tensor2d(data.labels, [rows, spec.outputs], 'float32');
    return {
      xTrain: x.slice(0, trainRows),
      yTrain: y.slice(0, trainRows),
      xVal: x.slice(trainRows, rows - trainRows),
      yVal: y.slice(trainRows, rows - trainRows),
    };
  });
}

/** Reorders the rows of `x` and `y` by `order` (new tensors; the caller disposes them). */
export function reorder(x: tf.Tensor, y: tf.Tensor, order: Int32Array): [tf.Tensor, tf.Tensor] {
  return tf.tidy(() => {
    const index = tf.tensor1d(order, 'int32');
    return [tf.gather(x, index), tf.gather(y, index)];
  });
}

function checkData(data: EncodedData, spec: TaskSpec): void {
  const size = spec.inputShape.reduce((a, b) => a * b, 1);
  if (!Number.isInteger(data.rows) || data.rows < 2) {
    throw new ValidationError('data.rows', data.rows, 'must be an integer >= 2 (training and validation need a row each)');
  }
  if (!Number.isInteger(data.trainRows) || data.trainRows < 1 || data.trainRows >= data.rows) {
    throw new ValidationError('data.trainRows', data.trainRows, `must be an integer between 1 and rows - 1 = ${data.rows - 1}`);
  }
  if (data.features.length !== data.rows * size) {
    throw new ValidationError(
      'data.features',
      `${data.features.length} values`,
      `must hold rows × prod(inputShape) = ${data.rows} × ${size} = ${data.rows * size} values`,
    );
  }
  const perRow = spec.task === 'forecasting' ? spec.outputs : 1;
  if (data.labels.length !== data.rows * perRow) {
    throw new ValidationError('data.labels', `${data.labels.length} values`, `must hold ${perRow} value(s) per row (${data.rows} rows)`);
  }
  if (spec.task === 'classification') {
    for (let i = 0; i < data.labels.length; i++) {
      const label = data.labels[i]!;
      if (!Number.isInteger(label) || label < 0 || label >= spec.outputs) {
        throw new ValidationError(`data.labels[${i}]`, label, `must be a class index between 0 and ${spec.outputs - 1}`);
      }
    }
  }
}
