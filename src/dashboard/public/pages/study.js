// One study: its progress, leaderboard, optimization history, live learning curves,
// parameter importance, parallel coordinates and the champion decision.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api } from '../api.js';
import { Chart } from '../charts.js';
import { html } from '../html.js';
import { duration, ErrorNote, num, StateBadge, useApi, when } from '../util.js';
import { Leaderboard, ParetoSummary } from './leaderboard.js';
import { constraintText, objectivesOf, objectiveText, ranksByFront } from './objectives.js';
import { paretoOption } from './pareto-chart.js';
import { curvesOption, historyOption, importanceOption, parallelOption } from './study-charts.js';
import { ContinueStudy } from './study-continue.js';
import { PACE, useLiveStudy } from './study-live.js';
import { baselineOf, progressOf, timingOf } from './studies.js';

const ACTIVE = ['queued', 'running'];

/** A leaderboard entry's place on a Pareto front; nothing for a study ranked by one objective. */
const frontOf = (r) => (r && 'front' in r ? { front: r.front, crowding: r.crowding, values: r.values, violation: r.violation, feasible: r.feasible } : {});

/**
 * The api's trials (ranked by the leaderboard) joined with what the live events say: the
 * events are newer for state and curves, the api has the durations and best epochs.
 */
function joinTrials(listed, ranked, store) {
  const byId = new Map(ranked.map((t) => [t.id, t]));
  const rows = listed.map((t) => {
    const live = store.trials.get(t.id);
    const r = byId.get(t.id);
    return { ...t, ...frontOf(r), rank: r?.rank ?? null, state: live?.state ?? t.state, value: t.value ?? live?.value ?? null, curve: live?.curve ?? [], pausedAt: live?.pausedAt ?? null, rung: live?.rung ?? t.rung };
  });
  const known = new Set(listed.map((t) => t.id));
  for (const live of store.trials.values()) {
    if (!known.has(live.id) && live.family) rows.push({ ...live, rank: null, epochs: live.curve.length, durationMs: null, bestEpoch: null });
  }
  return rows;
}

