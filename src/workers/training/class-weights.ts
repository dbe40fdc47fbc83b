/**
 * Class weights for an imbalanced training split, in the form tfjs's `model.fit` takes
 * (`classWeight`: class index → weight). tfjs multiplies each row's loss by its class's weight
 * before the batch mean, so the weights shape the gradient and the reported training loss,
 * and nothing else (validation here is computed separately, unweighted).
 */

/**
 * The 'balanced' weights of scikit-learn: class k weighs n / (K · count_k), so that every
 * class contributes the same total weight and the weights average 1 over the rows. A class
 * absent from `labels` gets 1 (it has no rows to weigh; tfjs wants every class present).
 *
 * @param labels - class indices of the training rows, integers in [0, classes)
 * @param classes - K, the number of classes
 */
export function balancedClassWeights(labels: ArrayLike<number>, classes: number): Record<number, number> {
  const counts = new Array<number>(classes).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    counts[label] = (counts[label] ?? 0) + 1;
  }
  const weights: Record<number, number> = {};
  counts.forEach((count, k) => {
    weights[k] = count === 0 ? 1 : labels.length / (classes * count);
  });
  return weights;
}
