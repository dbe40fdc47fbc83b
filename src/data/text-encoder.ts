/**
 * Words to token ids. Training rows and predict instances both go through
 * `createTextEncoder`, so a text encodes identically at both ends.
 */
import { compareText } from './values.ts';

/** Token id 0: fills a sequence after the end of its text. */
export const PAD_TOKEN = '<pad>';
/** Token id 1: any word not in the vocabulary. */
export const OOV_TOKEN = '<oov>';
export const PAD_ID = 0;
export const OOV_ID = 1;
/** Most words a vocabulary keeps, besides `<pad>` and `<oov>`. */
export const MAX_VOCABULARY = 20_000;
/** Above this many distinct training words, words seen once are dropped (they are mostly typos and names). */
export const RARE_WORD_THRESHOLD = 5000;

/**
 * The vocabulary of `documents` (the training split, tokenized): `[<pad>, <oov>, ...words]`,
 * words by frequency (highest first) then alphabetically, at most `MAX_VOCABULARY` of them.
 * Index = token id.
 */
export function buildVocabulary(documents: Iterable<string[]>): string[] {
  const counts = new Map<string, number>();
  for (const words of documents) for (const word of words) counts.set(word, (counts.get(word) ?? 0) + 1);
  const minCount = counts.size > RARE_WORD_THRESHOLD ? 2 : 1;
  const words = [...counts]
    .filter(([, count]) => count >= minCount)
    .sort(([a, ca], [b, cb]) => cb - ca || compareText(a, b))
    .slice(0, MAX_VOCABULARY)
    .map(([word]) => word);
  return [PAD_TOKEN, OOV_TOKEN, ...words];
}

export interface TextEncoder {
  readonly sequenceLength: number;
  /**
   * Writes the ids of `words` to `out` at `offset`: the first `sequenceLength` words
   * (unknown ones as `OOV_ID`), then `PAD_ID` to the end. Returns how many words were cut off.
   */
  encode(words: readonly string[], out: Float32Array, offset: number): number;
}

export function createTextEncoder(vocabulary: readonly string[], sequenceLength: number): TextEncoder {
  // A Map, so a word such as "constructor" is never read off a prototype.
  const ids = new Map<string, number>();
  vocabulary.forEach((word, id) => {
    if (id > OOV_ID) ids.set(word, id);
  });
  return {
    sequenceLength,
    encode(words, out, offset) {
      const kept = Math.min(words.length, sequenceLength);
      for (let t = 0; t < kept; t++) out[offset + t] = ids.get(words[t] as string) ?? OOV_ID;
      out.fill(PAD_ID, offset + kept, offset + sequenceLength);
      return words.length - kept;
    },
  };
}
