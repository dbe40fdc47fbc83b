/** Rows under a header, each column as wide as its widest cell, two spaces apart. */
export function table(header: string[], rows: (string | number | null | undefined)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(cell))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  // The last column is not padded, so lines carry no trailing spaces.
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : (c ?? '').padEnd(widths[i] ?? 0))).join('  ')).join('\n');
}

/** `label: value` lines, labels aligned. */
export function fields(pairs: [string, string | number | null | undefined][]): string {
  const width = Math.max(...pairs.map(([k]) => k.length)) + 1;
  return pairs.map(([k, v]) => `${`${k}:`.padEnd(width)} ${cell(v)}`).join('\n');
}

function cell(v: string | number | null | undefined): string {
  if (v === null || v === undefined || v === '') return '-';
  return typeof v === 'number' ? number(v) : v;
}

/** A metric or value, short: 4 significant digits past the point, integers as they are. */
export function number(v: number | null | undefined): string {
  if (v === null || v === undefined) return '-';
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 1000 ? v.toFixed(1) : Number(v.toPrecision(4)).toString();
}

/**
 * A value of the named metric: a count as an integer with thousands separators (`53,683`),
 * times (`predict_ms_per_row`, `train_seconds`) with 3 significant digits, others as number().
 */
export function metricValue(metric: string, v: number | null | undefined): string {
  if (v === null || v === undefined) return '-';
  if (!Number.isFinite(v)) return String(v);
  if (metric === 'param_count') return String(Math.round(v)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  if (metric === 'predict_ms_per_row' || metric === 'train_seconds') return Number(v.toPrecision(3)).toString();
  return number(v);
}

/** An ISO time as `YYYY-MM-DD HH:MM:SS` (UTC). */
export function time(iso: string | null | undefined): string {
  return iso ? iso.slice(0, 19).replace('T', ' ') : '-';
}

/** `name=value` pairs of an object, for params and metrics in one cell (a trial's `family` has a column of its own). */
export function pairs(record: Record<string, unknown> | null | undefined, limit = 6): string {
  if (!record) return '-';
  const entries = Object.entries(record).filter(([k]) => k !== 'family');
  const shown = entries.slice(0, limit).map(([k, v]) => `${k}=${typeof v === 'number' ? number(v) : typeof v === 'string' ? v : JSON.stringify(v)}`);
  return entries.length > limit ? `${shown.join(' ')} …` : shown.join(' ') || '-';
}

/** Milliseconds as `1h02m`, `3m05s` or `4.2s`. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
