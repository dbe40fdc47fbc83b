import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ZodError } from 'zod';
import { ConflictError, describe, ForbiddenError, NotFoundError, preview, QuotaExceededError, RateLimitedError, ServiceBusyError, UnauthorizedError, ValidationError } from '../errors.ts';
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
  const fieldAt = (keys: readonly PropertyKey[]) => {
    const path = keys.map((p, n) => (typeof p === 'number' ? `[${p}]` : `${n === 0 ? '' : '.'}${String(p)}`)).join('');
    return prefix && path ? `${prefix}.${path}` : prefix || path || '(body)';
  };
  return error.issues.flatMap((i) => {
    // zod's unrecognized_keys issue sits on the parent; name each key and its value instead.
    if (i.code === 'unrecognized_keys') {
      return i.keys.map((key) => ({ field: fieldAt([...i.path, key]), value: valueAt(input, [...i.path, key]), rule: 'is not a known field' }));
    }
    const value = valueAt(input, i.path);
    // zod 4 says "expected nonoptional" for an absent z.any() key; "is required" is what the client needs to read.
    const rule = i.code === 'invalid_type' && value === undefined ? (i.expected === 'nonoptional' ? 'is required' : `is required (${i.expected})`) : i.message;
    return [{ field: fieldAt(i.path), value, rule }];
  });
}

/** Issues echoed in one error body; 130,000 bad list items made a 21.8 MB answer to a 246 KB request. */
export const MAX_ISSUES = 20;
/** Longest echoed value (as JSON text) or field name; a longer value is echoed as its cut-off text. */
export const MAX_ECHO_CHARS = 200;

/** `value` itself when it is short, else the start of its JSON text followed by "...". */
function echo(value: unknown): unknown {
  if (value === undefined) return undefined;
  const text = preview(value, MAX_ECHO_CHARS + 1);
  return text.length > MAX_ECHO_CHARS ? `${text.slice(0, MAX_ECHO_CHARS - 3)}...` : value;
}

export function validationResponse(c: Context, issues: Issue[], status: 400 | 413 | 415 = 400) {
  const shown = issues.slice(0, MAX_ISSUES).map((i) => ({
    field: i.field.length > MAX_ECHO_CHARS ? `${i.field.slice(0, MAX_ECHO_CHARS - 3)}...` : i.field,
    value: echo(i.value),
    rule: i.rule,
  }));
  const more = issues.length - shown.length;
  const message =
    shown.map((i) => (i.value === undefined ? `${i.field}: ${i.rule}` : `${i.field}: ${describe(i.value)} ${i.rule}`)).join('; ') +
    (more > 0 ? `; and ${more.toLocaleString('en-US')} more issue${more === 1 ? '' : 's'}` : '');
  return c.json(errorBody(status === 400 ? 'invalid_request' : status === 413 ? 'payload_too_large' : 'unsupported_media_type', message, shown), status);
}

/** The single place where typed errors become HTTP answers. Anything unknown is a 500, logged with its stack. */
export function mapError(log: Logger) {
  return async (err: Error, c: Context) => {
    if (err instanceof ValidationError) return validationResponse(c, [{ field: err.field, value: err.value, rule: err.rule }], err.status);
    if (err instanceof NotFoundError) return c.json(errorBody('not_found', err.message), 404);
    if (err instanceof ConflictError) return c.json(errorBody('conflict', err.message), 409);
    if (err instanceof UnauthorizedError) {
      c.header('WWW-Authenticate', 'Bearer realm="maas"');
      return c.json(errorBody('unauthorized', err.message), 401);
    }
    if (err instanceof ForbiddenError) return c.json(errorBody('forbidden', err.message), 403);
    if (err instanceof RateLimitedError) {
      c.header('Retry-After', String(err.retryAfterSeconds));
      return c.json(errorBody('rate_limited', err.message), 429);
    }
    if (err instanceof QuotaExceededError) return c.json(errorBody('quota_exceeded', err.message), 429);
    if (err instanceof ServiceBusyError) {
      c.header('Retry-After', String(err.retryAfterSeconds));
      return c.json(errorBody('busy', err.message), 503);
    }
    // Hono's JSON validator reports a body that does not parse as a bare 400; name the field and show the text.
    if (err instanceof HTTPException && err.status === 400 && /malformed json/i.test(err.message)) {
      return validationResponse(c, [{ field: 'body', value: await c.req.text().catch(() => undefined), rule: 'is not valid JSON' }]);
    }
    if (err instanceof HTTPException) {
      const status = err.status;
      return c.json(errorBody(status === 413 ? 'payload_too_large' : 'http_error', err.message || `HTTP ${status}`), status);
    }
    log.error('unhandled error', { error: errorMessage(err), stack: err.stack, path: c.req.path });
    return c.json(errorBody('internal', 'internal error; see the server log'), 500);
  };
}
