// The shell: session check, sign-in form, layout with navigation, and a hash router that loads pages lazily.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api } from './api.js';
import { html } from './html.js';
import { routeOf } from './routes.js';

const NAV = [
  { href: '#/studies', label: 'Studies', section: 'studies' },
  { href: '#/models', label: 'Models', section: 'models' },
  { href: '#/datasets', label: 'Datasets', section: 'datasets' },
  { href: '#/workers', label: 'Workers', section: 'workers' },
];

function useHash() {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const onChange = () => setHash(location.hash);
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return hash;
}

/** Loads `./pages/<name>.js` on first use and renders its default export. */
function Page({ route }) {
  const [loaded, setLoaded] = useState(null);
  useEffect(() => {
    let live = true;
    import(`./pages/${route.page}.js`).then(
      (module) => live && setLoaded({ name: route.page, Component: module.default }),
      (error) => live && setLoaded({ name: route.page, error }),
    );
    return () => (live = false);
  }, [route.page]);
  if (!loaded || loaded.name !== route.page) return html`<p class="loading">Loading…</p>`;
  if (loaded.error) return html`<p class="error">This page could not be loaded: ${String(loaded.error.message ?? loaded.error)}</p>`;
  const { Component } = loaded;
  // Keyed by the whole hash, so moving between two studies starts the page afresh.
  return html`<${Component} key=${location.hash} params=${route.params} />`;
}

function Login({ onDone }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api('/ui/login', { method: 'POST', body: { key: key.trim() } });
      onDone();
    } catch (err) {
      setError(err.message);
    } finally {
      setBusy(false);
    }
  }
  return html`
    <main class="login">
      <form class="card" data-testid="login-form" onSubmit=${submit}>
        <h1>maas</h1>
        <p>This deployment needs an API key. Paste one (an admin makes keys with <code>maas keys create</code>); it is kept in a cookie that scripts cannot read.</p>
        <label>API key <input type="password" name="key" autocomplete="off" required value=${key} onInput=${(e) => setKey(e.currentTarget.value)} /></label>
        ${error && html`<p class="error" data-testid="login-error">${error}</p>`}
        <button type="submit" disabled=${busy}>Sign in</button>
      </form>
    </main>`;
}

function Layout({ session, onLogout, children, section }) {
  return html`
    <header class="top">
      <a class="brand" href="#/studies">maas</a>
      <nav>${NAV.map((n) => html`<a href=${n.href} class=${section === n.section ? 'active' : ''}>${n.label}</a>`)}</nav>
      <span class="who" data-testid="session">
        ${session.open ? 'open deployment (no keys)' : html`${session.projectId} · ${session.role} <button class="link" data-testid="logout" onClick=${onLogout}>Sign out</button>`}
      </span>
    </header>
    <main class="page">${children}</main>`;
}

function App() {
  const hash = useHash();
  const [session, setSession] = useState(undefined);
  const [problem, setProblem] = useState(null);
  async function refresh() {
    try {
      setSession(await api('/ui/session'));
      setProblem(null);
    } catch (err) {
      if (err.status === 401) setSession(null);
      else setProblem(err.message);
    }
  }
  useEffect(() => {
    void refresh();
    // Any 401 (a revoked key, a cleared cookie) brings back the sign-in form.
    const onUnauthorized = () => setSession(null);
    window.addEventListener('maas:unauthorized', onUnauthorized);
    return () => window.removeEventListener('maas:unauthorized', onUnauthorized);
  }, []);
  async function logout() {
    await api('/ui/logout', { method: 'POST' }).catch(() => undefined);
    setSession(null);
  }
  if (problem) return html`<main class="page"><p class="error">The api cannot be reached: ${problem}</p><button onClick=${refresh}>Retry</button></main>`;
  if (session === undefined) return html`<p class="loading">Loading…</p>`;
  if (session === null) return html`<${Login} onDone=${refresh} />`;
  const route = routeOf(hash);
  return html`<${Layout} session=${session} onLogout=${logout} section=${route.section}>
    ${route.unknown && html`<p class="notice" data-testid="not-found">No page at ${route.unknown}; showing the studies.</p>`}
    <${Page} route=${route} />
  <//>`;
}

render(html`<${App} />`, document.getElementById('app'));
