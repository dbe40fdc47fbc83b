// The dashboard's hash routes; apart from app.js so that they can be read without a DOM.

/** Hash routes, first match wins: the page module under ./pages/ and the names of its parameters. */
const ROUTES = [
  { pattern: /^\/studies\/([^/]+)\/trials\/([^/]+)$/, page: 'trial', params: ['id', 'trialId'] },
  { pattern: /^\/studies\/([^/]+)$/, page: 'study', params: ['id'] },
  { pattern: /^\/studies$/, page: 'studies', params: [] },
  { pattern: /^\/models\/([^/]+)$/, page: 'model', params: ['name'] },
  { pattern: /^\/models$/, page: 'models', params: [] },
  { pattern: /^\/datasets\/([^/]+)$/, page: 'dataset', params: ['id'] },
  { pattern: /^\/datasets$/, page: 'datasets', params: [] },
  { pattern: /^\/workers$/, page: 'workers', params: [] },
];

/** decodeURIComponent, or null for a malformed escape such as %E0 (which it throws on). */
function decoded(part) {
  try {
    return decodeURIComponent(part);
  } catch {
    return null;
  }
}

/**
 * The route of a location hash; an empty hash is the studies list. An unknown hash, or one
 * whose parameters are not valid percent-encoding, gets the not-found view (`unknown` set:
 * the studies list under a notice) rather than an error that would blank the page.
 */
export function routeOf(hash) {
  const path = hash.replace(/^#/, '') || '/studies';
  for (const r of ROUTES) {
    const m = r.pattern.exec(path);
    if (!m) continue;
    const values = r.params.map((_, i) => decoded(m[i + 1]));
    if (values.includes(null)) break;
    const params = Object.fromEntries(r.params.map((name, i) => [name, values[i]]));
    return { page: r.page, params, section: path.split('/')[1] };
  }
  return { page: 'studies', params: {}, section: 'studies', unknown: path };
}
