/**
 * Typed errors, mapped to HTTP in one place (src/api/errors.ts).
 * Messages name the field, the value and the rule, so a client can fix its request.
 */

/** Bad input from a client: answered 400 (or 413/415 where the subclass says). */
export class ValidationError extends Error {
  readonly status: 400 | 413 | 415 = 400;
  constructor(
    /** Dotted path of the offending field, e.g. `budget.maxTrials` or `file`. */
    readonly field: string,
    /** The value that was given (shown shortened in messages). */
    readonly value: unknown,
    /** The rule it broke, as a sentence fragment: "must be between 1 and 1000". */
    readonly rule: string,
  ) {
    super(`${field}: ${describe(value)} ${rule}`);
    this.name = 'ValidationError';
  }
}

export class PayloadTooLargeError extends ValidationError {
  override readonly status = 413 as const;
}

export class UnsupportedMediaTypeError extends ValidationError {
  override readonly status = 415 as const;
}

/** A referenced resource does not exist: answered 404. */
export class NotFoundError extends Error {
  constructor(readonly resource: string, readonly id: string) {
    super(`${resource} '${id}' does not exist`);
    this.name = 'NotFoundError';
  }
}

/** The request is valid but the resource's state forbids it: answered 409. */
export class ConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}

/**
 * A sampler has tried every point of a finite search space (grid search). Not a failure:
 * the coordinator creates no more trials and completes the study when the running ones end.
 */
export class SearchSpaceExhaustedError extends Error {
  constructor(readonly points: number) {
    super(`every one of the ${points} points of the search space has been tried`);
    this.name = 'SearchSpaceExhaustedError';
  }
}

/** Renders a value briefly for an error message. */
export function describe(value: unknown): string {
  if (value === undefined) return 'missing value';
  const text = preview(value, 81);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * The JSON text of `value`, cut off once it is `limit` characters long. Its cost follows
 * `limit`, not the value: a request's 1,000,000-item array or 5,000-deep nesting is echoed in
 * errors, and JSON.stringify on it took seconds or overflowed the stack.
 */
export function preview(value: unknown, limit: number): string {
  let out = '';
  const walk = (v: unknown): void => {
    if (out.length >= limit) return;
    if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
      v = (v as { toJSON(): unknown }).toJSON();
    }
    if (typeof v === 'string') out += JSON.stringify(v.length > limit ? v.slice(0, limit) : v);
    else if (typeof v === 'number' || typeof v === 'boolean' || v === null) out += JSON.stringify(v);
    else if (Array.isArray(v)) {
      out += '[';
      for (let i = 0; i < v.length && out.length < limit; i++) {
        if (i > 0) out += ',';
        walk(v[i] === undefined ? null : v[i]);
      }
      out += ']';
    } else if (typeof v === 'object') {
      out += '{';
      let first = true;
      for (const key in v) {
        if (out.length >= limit) break;
        const item = (v as Record<string, unknown>)[key];
        // As JSON.stringify: inherited keys and undefined or function values are left out.
        if (!Object.hasOwn(v, key) || item === undefined || typeof item === 'function') continue;
        out += `${first ? '' : ','}${JSON.stringify(key.length > limit ? key.slice(0, limit) : key)}:`;
        first = false;
        walk(item);
      }
      out += '}';
    } else out += String(v);
  };
  walk(value);
  return out;
}

/** No key, or a key that is not valid: answered 401 with `WWW-Authenticate: Bearer`. */
export class UnauthorizedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnauthorizedError';
  }
}

/** A valid key whose role does not allow the request: answered 403. */
export class ForbiddenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ForbiddenError';
  }
}

/** Too many requests for a key (or an address): answered 429 with `Retry-After`. */
export class RateLimitedError extends Error {
  constructor(readonly retryAfterSeconds: number, message: string) {
    super(message);
    this.name = 'RateLimitedError';
  }
}

/** The request would take a project over one of its quotas: answered 429, naming the quota, the usage and the limit. */
export class QuotaExceededError extends Error {
  constructor(readonly quota: string, message: string) {
    super(message);
    this.name = 'QuotaExceededError';
  }
}

/** The service is at capacity for this kind of work (e.g. every dataset preparation thread busy and its queue full): answered 503 with `Retry-After`. */
export class ServiceBusyError extends Error {
  constructor(readonly retryAfterSeconds: number, message: string) {
    super(message);
    this.name = 'ServiceBusyError';
  }
}
