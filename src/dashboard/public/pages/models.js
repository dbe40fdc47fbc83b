// The project's models: each with its champion, its other aliases and how many versions it has.
import { html } from '../html.js';
import { ErrorNote, usePagedList, when } from '../util.js';

const PAGE = 100;

export default function Models() {
  const { items: models, next, error, loading, more } = usePagedList('/v1/models', 'models', PAGE);

  return html`
    <h1>Models</h1>
    <${ErrorNote} error=${error} />
    <section class="card">
      ${!loading && models.length === 0 && !error
        ? html`<p class="muted">No models yet. A study registers its best trial as a version of the model it names (<code>promoteTo</code>).</p>`
        : html`<div class="table-wrap"><table data-testid="models-table">
            <thead><tr><th>Name</th><th class="num">Champion</th><th class="num">Versions</th><th class="num">Latest</th><th>Other aliases</th><th>Updated</th></tr></thead>
            <tbody>
              ${models.map((m) => {
                const others = Object.entries(m.aliases).filter(([a]) => a !== 'champion');
                return html`<tr data-testid="model-row" data-model=${m.name}>
                  <td><a href=${`#/models/${encodeURIComponent(m.name)}`}>${m.name}</a></td>
                  <td class="num" data-testid="model-champion">${m.aliases.champion !== undefined ? `v${m.aliases.champion}` : html`<span class="muted">none</span>`}</td>
                  <td class="num">${m.versions}</td>
                  <td class="num">v${m.latestVersion}</td>
                  <td>${others.length ? others.map(([a, v]) => html`<span class="badge alias">${a} → v${v}</span> `) : html`<span class="muted">–</span>`}</td>
                  <td>${when(m.updatedAt)}</td>
                </tr>`;
              })}
            </tbody>
          </table></div>`}
      ${loading && html`<p class="loading">Loading…</p>`}
      ${next && !loading && html`<button class="secondary" onClick=${more}>More models</button>`}
    </section>`;
}
