/** Standardization statistics, shared by numeric features and the regression target. */

/** Mean and population standard deviation; `std` is 1 for an empty or constant sample, so dividing by it is safe. */
export function meanStd(values: readonly number[]): { mean: number; std: number } {
  if (values.length === 0) return { mean: 0, std: 1 };
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / values.length;
  let squares = 0;
  for (const v of values) squares += (v - mean) ** 2;
  const std = Math.sqrt(squares / values.length);
  // A constant column's computed std is rounding noise (~1e-17), which would blow it up to ±1.
  const constant = !(std > 1e-9 * Math.max(1, Math.abs(mean)));
  return { mean, std: constant ? 1 : std };
}

/** Smallest and largest value, by a loop: `Math.min(...values)` overflows the stack past ~120,000 values. */
export function minMax(values: ArrayLike<number>): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max };
}
