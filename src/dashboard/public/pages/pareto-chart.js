// The Pareto chart of a multi-objective study: its first two objectives as a scatter, the
// feasible front joined as a staircase. An ECharts option from plain data (no DOM).
import { feasibility, metricText, objectiveTitle } from './objectives.js';

const FRONT_COLOR = '#2f6fde';
const OTHER_COLOR = '#8a94a3';
const INFEASIBLE_COLOR = '#c53030';

/** Characters that would be markup in the tooltip, which ECharts sets as HTML. */
const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * Which way the staircase turns, the points sorted by the first objective: the boundary of the
 * region the front dominates runs level first when a smaller first objective is better, and
 * rises or falls first when a larger one is.
 */
export const stepOf = (direction) => (direction === 'maximize' ? 'start' : 'end');

/**
 * An axis of one objective: on a log scale when its values are positive and span two decades
 * or more (weight counts often do), so that one large network does not flatten all the others.
 */
export function axisOf(objective, values, nameGap) {
  const log = values.length > 0 && values.every((v) => v > 0) && Math.max(...values) / Math.min(...values) >= 100;
  const title = objectiveTitle(objective);
  return { type: log ? 'log' : 'value', name: log ? `${title.slice(0, -1)}; log scale)` : title, nameLocation: 'middle', nameGap, scale: true };
}

/** A point's tooltip: its trial, every objective's value, and its feasibility when it breaks a constraint. */
export function pointTooltip(point, objectives) {
  const lines = [`#${point.number} ${point.family}`, ...objectives.map((o, i) => `${o.metric}: ${metricText(o.metric, point.values[i])}`)];
  // "no (violation 2.5)" becomes "infeasible (violation 2.5)".
  if (point.feasible === false) lines.push(feasibility(point).text.replace(/^no /, 'infeasible '));
  return lines.map(escape).join('<br/>');
}

/**
 * Trials that have a value of each objective: front 0 among the feasible ones highlighted and
 * joined as a step line, the other feasible trials faded, infeasible ones as red diamonds.
 * Each point carries its trial's id (`trialId`), so a click can open the trial.
 */
export function paretoOption({ trials, objectives }) {
  const [x, y] = objectives;
  const points = trials
    .filter((t) => Array.isArray(t.values) && t.values.length >= 2)
    .sort((a, b) => a.number - b.number)
    .map((t) => ({ name: `#${t.number}`, value: [t.values[0], t.values[1]], trialId: t.id, number: t.number, family: t.family, values: t.values, front: t.front, feasible: t.feasible, violation: t.violation }));
  const onFront = points.filter((p) => p.front === 0 && p.feasible !== false);
  const others = points.filter((p) => !(p.front === 0) && p.feasible !== false);
  const infeasible = points.filter((p) => p.feasible === false);
  const staircase = [...onFront].sort((a, b) => a.value[0] - b.value[0] || a.value[1] - b.value[1]).map((p) => p.value);
  return {
    animation: false,
    tooltip: { trigger: 'item', formatter: (p) => (p.data?.trialId ? pointTooltip(p.data, objectives) : '') },
    legend: { top: 0, data: ['Pareto front', 'other trials', 'infeasible'] },
    grid: { left: 80, right: 30, top: 40, bottom: 50 },
    xAxis: axisOf(x, points.map((p) => p.value[0]), 30),
    yAxis: axisOf(y, points.map((p) => p.value[1]), 62),
    series: [
      { name: 'front line', type: 'line', step: stepOf(x.direction), silent: true, showSymbol: false, z: 1, lineStyle: { color: FRONT_COLOR, width: 1.5 }, itemStyle: { color: FRONT_COLOR }, data: staircase },
      { name: 'Pareto front', type: 'scatter', symbolSize: 12, z: 3, itemStyle: { color: FRONT_COLOR }, data: onFront },
      { name: 'other trials', type: 'scatter', symbolSize: 9, z: 2, itemStyle: { color: OTHER_COLOR, opacity: 0.4 }, data: others },
      { name: 'infeasible', type: 'scatter', symbol: 'diamond', symbolSize: 10, z: 2, itemStyle: { color: INFEASIBLE_COLOR, opacity: 0.55 }, data: infeasible },
    ],
  };
}
