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
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
