import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The router is a plain browser module with no DOM use.
const { routeOf } = await import(join(import.meta.dirname, '../../src/dashboard/public/routes.js'));

describe('the dashboard hash router', () => {
  it('decodes the parameters of known routes', () => {
    expect(routeOf('')).toEqual({ page: 'studies', params: {}, section: 'studies' });
    expect(routeOf('#/studies/a%20b/trials/t%2F1')).toEqual({ page: 'trial', params: { id: 'a b', trialId: 't/1' }, section: 'studies' });
    expect(routeOf('#/models/wine')).toEqual({ page: 'model', params: { name: 'wine' }, section: 'models' });
  });

  it('answers an unknown or malformed hash with the not-found view instead of throwing', () => {
    for (const hash of ['#/studies/%E0', '#/studies/ok/trials/%', '#/models/%ZZ', '#/nowhere']) {
      expect(routeOf(hash), hash).toEqual({ page: 'studies', params: {}, section: 'studies', unknown: hash.slice(1) });
    }
  });
});
