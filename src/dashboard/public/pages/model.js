// One model: its versions with their metrics, its aliases with their canary and shadow routing,
// moving the champion (promote or roll back, each confirmed first) and a try-predict form.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { html } from '../html.js';
import { ErrorNote, num, when } from '../util.js';
import { AliasRoutes } from './alias-routing.js';
import { PredictForm } from './predict-form.js';

const PAGE = 500;
/** Versions read before the page asks for more, so a model with very many stays a bounded load. */
const MOST_AT_ONCE = 2000;

/** Every version (up to MOST_AT_ONCE), oldest first, with the model's aliases. */
async function loadModel(name, after) {
  const base = `/v1/models/${encodeURIComponent(name)}?limit=${PAGE}`;
  let cursor = after;
  let model = null;
  const versions = [];
  do {
    const page = await api(`${base}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    model ??= page;
    versions.push(...page.versions);
    cursor = page.nextCursor;
  } while (cursor && versions.length < MOST_AT_ONCE);
  return { name: model.name, aliases: model.aliases, versions, nextCursor: cursor ?? null };
}

/**
 * The version a roll back returns to: the newest one older than the champion. The registry
 * keeps no history of where the champion pointed, so "previous" is by version number.
 */
function rollbackTarget(versions, champion) {
  if (champion === undefined) return undefined;
  return versions.filter((v) => v.version < champion).reduce((best, v) => (best === undefined || v.version > best.version ? v : best), undefined);
}

function Confirm({ move, onConfirm, onCancel, busy }) {
  return html`<div class="confirm" role="alertdialog" data-testid="confirm-promote">
    <p>${move.kind === 'rollback' ? 'Roll back' : 'Promote'}: point <strong>champion</strong> ${move.from !== undefined ? html`from v${move.from} ` : null}to <strong>v${move.to}</strong>?
      Predictions through the champion use v${move.to} from the next request on.</p>
    <div class="row">
      <button data-testid="confirm-button" disabled=${busy} onClick=${onConfirm}>${move.kind === 'rollback' ? `Roll back to v${move.to}` : `Promote v${move.to}`}</button>
      <button class="secondary" data-testid="cancel-button" disabled=${busy} onClick=${onCancel}>Cancel</button>
    </div>
  </div>`;
}

export default function Model({ params }) {
  const name = params.name;
  const [model, setModel] = useState(null);
  const [error, setError] = useState(null);
  const [move, setMove] = useState(null);
  const [moveError, setMoveError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState(null);

  async function reload() {
    try {
      setModel(await loadModel(name));
      setError(null);
    } catch (err) {
      setError(err);
    }
  }
  useEffect(() => void reload(), [name]);

  async function more() {
    try {
      const rest = await loadModel(name, model.nextCursor);
      setModel({ ...model, versions: [...model.versions, ...rest.versions], nextCursor: rest.nextCursor });
    } catch (err) {
      setError(err);
    }
  }

  async function confirm() {
    setBusy(true);
    setMoveError(null);
    try {
      await api(`/v1/models/${encodeURIComponent(name)}/promote`, { method: 'POST', body: { version: move.to } });
      setNotice(`champion now points to v${move.to}${move.from !== undefined ? ` (it was v${move.from})` : ''}`);
      setMove(null);
      await reload();
    } catch (err) {
      setMoveError(err);
    } finally {
      setBusy(false);
    }
  }

  if (error && !model) return html`<h1>${name}</h1><${ErrorNote} error=${error} />`;
  if (!model) return html`<p class="loading">Loading…</p>`;

  const champion = model.aliases.champion;
  const back = rollbackTarget(model.versions, champion);
  const metricNames = [...new Set(model.versions.flatMap((v) => Object.keys(v.metrics)))].sort();
  const newestFirst = [...model.versions].sort((a, b) => b.version - a.version);
  const ask = (kind, to) => {
    setNotice(null);
    setMoveError(null);
    setMove({ kind, to, from: champion });
  };

  return html`
    <p class="muted"><a href="#/models">Models</a> /</p>
    <div class="spread">
      <h1>${name}</h1>
      ${back && html`<button class="secondary" data-testid="rollback-button" title="Point champion at the newest version older than it" onClick=${() => ask('rollback', back.version)}>Roll back to v${back.version}</button>`}
    </div>
    <${ErrorNote} error=${error} />
    ${notice && html`<p class="notice" data-testid="promote-notice">${notice}</p>`}
    ${move && html`<${Confirm} move=${move} busy=${busy} onConfirm=${confirm} onCancel=${() => setMove(null)} />`}
    ${moveError && html`<div data-testid="promote-error"><${ErrorNote} error=${moveError} /></div>`}

    <section class="card">
      <h2>Aliases</h2>
      ${Object.keys(model.aliases).length === 0
        ? html`<p class="muted">No aliases: predict has nothing to serve until a version is promoted.</p>`
        : html`<${AliasRoutes} name=${name} aliases=${model.aliases} versions=${model.versions} onChanged=${reload} />`}
    </section>

    <section class="card">
      <h2>Versions</h2>
      <div class="table-wrap"><table data-testid="versions-table">
        <thead><tr>
          <th class="num">Version</th><th>Family</th>
          ${metricNames.map((m) => html`<th class="num">${m}</th>`)}
          <th>Aliases</th><th>Study</th><th>Created</th><th></th>
        </tr></thead>
        <tbody>
          ${newestFirst.map((v) => html`<tr data-testid="version-row" data-version=${v.version} class=${v.version === champion ? 'champion' : ''}>
            <td class="num">v${v.version}</td>
            <td>${v.family}</td>
            ${metricNames.map((m) => html`<td class="num">${num(v.metrics[m])}</td>`)}
            <td>${v.aliases.map((a) => html`<span class="badge alias">${a}</span> `)}</td>
            <td><a href=${`#/studies/${encodeURIComponent(v.studyId)}`}>study</a> · <a href=${`#/studies/${encodeURIComponent(v.studyId)}/trials/${encodeURIComponent(v.trialId)}`}>trial</a> · <a href=${`#/datasets/${encodeURIComponent(v.datasetId)}`}>dataset</a></td>
            <td>${when(v.createdAt)}</td>
            <td>${v.version === champion
              ? html`<span class="muted">champion</span>`
              : html`<button class="secondary" data-testid="promote-button" data-version=${v.version} onClick=${() => ask('promote', v.version)}>Make champion</button>`}</td>
          </tr>`)}
        </tbody>
      </table></div>
      ${model.nextCursor && html`<button class="secondary" onClick=${more}>More versions</button>`}
    </section>

    <section class="card">
      <h2>Try it</h2>
      <${PredictForm} key=${JSON.stringify(model.aliases)} name=${name} aliases=${model.aliases} versions=${model.versions} />
    </section>`;
}
