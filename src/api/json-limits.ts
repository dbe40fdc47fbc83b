/**
 * Limits on the shape of a JSON request body, checked on its text in one linear pass before
 * it is parsed. Parsing is not the danger; what comes after is: a body nested 4,111 deep
 * overflowed the stack of every recursive walk over it (zod, error messages) and gave a 500
 * on every JSON route.
 */

/** Limits of {@link checkJsonLimits}. */
export interface JsonLimits {
  /** Deepest nesting of arrays and objects; `{"a": [1]}` is 2 deep. @defaultValue 64 */
  maxDepth: number;
  /** Most items of one array (a predict request's `instances`, or one flattened image). @defaultValue 1,000,000 */
  maxArrayLength: number;
  /** Most values in the whole body: array items and object members, at every depth. @defaultValue 10,000,000 */
  maxValues: number;
}

export const JSON_LIMITS: Readonly<JsonLimits> = { maxDepth: 64, maxArrayLength: 1_000_000, maxValues: 10_000_000 };

const n = (x: number) => x.toLocaleString('en-US');

// Character codes read by the scanner.
const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const OPEN_ARRAY = 91;
const CLOSE_ARRAY = 93;
const OPEN_OBJECT = 123;
const CLOSE_OBJECT = 125;

function isSpace(code: number): boolean {
  return code === 32 || code === 9 || code === 10 || code === 13;
}

/**
 * The rule `text` breaks, as a sentence fragment for a 400 on `body`, or null when it keeps
 * every limit. Malformed JSON is left to the parser: this only counts brackets and commas
 * outside strings, so its cost is one pass over the text and a stack of at most `maxDepth`.
 */
export function checkJsonLimits(text: string, limits: JsonLimits = JSON_LIMITS): string | null {
  // Per open container: whether it is an array, and how many items it has so far.
  const arrays: boolean[] = [];
  const items: number[] = [];
  let values = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === BACKSLASH) i++;
      else if (code === QUOTE) inString = false;
      continue;
    }
    if (isSpace(code)) continue;
    const top = items.length - 1;
    if (code === CLOSE_ARRAY || code === CLOSE_OBJECT) {
      arrays.pop();
      items.pop();
      continue;
    }
    if (code === COMMA) {
      if (top < 0) continue;
      items[top]! += 1;
      values += 1;
    } else if (top >= 0 && items[top] === 0) {
      // The first item of a container (any token that is not a closing bracket or a comma).
      items[top] = 1;
      values += 1;
    }
    if (top >= 0 && arrays[top] && items[top]! > limits.maxArrayLength) {
      return `has an array of more than ${n(limits.maxArrayLength)} items (at character ${n(i)}); the limit is ${n(limits.maxArrayLength)} per array`;
    }
    if (values > limits.maxValues) {
      return `has more than ${n(limits.maxValues)} values (array items and object members); the limit is ${n(limits.maxValues)}`;
    }
    if (code === QUOTE) inString = true;
    else if (code === OPEN_ARRAY || code === OPEN_OBJECT) {
      if (arrays.length >= limits.maxDepth) {
        return `is nested more than ${limits.maxDepth} levels deep (at character ${n(i)}); the limit is ${limits.maxDepth} levels of arrays and objects`;
      }
      arrays.push(code === OPEN_ARRAY);
      items.push(0);
    }
  }
  return null;
}
