/**
 * What crosses back from a preparation thread. A thrown class does not survive structured
 * clone (it arrives as a plain Error), so typed input errors travel as data and are rebuilt
 * here with the same status, field, value and rule.
 */
import { describe, PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError } from '../errors.ts';

/** A ValidationError (or subclass) as data. */
export interface WireValidationError {
  status: ValidationError['status'];
  field: string;
  value: unknown;
  rule: string;
}

export type WireResult<T> = { ok: true; value: T } | { ok: false; error: WireValidationError };

/** The error as data, when it is one the client caused; undefined for anything else (a bug, answered 500). */
export function toWire(error: unknown): WireValidationError | undefined {
  if (!(error instanceof ValidationError)) return undefined;
  return { status: error.status, field: error.field, value: cloneable(error.value), rule: error.rule };
}

export function fromWire(e: WireValidationError): ValidationError {
  if (e.status === 413) return new PayloadTooLargeError(e.field, e.value, e.rule);
  if (e.status === 415) return new UnsupportedMediaTypeError(e.field, e.value, e.rule);
  return new ValidationError(e.field, e.value, e.rule);
}

/** The value itself when structured clone can carry it, else how a message would show it. */
function cloneable(value: unknown): unknown {
  try {
    return structuredClone(value);
  } catch {
    return describe(value);
  }
}
