/** Summaries of a benchmark's per-seed results. */

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function mean(xs: readonly number[]): number {
  return xs.reduce((s, x) => s + x, 0) / xs.length;
}

/** The q-quantile (0..1), interpolated between order statistics (numpy's default). */
export function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const at = q * (s.length - 1);
  const i = Math.floor(at);
  return s[i]! + (at - i) * ((s[Math.min(i + 1, s.length - 1)] ?? s[i]!) - s[i]!);
}
