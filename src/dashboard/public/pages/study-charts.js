// ECharts options of the study page, built from plain data (no DOM), one function per chart.

const ENDED_WITH_VALUE = ['completed', 'pruned'];

/** Whether `a` is better than `b` for the study's direction. */
const better = (direction, a, b) => (direction === 'maximize' ? a > b : a < b);

/**
 * Optimization history: each finished trial's value by trial number, the best value so far
 * as a step line, and the baseline (when it uses the objective metric) as a flat line.
 */
export function historyOption({ trials, direction, metric, baseline }) {
  const ended = trials.filter((t) => ENDED_WITH_VALUE.includes(t.state) && t.value !== null).sort((a, b) => a.number - b.number);
  const best = [];
  let bestValue = null;
  for (const t of ended) {
    if (bestValue === null || better(direction, t.value, bestValue)) bestValue = t.value;
    best.push([t.number, bestValue]);
  }
  const numbers = trials.map((t) => t.number);
  const xMin = numbers.length ? Math.min(...numbers) : 0;
  const xMax = numbers.length ? Math.max(...numbers) : 1;
  const series = [
    { name: 'completed', type: 'scatter', symbolSize: 9, data: ended.filter((t) => t.state === 'completed').map((t) => [t.number, t.value]) },
    { name: 'pruned', type: 'scatter', symbol: 'triangle', symbolSize: 9, itemStyle: { color: '#6b46c1' }, data: ended.filter((t) => t.state === 'pruned').map((t) => [t.number, t.value]) },
    { name: 'best so far', type: 'line', step: 'end', showSymbol: false, lineStyle: { width: 2 }, data: best },
  ];
  if (baseline) series.push({ name: `baseline (${baseline.method})`, type: 'line', showSymbol: false, lineStyle: { type: 'dashed', color: '#888' }, itemStyle: { color: '#888' }, data: [[xMin, baseline.value], [xMax, baseline.value]] });
  return {
    animation: false,
    tooltip: { trigger: 'item' },
    legend: { top: 0 },
    grid: { left: 60, right: 20, top: 40, bottom: 40 },
    xAxis: { type: 'value', name: 'trial', nameLocation: 'middle', nameGap: 25, minInterval: 1 },
    yAxis: { type: 'value', name: metric, scale: true },
    series,
  };
}

/**
 * Learning curves: one line per trial of its objective value by epoch. A paused trial carries
 * a marker at the epoch of its rung, a pruned one at the epoch it stopped.
 */
export function curvesOption({ trials, metric }) {
  const series = trials
    .filter((t) => t.curve.length > 0)
    .sort((a, b) => a.number - b.number)
    .map((t) => {
      const last = t.curve[t.curve.length - 1];
      const marks = [];
      if (t.state === 'paused' && t.pausedAt) {
        const at = t.curve.find((p) => p[0] === t.pausedAt.epoch) ?? last;
        marks.push({ name: 'paused', value: `paused r${t.pausedAt.rung}`, coord: at, symbol: 'rect', symbolSize: [56, 18], itemStyle: { color: '#b7791f' } });
      }
      if (t.state === 'pruned') marks.push({ name: 'pruned', value: `pruned${t.rung ? ` r${t.rung}` : ''}`, coord: last, symbol: 'rect', symbolSize: [56, 18], itemStyle: { color: '#6b46c1' } });
      return {
        name: `#${t.number} ${t.family}`,
        type: 'line',
        showSymbol: t.curve.length < 3,
        data: t.curve,
        lineStyle: { type: t.state === 'pruned' ? 'dashed' : 'solid', width: t.state === 'running' ? 2 : 1.5 },
        markPoint: marks.length ? { label: { fontSize: 10, color: '#fff' }, data: marks } : undefined,
      };
    });
  return {
    animation: false,
    tooltip: { trigger: 'axis' },
    legend: { type: 'scroll', top: 0 },
    grid: { left: 60, right: 20, top: 40, bottom: 40 },
    xAxis: { type: 'value', name: 'epoch', nameLocation: 'middle', nameGap: 25, minInterval: 1, min: 1 },
    yAxis: { type: 'value', name: metric, scale: true },
    series,
  };
}

