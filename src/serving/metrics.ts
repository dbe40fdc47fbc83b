/** Upper bounds, in seconds, of the latency histogram's buckets: from a small model's sub-millisecond call to a slow load. */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/**
 * Series kept at most (one per project, model, version and role), so that a process serving many
 * versions over its life cannot grow them without bound; the least recently used goes first.
 */
const MAX_SERIES = 5_000;

/** Which part a version played in a request: it answered it, or it was asked in the background as a shadow. */
export type ServingRole = 'primary' | 'shadow';

/** One model version in one role, as the metrics label it. */
export interface ServedLabels {
  project: string;
  model: string;
  version: number;
  role: ServingRole;
}

interface Series {
  labels: ServedLabels;
  ok: number;
  errors: number;
  /** Shadow requests dropped because the shadow queue was full. */
  dropped: number;
  /** Cumulative counts per bucket of LATENCY_BUCKETS, then +Inf. */
  buckets: number[];
  sum: number;
}

const label = (v: string | number) => String(v).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const labelsOf = (l: Record<string, string | number>) => Object.entries(l).map(([k, v]) => `${k}="${label(v)}"`).join(',');

/**
 * Per-version request counts and latency histograms of a Predictor, in this process's memory (as
 * Prometheus expects of counters: each replica reports its own, and the sum is taken at query time).
 */
export class ServingMetrics {
  private readonly series = new Map<string, Series>();

  private of(l: ServedLabels): Series {
    const key = JSON.stringify([l.project, l.model, l.version, l.role]);
    let s = this.series.get(key);
    if (s) {
      // Re-inserted, so the Map's first key is always the least recently used.
      this.series.delete(key);
    } else {
      s = { labels: l, ok: 0, errors: 0, dropped: 0, buckets: new Array<number>(LATENCY_BUCKETS.length + 1).fill(0), sum: 0 };
      if (this.series.size >= MAX_SERIES) this.series.delete(this.series.keys().next().value!);
    }
    this.series.set(key, s);
    return s;
  }

  /** Counts one request a version took part in, with how long it took (seconds); `ok` false when it failed. */
  record(l: ServedLabels, seconds: number, ok: boolean): void {
    const s = this.of(l);
    if (ok) s.ok++;
    else s.errors++;
    s.sum += seconds;
    for (let i = 0; i < s.buckets.length; i++) if (i === LATENCY_BUCKETS.length || seconds <= LATENCY_BUCKETS[i]!) s.buckets[i]!++;
  }

  /** Counts a shadow request not made because the shadow queue was full. */
  dropped(l: Omit<ServedLabels, 'role'>): void {
    this.of({ ...l, role: 'shadow' }).dropped++;
  }

  /** The Prometheus text exposition (format 0.0.4) of every series, without a trailing newline. */
  exposition(): string {
    const all = [...this.series.values()];
    const base = (s: Series) => ({ project: s.labels.project, model: s.labels.model, version: s.labels.version, role: s.labels.role });
    const lines = [
      '# HELP maas_model_requests_total Prediction requests per model version, by role (primary: it answered; shadow: asked in the background) and outcome.',
      '# TYPE maas_model_requests_total counter',
      ...all.flatMap((s) => [`maas_model_requests_total{${labelsOf({ ...base(s), outcome: 'ok' })}} ${s.ok}`, `maas_model_requests_total{${labelsOf({ ...base(s), outcome: 'error' })}} ${s.errors}`]),
      '# HELP maas_model_shadow_dropped_total Shadow requests not made because the shadow queue was full.',
      '# TYPE maas_model_shadow_dropped_total counter',
      ...all.filter((s) => s.labels.role === 'shadow').map((s) => `maas_model_shadow_dropped_total{${labelsOf(base(s))}} ${s.dropped}`),
      '# HELP maas_model_request_duration_seconds Time from a request reaching the predictor to its answer (primary) or to the shadow prediction ending (shadow), per model version.',
      '# TYPE maas_model_request_duration_seconds histogram',
    ];
    for (const s of all) {
      const l = base(s);
      for (const [i, count] of s.buckets.entries()) {
        const le = i === LATENCY_BUCKETS.length ? '+Inf' : String(LATENCY_BUCKETS[i]);
        lines.push(`maas_model_request_duration_seconds_bucket{${labelsOf({ ...l, le })}} ${count}`);
      }
      lines.push(`maas_model_request_duration_seconds_sum{${labelsOf(l)}} ${s.sum}`, `maas_model_request_duration_seconds_count{${labelsOf(l)}} ${s.ok + s.errors}`);
    }
    return lines.join('\n');
  }
}
