import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ZodError } from 'zod';
import { ConflictError, describe, NotFoundError, ValidationError } from '../errors.ts';
import { errorMessage, type Logger } from '../log.ts';

/** One problem with a request: the field, the value given and the rule it broke. */
export interface Issue {
  field: string;
  value: unknown;
  rule: string;
}

export function errorBody(code: string, message: string, issues: Issue[] = []) {
  return { error: { code, message, ...(issues.length ? { issues } : {}) } };
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v = input;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

/** Turns zod's issues into messages that name the field, the value and the rule. */
export function zodIssues(error: ZodError, input: unknown, prefix = ''): Issue[] {
  return error.issues.map((i) => {
    const path = i.path.map((p, n) => (typeof p === 'number' ? `[${p}]` : `${n === 0 ? '' : '.'}${String(p)}`)).join('');
    const field = prefix && path ? `${prefix}.${path}` : prefix || path || '(body)';
    const value = valueAt(input, i.path);
    // zod's unrecognized_keys issue sits on the parent; name the keys themselves.
    const rule = i.code === 'unrecognized_keys' ? `has unknown field(s) ${(i as { keys: string[] }).keys.join(', ')}` : i.message;
    return { field, value: i.code === 'unrecognized_keys' ? undefined : value, rule };
  });
}

export function validationResponse(c: Context, issues: Issue[], status: 400 | 413 | 415 = 400) {
  const message = issues.map((i) => (i.value === undefined ? `${i.field}: ${i.rule}` : `${i.field}: ${describe(i.value)} ${i.rule}`)).join('; ');
  return c.json(errorBody(status === 400 ? 'invalid_request' : status === 413 ? 'payload_too_large' : 'unsupported_media_type', message, issues), status);
}

/** The single place where typed errors become HTTP answers. Anything unknown is a 500, logged with its stack. */
export function mapError(log: Logger) {
  return (err: Error, c: Context) => {
    if (err instanceof ValidationError) return validationResponse(c, [{ field: err.field, value: err.value, rule: err.rule }], err.status === 422 ? 400 : err.status);
    if (err instanceof NotFoundError) return c.json(errorBody('not_found', err.message), 404);
    if (err instanceof ConflictError) return c.json(errorBody('conflict', err.message), 409);
    if (err instanceof HTTPException) {
      const status = err.status;
      return c.json(errorBody(status === 413 ? 'payload_too_large' : 'http_error', err.message || `HTTP ${status}`), status);
    }
    if (err instanceof SyntaxError) return c.json(errorBody('invalid_json', `body: is not valid JSON (${err.message})`), 400);
    log.error('unhandled error', { error: errorMessage(err), stack: err.stack, path: c.req.path });
    return c.json(errorBody('internal', 'internal error; see the server log'), 500);
  };
}
