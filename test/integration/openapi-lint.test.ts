import { createConfig, lintFromString, type NormalizedProblem } from '@redocly/openapi-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiDocument } from '../../src/api/openapi-document.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';

/**
 * Warnings of the recommended ruleset that stay, each for a reason:
 * - info-license: the package is private and names no licence.
 * - operation-4xx-response on /healthz and KServe's /v2/health/live|ready: public probes with no input; they answer 200 or 503, never a 4xx.
 */
const ACCEPTED_WARNINGS = [
  { ruleId: 'info-license', pointer: '#/info' },
  { ruleId: 'operation-4xx-response', pointer: '#/paths/~1healthz/get/responses' },
  // KServe v2's public probes, likewise: live answers 200 while the server runs, ready 200 or 503.
  { ruleId: 'operation-4xx-response', pointer: '#/paths/~1v2~1health~1live/get/responses' },
  { ruleId: 'operation-4xx-response', pointer: '#/paths/~1v2~1health~1ready/get/responses' },
];

const where = (p: NormalizedProblem) => p.location[0]?.pointer ?? '(document)';
const format = (p: NormalizedProblem) => `${p.severity} ${p.ruleId} at ${where(p)}: ${p.message}`;

type Operation = { operationId?: string; responses?: Record<string, { $ref?: string; content?: unknown }> };

describe('the OpenAPI document at GET /openapi.json', () => {
  let t: TestApp;
  let served: Record<string, unknown>;

  beforeAll(async () => {
    t = await startTestApp('sqlite');
    const res = await t.app.request('/openapi.json');
    expect(res.status).toBe(200);
    served = (await res.json()) as Record<string, unknown>;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('passes the recommended Redocly rules, with a missing operationId an error', async () => {
    // Offline: the recommended ruleset ships with the package; the document has no external $ref.
    const config = await createConfig({ extends: ['recommended'], rules: { 'operation-operationId': 'error' } });
    const problems = await lintFromString({ source: JSON.stringify(served), absoluteRef: '/openapi.json', config });
    const errors = problems.filter((p) => p.severity === 'error').map(format);
    expect(errors, `lint errors:\n${errors.join('\n')}`).toEqual([]);
    const unexpected = problems
      .filter((p) => p.severity === 'warn' && !ACCEPTED_WARNINGS.some((a) => a.ruleId === p.ruleId && a.pointer === where(p)))
      .map(format);
    expect(unexpected, `lint warnings not accepted in this test:\n${unexpected.join('\n')}`).toEqual([]);
  });

  it('gives every operation a unique camelCase operationId and a body for every answer but 204', () => {
    const ids: string[] = [];
    const missing: string[] = [];
    for (const [path, item] of Object.entries(served.paths as Record<string, Record<string, Operation>>)) {
      for (const [method, op] of Object.entries(item)) {
        ids.push(op.operationId ?? `(none on ${method} ${path})`);
        for (const [status, response] of Object.entries(op.responses ?? {})) {
          if (status !== '204' && !response.$ref && !response.content) missing.push(`${method} ${path} ${status}`);
        }
      }
    }
    expect(ids.filter((id) => !/^[a-z][A-Za-z0-9]*$/.test(id))).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
    expect(missing).toEqual([]);
    // The dashboard's pages and assets are not part of the api.
    expect(Object.keys(served.paths as object).filter((p) => p === '/' || p.startsWith('/ui'))).toEqual([]);
  });

  it('documents the answers of the authentication and body checks on the routes they guard', () => {
    const paths = served.paths as Record<string, Record<string, Operation>>;
    const create = paths['/v1/studies']?.post?.responses ?? {};
    expect(Object.keys(create)).toEqual(expect.arrayContaining(['400', '401', '403', '413', '415', '429']));
    expect(Object.keys(paths['/healthz']?.get?.responses ?? {})).not.toContain('401');
  });

  it('is the document the typed client is generated from (built without a database or Redis)', async () => {
    expect(await openApiDocument()).toEqual(served);
  });
});
