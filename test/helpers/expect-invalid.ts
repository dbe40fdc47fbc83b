import { expect } from 'vitest';
import { ValidationError } from '../../src/errors.ts';

/** Runs `fn`, expects a ValidationError on `field` whose message contains every fragment, and returns it. */
export function expectInvalid(fn: () => unknown, field: string, ...fragments: string[]): ValidationError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ValidationError);
  const error = caught as ValidationError;
  expect(error.field).toBe(field);
  for (const fragment of fragments) expect(error.message).toContain(fragment);
  return error;
}
