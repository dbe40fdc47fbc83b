/**
 * The word tokenizer shared by training and prediction: lowercase, Unicode-aware,
 * no stemming, and the same output for the same text on every machine.
 */

// Runs of letters, combining marks and digits; an apostrophe joins two runs ("don't", "o'brien").
const WORD = /[\p{L}\p{M}\p{N}]+(?:['\u2019][\p{L}\p{M}\p{N}]+)*/gu;

/**
 * Splits `text` into lowercase words.
 * NFC first, so a precomposed and a decomposed "é" are one word; `toLowerCase` rather than
 * `toLocaleLowerCase`, so the result does not depend on the server's locale. Typographic
 * apostrophes become `'`, so "don’t" and "don't" are one word.
 */
export function tokenize(text: string): string[] {
  const words = text.normalize('NFC').toLowerCase().match(WORD);
  return words === null ? [] : words.map((word) => word.replaceAll('\u2019', "'"));
}
