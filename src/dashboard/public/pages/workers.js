// The cluster, live: workers by backend and device, queue depths now and over the last minutes,
// and a link to the read-only Bull Board for the jobs themselves.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { html } from '../html.js';
import { Chart } from '../charts.js';
import { ErrorNote, duration, useApi, when } from '../util.js';

/** How often the page asks again. */
const REFRESH_MS = 3000;
/** Points of queue depth the chart keeps (10 minutes at REFRESH_MS). */
const HISTORY = 200;

function depthOption(history, names) {
  return {
    animation: false,
    grid: { left: 48, right: 16, top: 36, bottom: 32 },
    tooltip: { trigger: 'axis' },
    legend: { top: 0 },
    xAxis: { type: 'time' },
    yAxis: { type: 'value', name: 'jobs', minInterval: 1 },
    series: names.map((name) => ({ type: 'line', name, showSymbol: false, data: history.map((h) => [h.at, h.depth[name] ?? 0]) })),
  };
}

function Groups({ workers }) {
  const groups = new Map();
  for (const w of workers) {
    const k = `${w.backend}/${w.device}`;
    const g = groups.get(k) ?? { backend: w.backend, device: w.device, workers: 0, slots: 0, running: 0 };
    g.workers += 1;
    g.slots += w.concurrency;
    // Hosts and running counts come only to the operator (an admin of the default project).
    if (w.running === undefined) g.running = null;
    else if (g.running !== null) g.running += w.running;
    groups.set(k, g);
  }
  return html`<div class="tiles">${[...groups.values()].map((g) => html`<div class="tile" data-testid="worker-group" data-backend=${g.backend} data-device=${g.device}>
    <div class="tile-value">${g.workers}</div>
    <div>${g.backend} on ${g.device}</div>
    <div class="muted">${g.running === null ? `${g.slots} slots` : `${g.running} of ${g.slots} slots busy`}</div>
  </div>`)}</div>`;
}

export default function Workers() {
  const workers = useApi('/v1/workers', { every: REFRESH_MS });
  const queues = useApi('/v1/queues', { every: REFRESH_MS });
  const [history, setHistory] = useState([]);

  useEffect(() => {
    if (!queues.data) return;
    const depth = Object.fromEntries(queues.data.queues.map((q) => [q.name, q.waiting + q.active + q.delayed]));
    setHistory((h) => [...h, { at: Date.now(), depth }].slice(-HISTORY));
  }, [queues.data]);
  const names = queues.data?.queues.map((q) => q.name) ?? [];
  const option = useMemo(() => depthOption(history, names), [history]);
  const now = Date.now();

  return html`
    <div class="spread">
      <h1>Workers and queues</h1>
      <a class="button-link" href="/ui/queues" target="_blank" rel="noopener" data-testid="bull-board-link">Open Bull Board ↗</a>
    </div>
    <p class="muted">Refreshed every ${REFRESH_MS / 1000} s. Bull Board lists every job; it is read-only and needs an admin key of the project <code>default</code>.</p>

    <section class="card">
      <h2>Workers</h2>
      <${ErrorNote} error=${workers.error} />
      ${workers.data && (workers.data.workers.length === 0
        ? html`<p class="muted" data-testid="no-workers">No live worker. Start one with <code>maas worker</code> (or <code>npm start</code> runs one).</p>`
        : html`<${Groups} workers=${workers.data.workers} />
          <div class="table-wrap"><table data-testid="workers-table">
            <thead><tr><th>Worker</th><th>Host</th><th>Backend</th><th>Device</th><th class="num">Running</th><th>Up for</th><th>Last seen</th></tr></thead>
            <tbody>${workers.data.workers.map((w) => html`<tr data-testid="worker-row" data-worker=${w.id}>
              <td><code>${w.id}</code></td><td>${w.host ?? '–'}</td><td>${w.backend}</td><td>${w.device}</td>
              <td class="num">${w.running ?? '–'} / ${w.concurrency}</td>
              <td title=${when(w.startedAt)}>${duration(now - Date.parse(w.startedAt))}</td>
              <td>${w.lastSeenAt ? `${duration(now - Date.parse(w.lastSeenAt))} ago` : '–'}</td>
            </tr>`)}</tbody>
          </table></div>`)}
    </section>

    <section class="card">
      <h2>Queues</h2>
      <${ErrorNote} error=${queues.error} />
      ${queues.data && html`<div class="table-wrap"><table data-testid="queues-table">
        <thead><tr><th>Queue</th><th class="num">Waiting</th><th class="num">Active</th><th class="num">Delayed</th><th class="num">Failed</th><th class="num">Completed</th><th>State</th></tr></thead>
        <tbody>${queues.data.queues.map((q) => html`<tr data-testid="queue-row" data-queue=${q.name}>
          <td><code>${q.name}</code></td>
          <td class="num" data-count="waiting">${q.waiting}</td><td class="num" data-count="active">${q.active}</td>
          <td class="num" data-count="delayed">${q.delayed}</td><td class="num" data-count="failed">${q.failed}</td>
          <td class="num" data-count="completed">${q.completed}</td>
          <td>${q.paused ? html`<span class="badge state-paused">paused</span>` : html`<span class="badge state-running">running</span>`}</td>
        </tr>`)}</tbody>
      </table></div>`}
      ${history.length > 1 && html`<h3 class="chart-title">Jobs waiting, active or delayed</h3><${Chart} id="queue-depth" option=${option} height=${220} />`}
    </section>`;
}
