// A model's aliases with their routing (canaries by weight, a shadow by share), read from
// GET /v1/models/{name}/aliases/{alias}, and a form that sets it with PUT on the same address,
// confirmed first as promote is. The api checks the routing; its 4xx message is shown as it is.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { html } from '../html.js';
import { ErrorNote, num } from '../util.js';

/** The api's limit on canaries per alias (MAX_CANARIES in src/storage/alias-routing.ts); the form offers no more rows. */
const MAX_CANARIES = 8;

const aliasPath = (name, alias) => `/v1/models/${encodeURIComponent(name)}/aliases/${encodeURIComponent(alias)}`;
// Rounded first so that 1 - (0.1 + 0.2) reads 70%, not 69.99999999999999%.
const pct = (share) => `${num(Math.round(share * 1e6) / 1e4)}%`;
const hasRouting = (r) => r.canary.length > 0 || r.shadow !== null;

/** What routing adds to "alias → vN": "(90%), v4 canary 10%, shadow v5 at 20%". */
export function routingText(r) {
  const rest = Math.max(0, 1 - r.canary.reduce((total, c) => total + c.weight, 0));
  return [`(${pct(rest)})`, ...r.canary.map((c) => `v${c.version} canary ${pct(c.weight)}`), ...(r.shadow ? [`shadow v${r.shadow.version} at ${pct(r.shadow.share)}`] : [])].join(', ');
}

const describe = (r) => `v${r.version} ${hasRouting(r) ? routingText(r) : '(100%)'}`;

/** The form's text fields from an alias's routing. */
const draftOf = (r) => ({
  version: String(r.version),
  canary: r.canary.map((c) => ({ version: String(c.version), weight: String(c.weight) })),
  shadowVersion: r.shadow ? String(r.shadow.version) : '',
  shadowShare: r.shadow ? String(r.shadow.share) : '',
});

/**
 * The PUT body from the form's fields. Only that each share is a number is checked here (named
 * as the api names fields); ranges, sums and repeated versions are the api's to judge.
 */
function bodyOf(d) {
  const share = (text, field) => {
    if (text.trim() === '' || !Number.isFinite(Number(text))) throw new Error(`${field}: ${JSON.stringify(text)} is not a number; give a share from 0 to 1, e.g. 0.1 for 10%`);
    return Number(text);
  };
  return {
    version: Number(d.version),
    canary: d.canary.map((c, i) => ({ version: Number(c.version), weight: share(c.weight, `canary[${i}].weight`) })),
    shadow: d.shadowVersion === '' ? null : { version: Number(d.shadowVersion), share: share(d.shadowShare, 'shadow.share') },
  };
}

function VersionSelect({ name, value, numbers, onChange, none }) {
  return html`<select name=${name} value=${value} onChange=${(e) => onChange(e.currentTarget.value)}>
    ${none && html`<option value="">${none}</option>`}
    ${numbers.map((n) => html`<option value=${String(n)}>v${n}</option>`)}
  </select>`;
}

function RoutingForm({ alias, routing, versions, busy, onApply, onInvalid, onCancel }) {
  const [d, setD] = useState(() => draftOf(routing));
  const numbers = versions.map((v) => v.version).sort((a, b) => b - a);
  const set = (patch) => setD({ ...d, ...patch });
  const setCanary = (i, patch) => set({ canary: d.canary.map((c, j) => (j === i ? { ...c, ...patch } : c)) });
  const addCanary = () => {
    // The newest version that is not already answering, as the likeliest one to try.
    const used = new Set([d.version, ...d.canary.map((c) => c.version)]);
    const next = numbers.map(String).find((n) => !used.has(n)) ?? String(numbers[0]);
    set({ canary: [...d.canary, { version: next, weight: '0.1' }] });
  };
  function submit(e) {
    e.preventDefault();
    try {
      onApply(bodyOf(d));
    } catch (err) {
      onInvalid(err);
    }
  }

  return html`<form class="stack routing-form" data-testid="routing-form" data-alias=${alias} novalidate onSubmit=${submit}>
    <h3>Routing of ${alias}</h3>
    <div class="row"><label>Version (answers what the canaries leave)
      <${VersionSelect} name="version" value=${d.version} numbers=${numbers} onChange=${(v) => set({ version: v })} />
    </label></div>
    <fieldset>
      <legend>Canaries: each answers its weight (0 to 1) of the requests instead</legend>
      ${d.canary.length === 0 && html`<p class="muted">None.</p>`}
      ${d.canary.map((c, i) => html`<div class="row" data-testid="canary-row">
        <label>Version <${VersionSelect} name="canary-version" value=${c.version} numbers=${numbers} onChange=${(v) => setCanary(i, { version: v })} /></label>
        <label>Weight <input name="canary-weight" type="number" step="any" value=${c.weight} onInput=${(e) => setCanary(i, { weight: e.currentTarget.value })} /></label>
        <button type="button" class="link" data-testid="remove-canary" onClick=${() => set({ canary: d.canary.filter((_, j) => j !== i) })}>Remove</button>
      </div>`)}
      <button type="button" class="secondary" data-testid="add-canary" disabled=${d.canary.length >= MAX_CANARIES} onClick=${addCanary}>Add a canary</button>
    </fieldset>
    <fieldset>
      <legend>Shadow: also asked, in the background, for a share (0 to 1) of the requests; its answers are dropped</legend>
      <div class="row">
        <label>Version <${VersionSelect} name="shadow-version" value=${d.shadowVersion} numbers=${numbers} none="none" onChange=${(v) => set({ shadowVersion: v, shadowShare: v && !d.shadowShare ? '0.1' : d.shadowShare })} /></label>
        <label>Share <input name="shadow-share" type="number" step="any" value=${d.shadowShare} disabled=${d.shadowVersion === ''} onInput=${(e) => set({ shadowShare: e.currentTarget.value })} /></label>
      </div>
    </fieldset>
    <div class="row">
      <button type="submit" data-testid="routing-apply" disabled=${busy}>Apply…</button>
      <button type="button" class="secondary" data-testid="routing-form-cancel" disabled=${busy} onClick=${onCancel}>Close</button>
    </div>
  </form>`;
}

