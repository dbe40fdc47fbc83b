/**
 * Seeded random numbers, the one Rng type of maas.
 *
 * Nothing that must be reproducible touches `Math.random`, which cannot be seeded. The search
 * layer derives one stream per (study seed, trial number) with {@link rngFor}, so trial n's
 * suggestion is the same whether it is drawn first, last or again after a restart. Data splits
 * and epoch orders use {@link mulberry32}.
 */

/** A stream of pseudo-random numbers. Not cryptographically secure. */
export interface Rng {
  /** A float in [0, 1): 53 bits of randomness from rngFor, 32 from mulberry32. */
  next(): number;
  /** An integer in [lo, hi], both ends included; both must be safe integers with lo <= hi. */
  int(lo: number, hi: number): number;
  /** A uniformly chosen element; throws a RangeError on an empty list. */
  pick<T>(xs: readonly T[]): T;
}

/**
 * An independent stream for `seed` and any number of stream ids (e.g. a trial number).
 * Equal arguments give equal streams; changing any argument, or their count, gives an
 * unrelated one. All arguments must be safe integers (negative ones are allowed).
 */
export function rngFor(seed: number, ...streams: number[]): Rng {
  const ids = [seed, ...streams];
  // Hashing the count in keeps rngFor(s) and rngFor(s, 0) apart.
  let h = mix32(0x243f6a88 ^ ids.length);
  for (const id of ids) {
    if (!Number.isSafeInteger(id)) {
      throw new RangeError(`rngFor: seed and stream ids must be safe integers, got ${id}`);
    }
    h = mix32((h ^ (id >>> 0)) + GOLDEN);
    h = mix32((h ^ (Math.floor(id / 2 ** 32) >>> 0)) + GOLDEN);
  }
  return fromGenerator(sfc32(h));
}

const GOLDEN = 0x9e3779b9;

/** The splitmix32 / murmur3 finalizer: a bijection on 32-bit words with full avalanche. */
function mix32(x: number): number {
  let z = x | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * sfc32 (Chris Doty-Humphrey's small fast counting generator): 128 bits of state, passes
 * PractRand, and the counter guarantees a period of at least 2^32 from any seed.
 */
function sfc32(seed: number): () => number {
  let s = seed;
  const split = (): number => {
    s = (s + GOLDEN) | 0;
    return mix32(s);
  };
  let a = split();
  let b = split();
  let c = split();
  let d = split();
  const step = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  // The first outputs still carry the structure of the seed words.
  for (let i = 0; i < 12; i++) step();
  return step;
}

function fromGenerator(u32: () => number): Rng {
  return withNext(() => ((u32() >>> 5) * 67108864 + (u32() >>> 6)) / 9007199254740992);
}

function withNext(next: () => number): Rng {
  const int = (lo: number, hi: number): number => {
    if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hi) || lo > hi) {
      throw new RangeError(`Rng.int: need safe integers lo <= hi, got ${lo}, ${hi}`);
    }
    // The bias of floor(u * span) is below span / 2^32 (2^-20 for spans up to 4,096), even at 32 bits.
    return Math.min(hi, lo + Math.floor(next() * (hi - lo + 1)));
  };
  return {
    next,
    int,
    pick<T>(xs: readonly T[]): T {
      if (xs.length === 0) throw new RangeError('Rng.pick: the list is empty');
      return xs[int(0, xs.length - 1)] as T;
    },
  };
}

/**
 * A mulberry32 stream whose `next()` is one 32-bit draw. Kept for data splits and epoch orders
 * because a dataset must split the same way on every worker, whatever its version: a study may
 * run on workers of two releases while an operator rolls one out. Seeds are taken modulo 2^32.
 */
export function mulberry32(seed: number): Rng {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return withNext(next);
}

/** Fisher–Yates shuffle in place; returns the same array for chaining. */
export function shuffleInPlace<T>(items: T[], rng: Rng): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    const tmp = items[i] as T;
    items[i] = items[j] as T;
    items[j] = tmp;
  }
  return items;
}

/** A uniformly random permutation of `0..n-1` as an index array (Fisher–Yates). */
export function permutation(n: number, rng: Rng): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    const tmp = order[i]!;
    order[i] = order[j]!;
    order[j] = tmp;
  }
  return order;
}
