// The form that starts a study: dataset, objectives and a constraint, families, budget and search algorithm.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { html } from '../html.js';
import { ErrorNote, useApi } from '../util.js';
import { COST_METRICS } from './objectives.js';

/** The objective metrics the api accepts per task, the first being the default. */
const METRICS = {
  classification: ['val_accuracy', 'val_loss'],
  regression: ['val_loss', 'val_mae'],
  forecasting: ['val_mae', 'val_loss'],
};
const FAMILIES = ['mlp', 'cnn', 'rnn', 'transformer'];
const ALGORITHMS = ['random', 'tpe', 'evolution', 'grid'];
/** The samplers the api accepts with two or more objectives (random and grid read no values). */
const MULTI_OBJECTIVE_ALGORITHMS = ['nsga2', 'motpe', 'random', 'grid'];
const SCHEDULERS = ['', 'asha', 'hyperband'];

/** The direction that fits a metric: accuracy goes up, losses and errors go down. */
const directionOf = (metric) => (metric === 'val_accuracy' ? 'maximize' : 'minimize');

/**
 * What an extra objective may be: a cost the worker measures, or the task's other validation
 * metric; never one already chosen (`taken`).
 */
export function extraMetrics(task, taken) {
  return [...(METRICS[task] ?? METRICS.classification), ...COST_METRICS].filter((m) => !taken.includes(m));
}

/** What a constraint may bound: any metric of the task or a cost. */
export const constraintMetrics = (task) => [...(METRICS[task] ?? METRICS.classification), ...COST_METRICS];

/** The algorithms offered: with a second objective only those that take several. */
export const algorithmsFor = (f) => (f.second ? MULTI_OBJECTIVE_ALGORITHMS : ALGORITHMS);

/**
 * The fields made consistent after a change: an extra objective that is no longer allowed (the
 * same as an earlier one) is dropped, a third needs a second, and an algorithm that takes one
 * objective gives way to nsga2 once there are two.
 */
export function reconcile(f, task) {
  const second = f.second && extraMetrics(task, [f.metric]).includes(f.second) ? f.second : '';
  const third = second && f.third && extraMetrics(task, [f.metric, second]).includes(f.third) ? f.third : '';
  const next = { ...f, second, third };
  return algorithmsFor(next).includes(next.algorithm) ? next : { ...next, algorithm: 'nsga2' };
}

/** The request body of POST /v1/studies from the form's fields. */
export function studyBody(f, dataset) {
  const primary = { metric: f.metric, direction: f.direction };
  const extra = [f.second, f.third].filter(Boolean);
  const body = {
    name: f.name.trim(),
    datasetId: f.datasetId,
    // Several objectives go as `objectives`, the primary first; each other one's direction is the api's (costs are minimized).
    ...(extra.length ? { objectives: [primary, ...extra.map((metric) => ({ metric }))] } : { objective: primary }),
    budget: { maxTrials: Number(f.maxTrials), maxEpochs: Number(f.maxEpochs), parallelism: Number(f.parallelism) },
    search: { algorithm: f.algorithm },
  };
  if (f.constraintMetric && String(f.constraintValue ?? '').trim() !== '') {
    body.constraints = [{ metric: f.constraintMetric, [f.constraintBound === 'min' ? 'min' : 'max']: Number(f.constraintValue) }];
  }
  // No family ticked: the api picks every family that fits the dataset.
  if (f.families.length) body.search.families = f.families;
  if (f.scheduler) body.search.scheduler = f.scheduler;
  // Empty: an unseeded study; a seed makes its trials' parameters and training repeatable.
  if (String(f.seed ?? '').trim() !== '') body.seed = Number(f.seed);
  if (dataset?.task === 'forecasting') {
    body.window = Number(f.window);
    body.horizon = Number(f.horizon);
  }
  return body;
}