/**
 * The aliases as "alias → vN" badges, each followed by its routing when it has canaries or a
 * shadow, with a form to set that routing and a button that sends all requests to the alias's version.
 * @param name the model
 * @param aliases alias → version number, as the model answer gives it; a new object means "read the routing again"
 * @param versions the model's versions, offered in the form
 * @param onChanged called after a routing is set, so the page reloads the model (the alias's version may have moved)
 */
export function AliasRoutes({ name, aliases, versions, onChanged }) {
  const [routings, setRoutings] = useState({});
  const [loadError, setLoadError] = useState(null);
  const [editing, setEditing] = useState(null);
  const [pending, setPending] = useState(null);
  const [error, setError] = useState(null);
  const [notice, setNotice] = useState(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let live = true;
    Promise.all(Object.keys(aliases).map((a) => api(aliasPath(name, a)))).then(
      (list) => live && (setRoutings(Object.fromEntries(list.map((r) => [r.alias, r]))), setLoadError(null)),
      (err) => live && setLoadError(err),
    );
    return () => void (live = false);
  }, [name, aliases]);

  const ask = (alias, body) => {
    setError(null);
    setNotice(null);
    setPending({ alias, body, from: routings[alias] });
  };

  async function apply() {
    const { alias, body } = pending;
    setBusy(true);
    setError(null);
    try {
      const set = await api(aliasPath(name, alias), { method: 'PUT', body });
      setRoutings((old) => ({ ...old, [alias]: set }));
      setNotice(`${alias} now routes to ${describe(set)}`);
      setPending(null);
      setEditing(null);
      await onChanged();
    } catch (err) {
      // Back to the form, which stays open, so the field the api names can be fixed.
      setPending(null);
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const entries = Object.entries(aliases).sort();
  return html`
    <ul class="aliases" data-testid="aliases">
      ${entries.map(([alias, v]) => {
        // Shown only when it agrees with the model answer: a routing read before a move is stale.
        const r = routings[alias]?.version === v ? routings[alias] : null;
        return html`<li data-testid="alias-item" data-alias=${alias}>
          <span class="badge alias" data-testid="alias" data-alias=${alias} data-version=${v}>${alias} → v${v}</span>
          ${r && hasRouting(r) && html`<span data-testid="alias-routing" data-alias=${alias}>${routingText(r)}</span>`}
          ${r && html`<button class="link" data-testid="routing-edit" data-alias=${alias} onClick=${() => (setEditing(alias), setError(null), setNotice(null))}>Routing…</button>`}
          ${r && hasRouting(r) && html`<button class="link" data-testid="routing-clear" data-alias=${alias} title="Remove the canaries and the shadow" onClick=${() => ask(alias, { version: v, canary: [], shadow: null })}>All to v${v}</button>`}
        </li>`;
      })}
    </ul>
    <${ErrorNote} error=${loadError} />
    ${notice && html`<p class="notice" data-testid="routing-notice">${notice}</p>`}
    ${editing && routings[editing] && html`<${RoutingForm} key=${editing} alias=${editing} routing=${routings[editing]} versions=${versions} busy=${busy || pending !== null}
      onApply=${(body) => ask(editing, body)} onInvalid=${setError} onCancel=${() => (setEditing(null), setError(null))} />`}
    ${pending && html`<div class="confirm" role="alertdialog" data-testid="confirm-routing">
      <p>Route <strong>${pending.alias}</strong> ${pending.from ? html`from ${describe(pending.from)} ` : null}to <strong>${describe(pending.body)}</strong>?
        Predictions through ${pending.alias} follow it from the next request on.</p>
      <div class="row">
        <button data-testid="routing-confirm-button" disabled=${busy} onClick=${apply}>Apply</button>
        <button class="secondary" data-testid="routing-cancel-button" disabled=${busy} onClick=${() => setPending(null)}>Cancel</button>
      </div>
    </div>`}
    ${error && html`<div data-testid="routing-error"><${ErrorNote} error=${error} /></div>`}`;
}