function Header({ study, dataset, onCancel, onContinued }) {
  const p = progressOf(study);
  const { elapsed, eta } = timingOf(study);
  const baseline = baselineOf(study);
  const c = study.config;
  return html`<div class="card">
    <div class="spread">
      <h1>${study.name} <${StateBadge} state=${study.state} /></h1>
      ${ACTIVE.includes(study.state) && html`<button class="danger" data-testid="cancel-study" onClick=${onCancel}>Cancel study</button>`}
    </div>
    <dl class="facts">
      ${ranksByFront(c)
        ? html`<dt>Objectives</dt><dd data-testid="study-objectives">${objectivesOf(c).map(objectiveText).join(', ')}</dd>
          ${c.constraints?.length ? html`<dt>Constraints</dt><dd data-testid="study-constraints">${c.constraints.map(constraintText).join(', ')}</dd>` : null}`
        : html`<dt>Objective</dt><dd>${c.objective.direction} ${c.objective.metric}</dd>`}
      <dt>Search</dt><dd>${c.search.algorithm} over ${c.search.families.join(', ')}${c.search.scheduling?.scheduler ? `, ${c.search.scheduling.scheduler} scheduler` : ''}${c.search.scheduling?.pruner ? ', median pruner' : ''}</dd>
      <dt>Budget</dt><dd><span data-testid="study-budget">${c.budget.maxTrials} trials × ${c.budget.maxEpochs} epochs, ${c.budget.parallelism} at once${c.budget.timeLimitSeconds !== undefined ? `, at most ${duration(c.budget.timeLimitSeconds * 1000)}` : ''}</span></dd>
      <dt>Progress</dt><dd data-testid="study-progress">${p.trialsDone} / ${p.trialsTotal} trials ended, ${p.epochsDone} / ${p.epochsTotal} epochs; ${Object.entries(study.counts).filter(([, n]) => n > 0).map(([s, n]) => `${n} ${s}`).join(', ')}</dd>
      <dt>Best</dt><dd data-testid="study-best">${study.best ? html`${num(study.best.value)} (trial #${study.best.number}, ${study.best.family})` : 'none yet'}</dd>
      <dt>Baseline</dt><dd>${baseline ? `${num(baseline.value)} (${baseline.method})` : c.baseline ? `${num(c.baseline.value)} ${c.baseline.metric} (${c.baseline.method}; another metric)` : '–'}</dd>
      <dt>Time</dt><dd>${duration(elapsed)}${eta !== null ? `, ≈ ${duration(eta)} left` : ''} <span class="muted">(started ${when(study.createdAt)}${study.resumedAt ? `, continued ${when(study.resumedAt)}` : ''})</span></dd>
      <dt>Dataset</dt><dd><a href=${`#/datasets/${encodeURIComponent(study.datasetId)}`}>${dataset?.name ?? study.datasetId}</a></dd>
    </dl>
    <${ContinueStudy} study=${study} onContinued=${onContinued} />
  </div>`;
}

/** What happened to the best trial at the end: registered as a version, and whether it became champion and why. */
function Champion({ study, decision }) {
  if (ACTIVE.includes(study.state)) return html`<p class="muted">Decided when the study ends.</p>`;
  return html`<div data-testid="champion">
    ${study.model ? html`<p>Registered as <a href=${`#/models/${encodeURIComponent(study.model.name)}`}>${study.model.name}</a> v${study.model.version}.</p>` : html`<p class="muted">No model version was registered.</p>`}
    ${decision && html`<p data-testid="champion-decision"><strong>${decision.moved ? `Champion moved to v${decision.version}` : 'Champion not moved'}:</strong> ${decision.reason}</p>`}
    ${study.message && !decision && html`<p data-testid="study-message">${study.message}</p>`}
  </div>`;
}

function Importance({ importance }) {
  if (importance.error) {
    const why = importance.error.status === 409 ? importance.error.message : `not available: ${importance.error.message}`;
    return html`<p class="notice" data-testid="importance-note">${why}</p>`;
  }
  if (!importance.data) return html`<p class="loading">Loading…</p>`;
  if (importance.data.params.length === 0) return html`<p class="notice" data-testid="importance-note">No parameter varied enough to measure (${importance.data.trials} trials read).</p>`;
  return html`<${Chart} id="importance" height=${Math.max(160, 28 * importance.data.params.length + 40)} option=${importanceOption(importance.data.params)} />
    <p class="muted">${importance.data.method} over ${importance.data.trials} completed trials.</p>`;
}

export default function StudyPage({ params }) {
  const id = params.id;
  const base = `/v1/studies/${encodeURIComponent(id)}`;
  // A completed study is re-read now and then: it may be continued from elsewhere.
  const study = useApi(base, { every: (s) => (s?.state === 'completed' ? PACE.endedReadMs : undefined) });
  const listed = useApi(`${base}/trials?limit=500`);
  const ranked = useApi(`${base}/leaderboard?limit=1000`);
  const importance = useApi(`${base}/importance`);
  const dataset = useApi(study.data ? `/v1/datasets/${encodeURIComponent(study.data.datasetId)}` : null);
  const [actionError, setActionError] = useState(null);
  const metric = study.data?.config.objective.metric;
  const direction = study.data?.config.objective.direction;

  const live = useLiveStudy(id, metric, () => {
    study.reload();
    listed.reload();
    ranked.reload();
  });
  // The stream closed at study.ended; a study continued since (here or elsewhere) is followed again.
  useEffect(() => void live.resume(study.data), [study.data]);
  const completed = study.data?.counts.completed ?? 0;
  // Importance changes only when a trial completes; the first load is useApi's own.
  const seen = useRef(completed);
  useEffect(() => {
    if (completed !== seen.current) importance.reload();
    seen.current = completed;
  }, [completed]);

  const trials = useMemo(() => joinTrials(listed.data?.trials ?? [], ranked.data?.trials ?? [], live.store), [listed.data, ranked.data, live.version]);
  const config = study.data?.config;
  // A chart of the first two objectives; a study with one objective and constraints has none.
  const pareto = useMemo(() => (config && objectivesOf(config).length > 1 ? paretoOption({ trials, objectives: objectivesOf(config) }) : null), [trials, config]);
  const openTrial = (params) => {
    if (params.data?.trialId) location.hash = `#/studies/${encodeURIComponent(id)}/trials/${encodeURIComponent(params.data.trialId)}`;
  };
  const baseline = study.data ? baselineOf(study.data) : null;

  async function cancel() {
    if (!confirm('Cancel this study? Queued trials are dropped; running ones stop after their epoch.')) return;
    try {
      await api(`${base}/cancel`, { method: 'POST' });
      setActionError(null);
    } catch (err) {
      setActionError(err);
    }
    study.reload();
  }

  function continued(view) {
    live.resume(view);
    study.reload();
    listed.reload();
    ranked.reload();
  }

  if (study.error && !study.data) return html`<${ErrorNote} error=${study.error} />`;
  if (!study.data) return html`<p class="loading">Loading…</p>`;
  return html`
    <p><a href="#/studies">← Studies</a></p>
    <${Header} study=${study.data} dataset=${dataset.data} onCancel=${cancel} onContinued=${continued} />
    <${ErrorNote} error=${actionError} />
    ${live.mode === 'polling' && html`<p class="notice" data-testid="polling-note">Live events are not available; the page reads the api every few seconds.</p>`}
    <div class="grid">
      <div class="card"><h2>Optimization history</h2><${Chart} id="history" option=${historyOption({ trials, direction, metric, baseline })} /></div>
      <div class="card"><h2>Learning curves</h2><${Chart} id="curves" option=${curvesOption({ trials, metric })} /></div>
    </div>
    ${pareto && html`<div class="card"><h2>Pareto front</h2><${Chart} id="pareto" height=${380} option=${pareto} onClick=${openTrial} /></div>`}
    <div class="card"><h2>Leaderboard</h2>
      ${ranksByFront(study.data.config) && html`<${ParetoSummary} config=${study.data.config} pareto=${ranked.data?.pareto} />`}
      ${trials.length === 0 ? html`<p class="muted">No trials yet.</p>` : html`<${Leaderboard} trials=${trials} studyId=${id} direction=${direction} config=${study.data.config} />`}
    </div>
    <div class="grid">
      <div class="card"><h2>Parameter importance</h2><${Importance} importance=${importance} /></div>
      <div class="card"><h2>Parameters and value</h2>
        ${trials.some((t) => t.value !== null && (t.state === 'completed' || t.state === 'pruned')) ? html`<${Chart} id="parallel" option=${parallelOption({ trials, metric })} />` : html`<p class="muted">Shown once trials finish.</p>`}
      </div>
    </div>
    <div class="card"><h2>Champion decision</h2><${Champion} study=${study.data} decision=${live.store.champion} /></div>`;
}
