type Values = ArrayLike<number>;

/**
 * Sums the rows of `x` into `numSegments` buckets by `segmentIds` (ids out of
 * range are dropped, as in TensorFlow), accumulating into `out`, which holds
 * numSegments × rowSize zeros. This is the Embedding layer's gradient: one
 * pass over the rows, where tfjs's cpu kernel builds a full-size mask per
 * segment (a 5,000-word vocabulary means 5,000 temporaries).
 */
export function unsortedSegmentSum(x: Values, segmentIds: Values, numSegments: number, rowSize: number, out: Float32Array | Int32Array): void {
  for (let i = 0; i < segmentIds.length; i++) {
    const s = segmentIds[i]!;
    if (s < 0 || s >= numSegments) continue;
    const from = i * rowSize;
    const to = s * rowSize;
    for (let k = 0; k < rowSize; k++) out[to + k]! += x[from + k]!;
  }
}
