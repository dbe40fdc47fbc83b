// One dataset as the upload understood it: columns, classes with their counts (and a chart of
// them), the train/validation split, images per class, and a few real rows.
import { useMemo } from 'preact/hooks';
import { html } from '../html.js';
import { Chart } from '../charts.js';
import { ErrorNote, num, useApi, when } from '../util.js';

/** Rows shown as a preview (tabular, text and sequence datasets). */
const PREVIEW_ROWS = 5;

function Facts({ items }) {
  return html`<dl class="facts">${items.filter(([, v]) => v !== undefined && v !== null).map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>`;
}

function classCountsOption(classes) {
  return {
    animation: false,
    grid: { left: 48, right: 16, top: 16, bottom: 56 },
    tooltip: { trigger: 'axis' },
    xAxis: { type: 'category', data: classes.map((c) => c.label), axisLabel: { interval: 0, rotate: classes.length > 8 ? 40 : 0 } },
    yAxis: { type: 'value', name: 'rows' },
    series: [{ type: 'bar', name: 'rows', data: classes.map((c) => c.count) }],
  };
}

function Columns({ summary }) {
  return html`<div class="table-wrap"><table data-testid="columns-table">
    <thead><tr><th>Column</th><th>Type</th><th class="num">Missing</th><th class="num">Categories</th></tr></thead>
    <tbody>${summary.columns.map((c) => html`<tr data-testid="column-row" data-column=${c.name}>
      <td><code>${c.name}</code></td><td>${c.type}</td><td class="num">${c.missing}</td><td class="num">${c.categories ?? '–'}</td>
    </tr>`)}</tbody>
  </table></div>
  ${summary.pixelColumns ? html`<p class="muted">and ${summary.pixelColumns} pixel columns</p>` : null}`;
}

function Classes({ classes, perClass }) {
  const option = useMemo(() => classCountsOption(classes), [classes]);
  const total = classes.reduce((a, c) => a + c.count, 0);
  return html`<div class="grid">
    <div class="table-wrap"><table data-testid="classes-table">
      <thead><tr><th>Class</th><th class="num">${perClass ? 'Images' : 'Rows'}</th><th class="num">Share</th></tr></thead>
      <tbody>${classes.map((c) => html`<tr data-testid="class-row" data-class=${c.label}>
        <td>${c.label}</td><td class="num">${c.count}</td><td class="num">${num((100 * c.count) / total, 3)} %</td>
      </tr>`)}</tbody>
    </table></div>
    <${Chart} id="class-counts" option=${option} height=${260} />
  </div>`;
}

/** Details only some kinds have, as label → value pairs. */
function kindFacts(s) {
  const out = [];
  if (s.shape) out.push(['Image shape', s.shape.join(' × ')]);
  if (s.images) {
    out.push(['Formats', `${s.images.formats.png} PNG, ${s.images.formats.jpeg} JPEG`]);
    out.push(['Sizes as uploaded', `${s.images.sizes.minWidth}–${s.images.sizes.maxWidth} × ${s.images.sizes.minHeight}–${s.images.sizes.maxHeight} px`]);
    out.push(['Resized', s.images.resized]);
    out.push(['Colour converted', `${s.images.converted.toGrayscale} to grayscale, ${s.images.converted.toRgb} to RGB`]);
    if (s.images.ignored) out.push(['Files ignored', s.images.ignored]);
  }
  if (s.text) {
    out.push(['Text field', html`<code>${s.text.field}</code> (${s.text.format})`]);
    out.push(['Vocabulary', `${s.text.vocabularySize} ids (${s.text.distinctTrainingWords} distinct training words)`]);
    out.push(['Sequence length', `${s.text.sequenceLength} tokens`]);
    out.push(['Words per text', `min ${s.text.tokens.min}, median ${s.text.tokens.median}, p95 ${s.text.tokens.p95}, max ${s.text.tokens.max}`]);
  }
  if (s.sequence) {
    out.push(['Steps × features', `${s.sequence.steps} × ${s.sequence.features}`]);
    if (s.sequence.field) out.push(['Sequence field', html`<code>${s.sequence.field}</code>`]);
  }
  if (s.series) {
    out.push(['Series length', s.series.length]);
    out.push(['Value columns', s.series.valueColumns.join(', ')]);
    if (s.series.timeColumn) out.push(['Time', `${s.series.timeColumn}: ${s.series.start} to ${s.series.end} (${s.series.order})`]);
    out.push(['Missing values', `${s.series.missing.filled} (${s.series.missing.method})`]);
  }
  const t = s.series?.target ?? s.sequence?.target;
  if (t) out.push(['Target range', `${num(t.min)} to ${num(t.max)} (mean ${num(t.mean)}, std ${num(t.std)})`]);
  return out;
}

