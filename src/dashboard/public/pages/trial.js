// One trial: its learning curve, params, attempts, backend and worker, retries and why it ended.
import { Chart } from '../charts.js';
import { html } from '../html.js';
import { duration, ErrorNote, num, StateBadge, useApi, when } from '../util.js';
import { trialCurveOption } from './study-charts.js';
import { outcomeOf } from './trial-outcome.js';

const ACTIVE = ['queued', 'running', 'paused'];

function Params({ params }) {
  return html`<table class="kv" data-testid="trial-params"><tbody>
    ${Object.entries(params).map(([k, v]) => html`<tr><th>${k}</th><td>${typeof v === 'number' ? num(v, 6) : String(v)}</td></tr>`)}
  </tbody></table>`;
}

/** The latest attempt's epochs: an earlier attempt's curve would overlap it. */
function latestAttempt(curve) {
  const attempt = Math.max(0, ...curve.map((p) => p.attempt));
  return curve.filter((p) => p.attempt === attempt);
}

export default function TrialPage({ params }) {
  const base = `/v1/studies/${encodeURIComponent(params.id)}`;
  const study = useApi(base);
  // While it is unfinished, the page follows it every few seconds.
  const trial = useApi(`${base}/trials/${encodeURIComponent(params.trialId)}`, { every: (data) => (!data || ACTIVE.includes(data.state) ? 3000 : undefined) });
  const t = trial.data;
  if (trial.error && !t) return html`<${ErrorNote} error=${trial.error} />`;
  if (!t) return html`<p class="loading">Loading…</p>`;
  const config = study.data?.config;
  const curve = latestAttempt(t.curve);
  const attempts = [...new Set(t.curve.map((p) => p.attempt))].sort((a, b) => a - b);
  return html`
    <p><a href=${`#/studies/${encodeURIComponent(params.id)}`}>← ${study.data?.name ?? 'Study'}</a></p>
    <div class="card">
      <h1>Trial #${t.number} <span class="muted">${t.family}</span> <${StateBadge} state=${t.state} /></h1>
      <dl class="facts" data-testid="trial-facts">
        <dt>Outcome</dt><dd data-testid="trial-outcome">${outcomeOf(t, config)}</dd>
        <dt>Value</dt><dd>${num(t.value)} ${config ? html`<span class="muted">${config.objective.metric}</span>` : null}</dd>
        <dt>Epochs</dt><dd>${t.epochs}${t.bestEpoch ? ` (best ${t.bestEpoch})` : ''}${config ? ` of ${config.budget.maxEpochs}` : ''}</dd>
        <dt>Rung</dt><dd>${t.rung}</dd>
        <dt>Attempts</dt><dd>${t.attempts}${attempts.length > 1 ? html` <span class="muted">(curves recorded by attempts ${attempts.join(', ')}; the latest is shown)</span>` : null}</dd>
        <dt>Retries</dt><dd>${t.retries}</dd>
        <dt>Backend</dt><dd data-testid="trial-backend">${t.backend ?? '–'}</dd>
        <dt>Worker</dt><dd>${t.worker ?? '–'}</dd>
        <dt>Started</dt><dd>${when(t.startedAt)}</dd>
        <dt>Ended</dt><dd>${when(t.endedAt)}</dd>
        <dt>Time</dt><dd>${duration(t.durationMs)}</dd>
      </dl>
    </div>
    <div class="grid">
      <div class="card"><h2>Learning curve</h2>${curve.length ? html`<${Chart} id="trial-curve" option=${trialCurveOption(curve)} />` : html`<p class="muted">No epoch reported yet.</p>`}</div>
      <div class="card"><h2>Parameters</h2><${Params} params=${t.params} /></div>
    </div>
    ${curve.length > 0 && html`<div class="card table-wrap"><h2>Epochs</h2><${EpochTable} curve=${curve} /></div>`}`;
}

function EpochTable({ curve }) {
  const names = [...new Set(curve.flatMap((p) => Object.keys(p.metrics)))].sort();
  return html`<table data-testid="trial-epochs">
    <thead><tr><th class="num">Epoch</th>${names.map((n) => html`<th class="num">${n}</th>`)}</tr></thead>
    <tbody>${curve.map((p) => html`<tr><td class="num">${p.epoch}</td>${names.map((n) => html`<td class="num">${num(p.metrics[n])}</td>`)}</tr>`)}</tbody>
  </table>`;
}
