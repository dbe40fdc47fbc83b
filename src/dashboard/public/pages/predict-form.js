// Try a model: a form prefilled with a real row of the dataset the alias's version was trained on,
// sent to POST /v1/models/{name}/predict; the answer (or the api's 4xx message) is shown inline.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { html } from '../html.js';
import { ErrorNote, num } from '../util.js';

/** Rows fetched at once; "Next row" walks through them. */
const SAMPLE_ROWS = 20;

/** Whether the instance is a tabular row (column → number, string or null), shown as one field per column. */
const isRecord = (x) => x !== null && typeof x === 'object' && !Array.isArray(x) && Object.values(x).every((v) => v === null || ['number', 'string'].includes(typeof v));

/** Where the sample comes from: the dataset, and for a time series the window and horizon the version's study used. */
async function sampleOf(version) {
  const dataset = await api(`/v1/datasets/${encodeURIComponent(version.datasetId)}`);
  let query = `limit=${SAMPLE_ROWS}`;
  if (dataset.kind === 'timeseries') {
    const study = await api(`/v1/studies/${encodeURIComponent(version.studyId)}`);
    query += `&window=${study.config.window}&horizon=${study.config.horizon}`;
  }
  return { dataset, ...(await api(`/v1/datasets/${encodeURIComponent(version.datasetId)}/sample?${query}`)) };
}

function Fields({ row, onChange }) {
  return html`<div class="fields">
    ${Object.entries(row).map(([name, value]) => html`<label>
      ${name}
      <input name=${name} data-field=${name} type=${typeof value === 'number' ? 'number' : 'text'} step="any" value=${value ?? ''}
        placeholder=${value === null ? 'missing' : ''}
        onInput=${(e) => onChange({ ...row, [name]: typeof value === 'number' ? (e.currentTarget.value === '' ? null : Number(e.currentTarget.value)) : e.currentTarget.value })} />
    </label>`)}
  </div>`;
}

function Result({ answer, truth }) {
  const p = answer.predictions[0];
  const said = `${answer.model.name} v${answer.model.version} (${answer.model.alias})`;
  if (p && typeof p === 'object' && 'label' in p) {
    const ranked = Object.entries(p.probabilities ?? {}).sort((a, b) => b[1] - a[1]);
    return html`<div class="predict-result" data-testid="predict-result">
      <p>${said} says <strong data-testid="predict-label">${p.label}</strong>${truth !== undefined ? html` <span class="muted">(this row's true class: ${truth})</span>` : null}</p>
      <table class="probabilities"><tbody>
        ${ranked.map(([label, prob]) => html`<tr data-testid="probability-row" data-label=${label}>
          <td>${label}</td><td class="num">${num(prob, 3)}</td>
          <td class="bar-cell"><span class="bar" style=${{ width: `${Math.round(prob * 100)}%` }}></span></td>
        </tr>`)}
      </tbody></table>
    </div>`;
  }
  if (p && typeof p === 'object' && 'value' in p) {
    return html`<div class="predict-result" data-testid="predict-result">
      <p>${said} says <strong data-testid="predict-value">${num(p.value, 5)}</strong>${truth !== undefined ? html` <span class="muted">(this row's true value: ${num(truth[0], 5)})</span>` : null}</p>
    </div>`;
  }
  if (p && typeof p === 'object' && 'forecast' in p) {
    return html`<div class="predict-result" data-testid="predict-result">
      <p>${said} forecasts <strong data-testid="predict-forecast">${p.forecast.map((v) => num(v, 5)).join(', ')}</strong></p>
      ${truth !== undefined ? html`<p class="muted">What followed in the data: ${truth.map((v) => num(v, 5)).join(', ')}</p>` : null}
    </div>`;
  }
  return html`<pre class="predict-result" data-testid="predict-result">${JSON.stringify(answer, null, 2)}</pre>`;
}

/**
 * @param name the model
 * @param aliases alias → version number
 * @param versions the model's versions (to find the dataset of the alias's version)
 */
export function PredictForm({ name, aliases, versions }) {
  const names = Object.keys(aliases).sort((a, b) => (a === 'champion' ? -1 : b === 'champion' ? 1 : a.localeCompare(b)));
  const [alias, setAlias] = useState(names[0]);
  const version = versions.find((v) => v.version === aliases[alias]);
  const [sample, setSample] = useState(null);
  const [at, setAt] = useState(0);
  const [row, setRow] = useState(null);
  const [text, setText] = useState('');
  // A text model's instance is edited as the text itself, anything else but a table row as JSON.
  const [plain, setPlain] = useState(false);
  const [loadError, setLoadError] = useState(null);
  const [answer, setAnswer] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!version) return undefined;
    let live = true;
    setSample(null);
    setLoadError(null);
    sampleOf(version).then(
      (s) => live && (setSample(s), setAt(0)),
      (err) => live && setLoadError(err),
    );
    return () => (live = false);
  }, [version?.datasetId, version?.studyId]);

  useEffect(() => {
    const instance = sample?.instances[at];
    if (instance === undefined) return;
    setRow(isRecord(instance) ? instance : null);
    setPlain(typeof instance === 'string');
    setText(typeof instance === 'string' ? instance : JSON.stringify(instance, null, 1));
    setAnswer(null);
    setError(null);
  }, [sample, at]);

  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setAnswer(null);
    try {
      let instance = row;
      if (instance === null && plain) instance = text;
      else if (instance === null) {
        try {
          instance = JSON.parse(text);
        } catch (err) {
          throw new Error(`The instance is not valid JSON: ${err.message}`);
        }
      }
      setAnswer(await api(`/v1/models/${encodeURIComponent(name)}/predict?alias=${encodeURIComponent(alias)}`, { method: 'POST', body: { instances: [instance] } }));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  if (names.length === 0) return html`<p class="muted">No alias points to a version, so there is nothing to predict with. Promote a version first.</p>`;
  return html`<form class="stack" data-testid="predict-form" onSubmit=${submit}>
    <div class="row">
      <label>Alias <select name="alias" value=${alias} onChange=${(e) => setAlias(e.currentTarget.value)}>
        ${names.map((a) => html`<option value=${a}>${a} → v${aliases[a]}</option>`)}
      </select></label>
      ${sample && html`<span class="muted" data-testid="predict-source">Row ${at + 1} of ${sample.instances.length} from the ${sample.split} split of <a href=${`#/datasets/${encodeURIComponent(sample.datasetId)}`}>${sample.dataset.name}</a></span>`}
      ${sample && sample.instances.length > 1 && html`<button type="button" class="secondary" data-testid="next-row" onClick=${() => setAt((at + 1) % sample.instances.length)}>Next row</button>`}
    </div>
    <${ErrorNote} error=${loadError} />
    ${!sample && !loadError && html`<p class="loading">Loading a row of the dataset…</p>`}
    ${sample && (row ? html`<${Fields} row=${row} onChange=${setRow} />` : html`<label>${plain ? 'Text' : 'Instance (JSON, as predict takes it)'}
      <textarea name="instance" rows="6" spellcheck="false" value=${text} onInput=${(e) => setText(e.currentTarget.value)}></textarea>
    </label>`)}
    <div><button type="submit" data-testid="predict-button" disabled=${busy || !sample}>${busy ? 'Predicting…' : 'Predict'}</button></div>
    ${error && html`<div data-testid="predict-error"><${ErrorNote} error=${error} /></div>`}
    ${answer && html`<${Result} answer=${answer} truth=${sample?.targets[at]} />`}
  </form>`;
}
