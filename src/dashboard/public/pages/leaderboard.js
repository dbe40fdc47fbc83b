// The study's trials as a table that sorts by any column; ranked trials first by default. A
// study ranked by a Pareto front shows each trial's front, each objective and its feasibility.
import { useState } from 'preact/hooks';
import { html } from '../html.js';
import { duration, num, StateBadge } from '../util.js';
import { feasibility, metricText, objectivesOf, objectiveTitle, objectiveValue, paretoText, ranksByFront } from './objectives.js';

/** Params as "name=value" pairs, family left out (it has its own column). */
function paramText(params) {
  return Object.entries(params ?? {})
    .filter(([k]) => k !== 'family')
    .map(([k, v]) => `${k}=${typeof v === 'number' ? num(v, 3) : v}`)
    .join(', ');
}

/**
 * A column: `get` gives the value it sorts by, `cell` its <td>; `desc` sorts it best first
 * from the largest on the first click; `metric` keeps its label as written (a metric's name).
 */
const RANK = { key: 'rank', label: 'Rank', num: true, get: (t) => t.rank ?? null, cell: (t) => html`<td class="num">${t.rank ?? '–'}</td>` };
const NUMBER = { key: 'number', label: 'Trial', num: true, get: (t) => t.number, cell: (t, studyId) => html`<td class="num"><a href=${`#/studies/${encodeURIComponent(studyId)}/trials/${encodeURIComponent(t.id)}`}>#${t.number}</a></td>` };
const FAMILY = { key: 'family', label: 'Family', get: (t) => t.family, cell: (t) => html`<td>${t.family}</td>` };
const STATE = {
  key: 'state',
  label: 'State',
  get: (t) => t.state,
  cell: (t) => html`<td><${StateBadge} state=${t.state} />${(t.state === 'paused' || t.state === 'pruned') && t.rung !== undefined ? html` <span class="muted" title="rung">r${t.rung}</span>` : null}</td>`,
};
const EPOCHS = { key: 'epochs', label: 'Epochs', num: true, get: (t) => t.epochs, cell: (t) => html`<td class="num">${t.epochs}${t.bestEpoch ? html` <span class="muted">(best ${t.bestEpoch})</span>` : null}</td>` };
const TIME = { key: 'durationMs', label: 'Time', num: true, get: (t) => t.durationMs, cell: (t) => html`<td class="num">${duration(t.durationMs)}</td>` };
const PARAMS = { key: 'params', label: 'Params', get: (t) => paramText(t.params), cell: (t) => html`<td class="muted">${paramText(t.params)}</td>` };

const valueColumn = (direction) => ({ key: 'value', label: 'Value', num: true, desc: direction === 'maximize', get: (t) => t.value, cell: (t) => html`<td class="num">${num(t.value)}</td>` });

const FRONT = {
  key: 'front',
  label: 'Front',
  num: true,
  get: (t) => t.front ?? null,
  cell: (t) => html`<td class="num front" title=${t.front === 0 ? 'on the Pareto front' : null}>${t.front ?? '–'}</td>`,
};

const objectiveColumn = (objective, i) => ({
  key: `objective-${i}`,
  label: objective.metric,
  title: objectiveTitle(objective),
  metric: true,
  num: true,
  desc: objective.direction === 'maximize',
  get: (t) => objectiveValue(t, i, objective),
  cell: (t) => html`<td class="num" data-metric=${objective.metric}>${metricText(objective.metric, objectiveValue(t, i, objective))}</td>`,
});

// Feasible first, then by how far a trial breaks the constraints; trials not ranked last.
const FEASIBLE = {
  key: 'feasible',
  label: 'Feasible',
  get: (t) => (t.feasible === true ? 0 : t.feasible === false ? (t.violation ?? Infinity) : null),
  cell: (t) => {
    const f = feasibility(t);
    return html`<td class=${f.feasible === false ? 'infeasible-mark' : null} title=${f.feasible === false ? 'violation: the summed relative excess over the bounds (0 meets them all)' : null}>${f.text}</td>`;
  },
};

/** The columns of a study's leaderboard: by value for one objective, by front and objectives for a study ranked by a Pareto front. */
export function columnsFor(config, direction) {
  if (!config || !ranksByFront(config)) return [RANK, NUMBER, FAMILY, STATE, valueColumn(direction), EPOCHS, TIME, PARAMS];
  const constrained = (config.constraints?.length ?? 0) > 0;
  return [RANK, NUMBER, FAMILY, STATE, FRONT, ...objectivesOf(config).map(objectiveColumn), ...(constrained ? [FEASIBLE] : []), EPOCHS, TIME, PARAMS];
}

/** Compares for a sort; missing values (unranked trials, no value yet) always go last. */
function compare(a, b, dir) {
  if (a === null || a === undefined) return b === null || b === undefined ? 0 : 1;
  if (b === null || b === undefined) return -1;
  return (a < b ? -1 : a > b ? 1 : 0) * dir;
}

/** The front's size and hypervolume, above the leaderboard of a study ranked by a Pareto front; nothing while it loads. */
export function ParetoSummary({ config, pareto }) {
  if (pareto === undefined) return null;
  const objectives = objectivesOf(config);
  return html`<p data-testid="pareto-summary">${paretoText(pareto, config.constraints)}${pareto
    ? html` <span class="muted">(reference point: ${objectives.map((o, i) => `${o.metric} ${metricText(o.metric, pareto.reference[i])}`).join(', ')})</span>`
    : null}</p>`;
}

/** The trials as a table; `config` (the study's stored config) says whether it ranks by a Pareto front. */
export function Leaderboard({ trials, studyId, direction, config }) {
  const [sort, setSort] = useState({ key: 'rank', dir: 1 });
  const columns = columnsFor(config, direction);
  const byFront = columns.includes(FRONT);
  const column = columns.find((c) => c.key === sort.key) ?? columns[0];
  const rows = [...trials].sort((a, b) => compare(column.get(a), column.get(b), sort.dir) || a.number - b.number);
  const by = (c) => () => setSort((s) => ({ key: c.key, dir: s.key === c.key ? -s.dir : c.desc ? -1 : 1 }));
  return html`<div class="table-wrap"><table data-testid="leaderboard">
    <thead><tr>${columns.map((c) => html`<th class=${`sortable ${c.num ? 'num' : ''} ${sort.key === c.key ? (sort.dir > 0 ? 'sorted-asc' : 'sorted-desc') : ''}${c.metric ? ' metric' : ''}`} title=${c.title} data-sort=${c.key} onClick=${by(c)}>${c.label}</th>`)}</tr></thead>
    <tbody>${rows.map((t) => html`<tr key=${t.id} class=${byFront && t.feasible === false ? 'infeasible' : byFront && t.front === 0 ? 'front-0' : undefined} data-testid="leaderboard-row" data-trial-id=${t.id} data-state=${t.state} data-front=${byFront ? (t.front ?? '') : undefined} data-feasible=${byFront && t.feasible !== undefined && t.feasible !== null ? String(t.feasible) : undefined}>
      ${columns.map((c) => c.cell(t, studyId))}
    </tr>`)}</tbody>
  </table></div>`;
}
