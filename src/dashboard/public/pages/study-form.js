// The form that starts a study: dataset, objective, families, budget and search algorithm.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { html } from '../html.js';
import { ErrorNote, useApi } from '../util.js';

/** The objective metrics the api accepts per task, the first being the default. */
const METRICS = {
  classification: ['val_accuracy', 'val_loss'],
  regression: ['val_loss', 'val_mae'],
  forecasting: ['val_mae', 'val_loss'],
};
const FAMILIES = ['mlp', 'cnn', 'rnn', 'transformer'];
const ALGORITHMS = ['random', 'tpe', 'evolution', 'grid'];
const SCHEDULERS = ['', 'asha', 'hyperband'];

/** The direction that fits a metric: accuracy goes up, losses and errors go down. */
const directionOf = (metric) => (metric === 'val_accuracy' ? 'maximize' : 'minimize');

/** The request body of POST /v1/studies from the form's fields. */
export function studyBody(f, dataset) {
  const body = {
    name: f.name.trim(),
    datasetId: f.datasetId,
    objective: { metric: f.metric, direction: f.direction },
    budget: { maxTrials: Number(f.maxTrials), maxEpochs: Number(f.maxEpochs), parallelism: Number(f.parallelism) },
    search: { algorithm: f.algorithm },
  };
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
  const [f, setF] = useState({ name: '', datasetId: '', metric: '', direction: '', families: [], maxTrials: 10, maxEpochs: 10, parallelism: 1, algorithm: 'random', scheduler: '', window: 12, horizon: 1 });
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
    setF((x) => ({ ...x, metric, direction: directionOf(metric), name: x.name || `${dataset.name}-search` }));
  }, [f.datasetId, dataset?.task]);

  const set = (field) => (e) => {
    const value = e.currentTarget.value;
    setF((x) => (field === 'metric' ? { ...x, metric: value, direction: directionOf(value) } : { ...x, [field]: value }));
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
        <legend>Families (none ticked: every family that fits the dataset)</legend>
        <div class="row">${FAMILIES.map((fam) => html`<label class="inline"><input type="checkbox" name="families" value=${fam} checked=${f.families.includes(fam)} onChange=${toggle(fam)} /> ${fam}</label>`)}</div>
      </fieldset>
      <div class="fields">
        <label>Trials <input name="maxTrials" type="number" min="1" max="10000" required value=${f.maxTrials} onInput=${set('maxTrials')} /></label>
        <label>Epochs per trial <input name="maxEpochs" type="number" min="1" max="1000" required value=${f.maxEpochs} onInput=${set('maxEpochs')} /></label>
        <label>Parallel trials <input name="parallelism" type="number" min="1" max="64" required value=${f.parallelism} onInput=${set('parallelism')} /></label>
        <label>Seed <input name="seed" type="number" min="0" step="1" placeholder="none" value=${f.seed ?? ''} onInput=${set('seed')} /></label>
        <label>Search algorithm
          <select name="algorithm" value=${f.algorithm} onChange=${set('algorithm')}>${ALGORITHMS.map((a) => html`<option value=${a}>${a}</option>`)}</select>
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