function Preview({ id }) {
  const sample = useApi(`/v1/datasets/${encodeURIComponent(id)}/sample?limit=${PREVIEW_ROWS}`);
  if (sample.error) return html`<${ErrorNote} error=${sample.error} />`;
  if (!sample.data) return html`<p class="loading">Loading…</p>`;
  const rows = sample.data.instances;
  const tabular = rows.every((r) => r && typeof r === 'object' && !Array.isArray(r));
  const columns = tabular ? Object.keys(rows[0] ?? {}) : ['instance'];
  const cell = (v) => (typeof v === 'number' ? num(v) : v === null ? html`<span class="muted">missing</span>` : String(v));
  return html`<div class="table-wrap"><table data-testid="preview-table">
    <thead><tr>${columns.map((c) => html`<th>${c}</th>`)}<th>target</th></tr></thead>
    <tbody>${rows.map((r, i) => html`<tr>
      ${tabular ? columns.map((c) => html`<td>${cell(r[c])}</td>`) : html`<td class="clip">${typeof r === 'string' ? r : JSON.stringify(r)}</td>`}
      <td>${Array.isArray(sample.data.targets[i]) ? sample.data.targets[i].map((v) => num(v)).join(', ') : sample.data.targets[i]}</td>
    </tr>`)}</tbody>
  </table></div>
  <p class="muted">The first rows of the ${sample.data.split} split, decoded as predict takes them.</p>`;
}

export default function Dataset({ params }) {
  const { data: d, error } = useApi(`/v1/datasets/${encodeURIComponent(params.id)}`);
  if (error) return html`<p class="muted"><a href="#/datasets">Datasets</a> /</p><${ErrorNote} error=${error} />`;
  if (!d) return html`<p class="loading">Loading…</p>`;
  const s = d.summary ?? {};
  const perClass = s.images?.perClass;
  // Image zips count images per class folder; every classification dataset has its classes' row counts.
  const classes = perClass ? Object.entries(perClass).map(([label, count]) => ({ label, count })) : s.classes;
  const extra = kindFacts(s);
  return html`
    <p class="muted"><a href="#/datasets">Datasets</a> /</p>
    <h1>${d.name}</h1>
    <div class="grid">
      <section class="card" data-testid="dataset-summary">
        <h2>Summary</h2>
        <${Facts} items=${[
          ['Id', html`<code>${d.id}</code>`],
          ['Kind', d.kind],
          ['Task', d.task],
          ['Target', html`<code>${d.target}</code>`],
          ['Rows', d.rows],
          ['Encoded width', s.featureDim],
          ['Created', when(d.createdAt)],
        ]} />
      </section>
      ${s.split && html`<section class="card" data-testid="dataset-split">
        <h2>Split</h2>
        <${Facts} items=${[
          ['Training', html`<span data-testid="split-train">${s.split.train}</span>`],
          ['Validation', html`<span data-testid="split-validation">${s.split.validation}</span>`],
          ['Method', s.split.method],
          ['Validation fraction', s.split.validationFraction],
          ['Seed', s.split.seed],
        ]} />
      </section>`}
    </div>
    ${extra.length > 0 && html`<section class="card"><h2>${d.kind === 'image' ? 'Images' : 'Details'}</h2><${Facts} items=${extra} /></section>`}
    ${classes?.length ? html`<section class="card"><h2>${d.kind === 'image' ? 'Images per class' : 'Classes'}</h2><${Classes} classes=${classes} perClass=${d.kind === 'image'} /></section>` : null}
    ${s.columns?.length ? html`<section class="card"><h2>Columns</h2><${Columns} summary=${s} /></section>` : null}
    ${d.kind !== 'timeseries' && d.kind !== 'image' && html`<section class="card"><h2>Rows</h2><${Preview} id=${d.id} /></section>`}`;
}
