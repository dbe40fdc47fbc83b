// Continuing a study: a form that raises its trial budget or time limit, confirmed first as
// cancel and promote are, then POST /v1/studies/{id}/continue. A completed study runs again.
// The api judges the budget (at least the current one, more trials than the study has, more
// time than it has run); its 4xx message is shown under the form as it is.
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { html } from '../html.js';
import { duration, ErrorNote } from '../util.js';

/** The states the api continues: a failed or cancelled study is started anew instead. */
export const CONTINUABLE = ['queued', 'running', 'completed'];

const trialsOf = (study) => Object.values(study.counts ?? {}).reduce((sum, n) => sum + n, 0);

/** A suggestion for the new trial budget: half as many again, past the trials the study already has. */
function suggestedTrials(study) {
  const current = study.config.budget.maxTrials;
  return Math.max(current, trialsOf(study)) + Math.max(1, Math.ceil(current / 2));
}

/**
 * The POST body from the form's text fields; a blank field is left out (unchanged). Only that
 * each is a whole number is checked here (named as the api names the fields); the rules are the api's.
 */
function bodyOf(d) {
  const body = {};
  for (const field of ['maxTrials', 'timeLimitSeconds']) {
    const text = d[field].trim();
    if (text === '') continue;
    if (!Number.isInteger(Number(text))) throw new Error(`${field}: ${JSON.stringify(text)} is not a whole number`);
    body[field] = Number(text);
  }
  return body;
}

/** "maxTrials 3 → 5, timeLimitSeconds none → 600": what the confirmation asks about. */
function changesOf(budget, body) {
  const parts = [];
  if (body.maxTrials !== undefined) parts.push(`trials ${budget.maxTrials} → ${body.maxTrials}`);
  if (body.timeLimitSeconds !== undefined) parts.push(`time limit ${budget.timeLimitSeconds !== undefined ? duration(budget.timeLimitSeconds * 1000) : 'none'} → ${duration(body.timeLimitSeconds * 1000)}`);
  return parts.join(', ') || 'no change';
}

/**
 * A "Continue…" button for a queued, running or completed study, its form and confirmation.
 * @param study the api's view of the study
 * @param onContinued called with the api's answer (the study with its new budget and state)
 */
export function ContinueStudy({ study, onContinued }) {
  const [draft, setDraft] = useState(null);
  const [pending, setPending] = useState(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [notice, setNotice] = useState(null);
  const budget = study.config.budget;

  const open = () => {
    setDraft({ maxTrials: String(suggestedTrials(study)), timeLimitSeconds: '' });
    setError(null);
    setNotice(null);
  };
  const close = () => (setDraft(null), setPending(null), setError(null));
  const set = (field) => (e) => setDraft({ ...draft, [field]: e.currentTarget.value });

  function submit(e) {
    e.preventDefault();
    setError(null);
    try {
      setPending(bodyOf(draft));
    } catch (err) {
      setError(err);
    }
  }

  async function send() {
    setBusy(true);
    try {
      const continued = await api(`/v1/studies/${encodeURIComponent(study.id)}/continue`, { method: 'POST', body: pending });
      setNotice(`Continued: ${changesOf(budget, pending)}.`);
      setDraft(null);
      setPending(null);
      setError(null);
      onContinued(continued);
    } catch (err) {
      // Back to the form, which stays open, so the field the api names can be fixed.
      setPending(null);
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  if (!CONTINUABLE.includes(study.state) && !notice) return null;
  return html`<div class="continue-study">
    ${notice && html`<p class="notice" data-testid="continue-notice">${notice}</p>`}
    ${!draft && CONTINUABLE.includes(study.state) && html`<button class="secondary" data-testid="continue-study" onClick=${open}>Continue…</button>`}
    ${draft && html`<form class="stack" data-testid="continue-form" novalidate onSubmit=${submit}>
      <h3>Continue with a larger budget</h3>
      <p class="muted">${study.state === 'completed' ? 'The study runs again: new trials are numbered after its last and the search learns from all it has tried.' : 'The study goes on to the new budget.'}
        It has ${trialsOf(study)} trials and has run ${duration(study.runningSeconds * 1000)}.</p>
      <div class="fields">
        <label>Trials (now ${budget.maxTrials}) <input name="maxTrials" type="number" min="1" step="1" value=${draft.maxTrials} onInput=${set('maxTrials')} /></label>
        <label>Time limit, s (now ${budget.timeLimitSeconds ?? 'none'}; blank keeps it) <input name="timeLimitSeconds" type="number" min="1" step="1" value=${draft.timeLimitSeconds} onInput=${set('timeLimitSeconds')} /></label>
      </div>
      <div class="row">
        <button type="submit" data-testid="continue-apply" disabled=${busy || pending !== null}>Continue…</button>
        <button type="button" class="secondary" data-testid="continue-close" disabled=${busy} onClick=${close}>Close</button>
      </div>
    </form>`}
    ${pending && html`<div class="confirm" role="alertdialog" data-testid="confirm-continue">
      <p>Continue <strong>${study.name}</strong>: ${changesOf(budget, pending)}?${study.state === 'completed' ? ' It runs again and may register a new model version when it ends.' : ''}</p>
      <div class="row">
        <button data-testid="continue-confirm-button" disabled=${busy} onClick=${send}>Continue the study</button>
        <button class="secondary" data-testid="continue-cancel-button" disabled=${busy} onClick=${() => setPending(null)}>Cancel</button>
      </div>
    </div>`}
    ${error && html`<div data-testid="continue-error"><${ErrorNote} error=${error} /></div>`}
  </div>`;
}