/** Parameter importance as horizontal bars, most important on top. */
export function importanceOption(params) {
  const rows = [...params].reverse();
  return {
    animation: false,
    tooltip: { trigger: 'item' },
    grid: { left: 140, right: 30, top: 10, bottom: 30 },
    xAxis: { type: 'value', max: 1, name: 'share' },
    yAxis: { type: 'category', data: rows.map((p) => p.name) },
    series: [{ name: 'importance', type: 'bar', data: rows.map((p) => Number(p.importance.toFixed(4))), label: { show: true, position: 'right', formatter: (x) => `${Math.round(x.value * 100)}%` } }],
  };
}

/**
 * Parallel coordinates of the finished trials: one axis per parameter (numbers on a value
 * axis, log-scaled when they span decades; words and booleans on a category axis), then the value.
 */
export function parallelOption({ trials, metric }) {
  const ended = trials.filter((t) => ENDED_WITH_VALUE.includes(t.state) && t.value !== null);
  const names = [...new Set(ended.flatMap((t) => Object.keys(t.params ?? {})))].filter((n) => n !== 'family').sort();
  const dims = [{ name: 'family', kind: 'category', values: [...new Set(ended.map((t) => t.family))] }];
  for (const name of names) {
    const values = ended.map((t) => t.params[name]).filter((v) => v !== undefined);
    if (new Set(values.map(String)).size < 2) continue;
    if (values.every((v) => typeof v === 'number')) {
      const positive = values.every((v) => v > 0);
      const spread = positive ? Math.max(...values) / Math.min(...values) : 0;
      dims.push({ name, kind: spread >= 100 ? 'log' : 'value' });
    } else {
      dims.push({ name, kind: 'category', values: [...new Set(values.map(String))] });
    }
  }
  // Slanted names, so that long parameter names stay readable side by side.
  const name = { nameRotate: 20, nameTruncate: { maxWidth: 160 }, nameTextStyle: { fontSize: 11 } };
  const parallelAxis = dims.map((d, i) => ({ dim: i, name: d.name, type: d.kind, ...name, ...(d.kind === 'category' ? { data: d.values } : { scale: true }) }));
  parallelAxis.push({ dim: dims.length, name: metric, type: 'value', scale: true, ...name });
  const data = ended.map((t) => ({
    name: `#${t.number}`,
    value: [...dims.map((d) => (d.name === 'family' ? t.family : d.kind === 'category' ? (t.params[d.name] === undefined ? '-' : String(t.params[d.name])) : (t.params[d.name] ?? '-'))), t.value],
  }));
  return {
    animation: false,
    tooltip: { trigger: 'item' },
    parallel: { left: 40, right: 90, top: 60, bottom: 30 },
    parallelAxis,
    visualMap: ended.length ? { show: false, dimension: dims.length, min: Math.min(...ended.map((t) => t.value)), max: Math.max(...ended.map((t) => t.value)), inRange: { color: ['#d94e5d', '#eac736', '#50a3ba'] } } : undefined,
    series: [{ name: 'trials', type: 'parallel', lineStyle: { width: 1.5, opacity: 0.6 }, data }],
  };
}

/** One trial's per-epoch metrics, one line per metric; the accuracies on a second axis from 0 to 1. */
export function trialCurveOption(curve) {
  const names = [...new Set(curve.flatMap((p) => Object.keys(p.metrics)))].sort();
  const isShare = (n) => /accuracy/.test(n);
  return {
    animation: false,
    tooltip: { trigger: 'axis' },
    legend: { top: 0 },
    grid: { left: 60, right: 60, top: 40, bottom: 40 },
    xAxis: { type: 'value', name: 'epoch', nameLocation: 'middle', nameGap: 25, minInterval: 1, min: 1 },
    yAxis: [{ type: 'value', name: 'loss / error', scale: true }, { type: 'value', name: 'accuracy', min: 0, max: 1 }],
    series: names.map((n) => ({ name: n, type: 'line', yAxisIndex: isShare(n) ? 1 : 0, lineStyle: { type: n.startsWith('val_') ? 'solid' : 'dashed' }, data: curve.filter((p) => p.metrics[n] !== undefined).map((p) => [p.epoch, p.metrics[n]]) })),
  };
}
