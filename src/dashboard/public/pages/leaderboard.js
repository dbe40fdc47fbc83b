// The study's trials as a table that sorts by any column; ranked trials first by default.
import { useState } from 'preact/hooks';
import { html } from '../html.js';
import { duration, num, StateBadge } from '../util.js';

/** Params as "name=value" pairs, family left out (it has its own column). */
function paramText(params) {
  return Object.entries(params ?? {})
    .filter(([k]) => k !== 'family')
    .map(([k, v]) => `${k}=${typeof v === 'number' ? num(v, 3) : v}`)
    .join(', ');
}

const COLUMNS = [
  { key: 'rank', label: 'Rank', num: true, get: (t) => t.rank ?? null },
  { key: 'number', label: 'Trial', num: true, get: (t) => t.number },
  { key: 'family', label: 'Family', get: (t) => t.family },
  { key: 'state', label: 'State', get: (t) => t.state },
  { key: 'value', label: 'Value', num: true, get: (t) => t.value },
  { key: 'epochs', label: 'Epochs', num: true, get: (t) => t.epochs },
  { key: 'durationMs', label: 'Time', num: true, get: (t) => t.durationMs },
  { key: 'params', label: 'Params', get: (t) => paramText(t.params) },
];

/** Compares for a sort; missing values (unranked trials, no value yet) always go last. */
function compare(a, b, dir) {
  if (a === null || a === undefined) return b === null || b === undefined ? 0 : 1;
  if (b === null || b === undefined) return -1;
  return (a < b ? -1 : a > b ? 1 : 0) * dir;
}

export function Leaderboard({ trials, studyId, direction }) {
  const [sort, setSort] = useState({ key: 'rank', dir: 1 });
  const column = COLUMNS.find((c) => c.key === sort.key) ?? COLUMNS[0];
  const rows = [...trials].sort((a, b) => compare(column.get(a), column.get(b), sort.dir) || a.number - b.number);
  const by = (key) => () => setSort((s) => ({ key, dir: s.key === key ? -s.dir : key === 'value' && direction === 'maximize' ? -1 : 1 }));
  return html`<div class="table-wrap"><table data-testid="leaderboard">
    <thead><tr>${COLUMNS.map((c) => html`<th class=${`sortable ${c.num ? 'num' : ''} ${sort.key === c.key ? (sort.dir > 0 ? 'sorted-asc' : 'sorted-desc') : ''}`} data-sort=${c.key} onClick=${by(c.key)}>${c.label}</th>`)}</tr></thead>
    <tbody>${rows.map((t) => html`<tr key=${t.id} data-testid="leaderboard-row" data-trial-id=${t.id} data-state=${t.state}>
      <td class="num">${t.rank ?? '–'}</td>
      <td class="num"><a href=${`#/studies/${encodeURIComponent(studyId)}/trials/${encodeURIComponent(t.id)}`}>#${t.number}</a></td>
      <td>${t.family}</td>
      <td><${StateBadge} state=${t.state} />${(t.state === 'paused' || t.state === 'pruned') && t.rung !== undefined ? html` <span class="muted" title="rung">r${t.rung}</span>` : null}</td>
      <td class="num">${num(t.value)}</td>
      <td class="num">${t.epochs}${t.bestEpoch ? html` <span class="muted">(best ${t.bestEpoch})</span>` : null}</td>
      <td class="num">${duration(t.durationMs)}</td>
      <td class="muted">${paramText(t.params)}</td>
    </tr>`)}</tbody>
  </table></div>`;
}