export function StudyForm({ onStarted }) {
  const datasets = useApi('/v1/datasets?limit=100');
  const [f, setF] = useState({ name: '', datasetId: '', metric: '', direction: '', second: '', third: '', constraintMetric: '', constraintBound: 'max', constraintValue: '', families: [], maxTrials: 10, maxEpochs: 10, parallelism: 1, algorithm: 'random', scheduler: '', window: 12, horizon: 1 });
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const list = datasets.data?.datasets ?? [];
  const dataset = list.find((d) => d.id === f.datasetId);
  const metrics = METRICS[dataset?.task] ?? METRICS.classification;

  // A newly chosen dataset brings its task's default metric, and a name to start from.
  useEffect(() => {
    if (!f.datasetId && list[0]) setF((x) => ({ ...x, datasetId: list[0].id }));
  }, [list.length]);
  useEffect(() => {
    if (!dataset) return;
    const metric = metrics.includes(f.metric) ? f.metric : metrics[0];
    setF((x) => reconcile({ ...x, metric, direction: directionOf(metric), name: x.name || `${dataset.name}-search`, constraintMetric: constraintMetrics(dataset.task).includes(x.constraintMetric) ? x.constraintMetric : '' }, dataset.task));
  }, [f.datasetId, dataset?.task]);

  const set = (field) => (e) => {
    const value = e.currentTarget.value;
    setF((x) => reconcile(field === 'metric' ? { ...x, metric: value, direction: directionOf(value) } : { ...x, [field]: value }, dataset?.task));
  };
  const toggle = (family) => (e) => {
    const on = e.currentTarget.checked;
    setF((x) => ({ ...x, families: on ? [...x.families, family] : x.families.filter((y) => y !== family) }));
  };

  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onStarted(await api('/v1/studies', { method: 'POST', body: studyBody(f, dataset) }));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  if (datasets.data && list.length === 0) return html`<div class="card notice">Upload a dataset first (<a href="#/datasets">Datasets</a>), then start a study on it.</div>`;
  return html`
    <form class="card stack" data-testid="study-form" onSubmit=${submit}>
      <h2>Start a study</h2>
      <div class="fields">
        <label>Name <input name="name" required maxlength="200" value=${f.name} onInput=${set('name')} /></label>
        <label>Dataset
          <select name="datasetId" required value=${f.datasetId} onChange=${set('datasetId')}>
            ${list.map((d) => html`<option value=${d.id}>${d.name} (${d.kind}, ${d.task}, ${d.rows} rows)</option>`)}
          </select>
        </label>
        <label>Objective metric
          <select name="metric" value=${f.metric} onChange=${set('metric')}>${metrics.map((m) => html`<option value=${m}>${m}</option>`)}</select>
        </label>
        <label>Direction
          <select name="direction" value=${f.direction} onChange=${set('direction')}>
            <option value="maximize">maximize</option><option value="minimize">minimize</option>
          </select>
        </label>
      </div>
      <fieldset>
        <legend>More objectives and a constraint (optional: a Pareto front of trade-offs; costs are minimized)</legend>
        <div class="fields">
          <label>Second objective
            <select name="second" value=${f.second} onChange=${set('second')}>
              <option value="">none</option>${extraMetrics(dataset?.task, [f.metric]).map((m) => html`<option value=${m}>${m}</option>`)}
            </select>
          </label>
          ${f.second && html`<label>Third objective
            <select name="third" value=${f.third} onChange=${set('third')}>
              <option value="">none</option>${extraMetrics(dataset?.task, [f.metric, f.second]).map((m) => html`<option value=${m}>${m}</option>`)}
            </select>
          </label>`}
          <label>Constraint on
            <select name="constraintMetric" value=${f.constraintMetric} onChange=${set('constraintMetric')}>
              <option value="">none</option>${constraintMetrics(dataset?.task).map((m) => html`<option value=${m}>${m}</option>`)}
            </select>
          </label>
          ${f.constraintMetric && html`<label>Bound
            <select name="constraintBound" value=${f.constraintBound} onChange=${set('constraintBound')}>
              <option value="max">at most</option><option value="min">at least</option>
            </select>
          </label>
          <label>Value <input name="constraintValue" type="number" step="any" required value=${f.constraintValue} onInput=${set('constraintValue')} /></label>`}
        </div>
      </fieldset>
      <fieldset>
        <legend>Families (none ticked: every family that fits the dataset)</legend>
        <div class="row">${FAMILIES.map((fam) => html`<label class="inline"><input type="checkbox" name="families" value=${fam} checked=${f.families.includes(fam)} onChange=${toggle(fam)} /> ${fam}</label>`)}</div>
      </fieldset>
      <div class="fields">
        <label>Trials <input name="maxTrials" type="number" min="1" max="10000" required value=${f.maxTrials} onInput=${set('maxTrials')} /></label>
        <label>Epochs per trial <input name="maxEpochs" type="number" min="1" max="1000" required value=${f.maxEpochs} onInput=${set('maxEpochs')} /></label>
        <label>Parallel trials <input name="parallelism" type="number" min="1" max="64" required value=${f.parallelism} onInput=${set('parallelism')} /></label>
        <label>Seed <input name="seed" type="number" min="0" step="1" placeholder="none" value=${f.seed ?? ''} onInput=${set('seed')} /></label>
        <label>Search algorithm
          <select name="algorithm" value=${f.algorithm} onChange=${set('algorithm')}>${algorithmsFor(f).map((a) => html`<option value=${a}>${a}</option>`)}</select>
        </label>
        <label>Scheduler
          <select name="scheduler" value=${f.scheduler} onChange=${set('scheduler')}>${SCHEDULERS.map((s) => html`<option value=${s}>${s || 'none'}</option>`)}</select>
        </label>
        ${dataset?.task === 'forecasting' && html`
          <label>Window <input name="window" type="number" min="1" required value=${f.window} onInput=${set('window')} /></label>
          <label>Horizon <input name="horizon" type="number" min="1" required value=${f.horizon} onInput=${set('horizon')} /></label>`}
      </div>
      <${ErrorNote} error=${error ?? datasets.error} />
      <div><button type="submit" data-testid="start-study" disabled=${busy || !dataset}>Start</button></div>
    </form>`;
}
