// The studies list: state, progress, best against the baseline, time, a start form and cancel buttons.
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { html } from '../html.js';
import { duration, ErrorNote, num, StateBadge, useApi, when } from '../util.js';
import { StudyForm } from './study-form.js';

const ACTIVE = ['queued', 'running'];
const DONE_TRIALS = ['completed', 'pruned', 'failed', 'cancelled'];

/** Trials ended, of the budget; epochs trained, of the most the budget allows. */
export function progressOf(study) {
  const budget = study.config?.budget ?? {};
  const trialsDone = DONE_TRIALS.reduce((sum, s) => sum + (study.counts?.[s] ?? 0), 0);
  const trialsTotal = budget.maxTrials ?? 0;
  const epochsTotal = (budget.maxTrials ?? 0) * (budget.maxEpochs ?? 0);
  return { trialsDone, trialsTotal, epochsDone: study.epochs ?? 0, epochsTotal };
}

/**
 * Elapsed time, and the time left estimated from the further along of the two progress
 * measures (trials ended, epochs trained): early stopping makes the epoch budget an upper bound.
 * Elapsed is the time the study ran (the api's runningSeconds, what its time limit counts), not
 * since it was created: a continued study did not run while it stayed completed.
 */
export function timingOf(study, now = Date.now()) {
  const elapsed = typeof study.runningSeconds === 'number' ? study.runningSeconds * 1000 : (study.endedAt ? Date.parse(study.endedAt) : now) - Date.parse(study.createdAt);
  if (!ACTIVE.includes(study.state)) return { elapsed, eta: null };
  const p = progressOf(study);
  const fraction = Math.max(p.trialsTotal ? p.trialsDone / p.trialsTotal : 0, p.epochsTotal ? p.epochsDone / p.epochsTotal : 0);
  return { elapsed, eta: fraction > 0 && fraction < 1 ? (elapsed * (1 - fraction)) / fraction : null };
}

/** The baseline's score when it is measured with the study's objective metric, else null. */
export function baselineOf(study) {
  const b = study.config?.baseline;
  return b && b.metric === study.config?.objective?.metric ? b : null;
}

function Progress({ study }) {
  const p = progressOf(study);
  const share = p.trialsTotal ? Math.min(100, (100 * p.trialsDone) / p.trialsTotal) : 0;
  return html`<div data-testid="study-progress">
    <div>${p.trialsDone} / ${p.trialsTotal} trials</div>
    <div class="progress" title=${`${Math.round(share)}%`}><span style=${{ width: `${share}%` }}></span></div>
    <div class="muted">${p.epochsDone} / ${p.epochsTotal} epochs</div>
  </div>`;
}

function Best({ study }) {
  const metric = study.config?.objective?.metric;
  const baseline = baselineOf(study);
  if (!study.best) return html`<span class="muted">none yet</span>`;
  return html`<div>
    <strong>${num(study.best.value)}</strong> <span class="muted">${metric}</span>
    ${baseline && html`<div class="muted">baseline ${num(baseline.value)} (${baseline.method})</div>`}
  </div>`;
}

function StudyRow({ study, onCancel }) {
  const { elapsed, eta } = timingOf(study);
  return html`<tr data-testid="study-row" data-study-id=${study.id}>
    <td><a href=${`#/studies/${encodeURIComponent(study.id)}`}>${study.name}</a><div class="muted">${when(study.createdAt)}</div></td>
    <td><${StateBadge} state=${study.state} /></td>
    <td><${Progress} study=${study} /></td>
    <td><${Best} study=${study} /></td>
    <td>${duration(elapsed)}${eta !== null && html`<div class="muted">≈ ${duration(eta)} left</div>`}</td>
    <td>${ACTIVE.includes(study.state) && html`<button class="danger" data-testid="cancel-study" onClick=${() => onCancel(study)}>Cancel</button>`}</td>
  </tr>`;
}

export default function StudiesPage() {
  const studies = useApi('/v1/studies?limit=100', { every: 3000 });
  const [actionError, setActionError] = useState(null);
  const [showForm, setShowForm] = useState(false);
  async function cancel(study) {
    if (!confirm(`Cancel study ${study.name}? Queued trials are dropped; running ones stop after their epoch.`)) return;
    try {
      await api(`/v1/studies/${encodeURIComponent(study.id)}/cancel`, { method: 'POST' });
      setActionError(null);
    } catch (err) {
      setActionError(err);
    }
    studies.reload();
  }
  const list = studies.data?.studies ?? [];
  return html`
    <div class="spread"><h1>Studies</h1><button data-testid="new-study" onClick=${() => setShowForm(!showForm)}>${showForm ? 'Close the form' : 'Start a study'}</button></div>
    ${showForm && html`<${StudyForm} onStarted=${(s) => (location.hash = `#/studies/${encodeURIComponent(s.id)}`)} />`}
    <${ErrorNote} error=${actionError ?? studies.error} />
    <div class="card table-wrap">
      ${studies.data === undefined && !studies.error ? html`<p class="loading">Loading…</p>` : list.length === 0 ? html`<p class="muted">No studies yet: start one with the button above.</p>` : html`
      <table data-testid="studies-table">
        <thead><tr><th>Study</th><th>State</th><th>Progress</th><th>Best</th><th>Time</th><th></th></tr></thead>
        <tbody>${list.map((s) => html`<${StudyRow} key=${s.id} study=${s} onCancel=${cancel} />`)}</tbody>
      </table>`}
      ${studies.data?.nextCursor && html`<p class="muted">Showing the newest 100 studies.</p>`}
    </div>`;
}
