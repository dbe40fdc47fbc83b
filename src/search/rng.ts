/**
 * Seeded random numbers for the search layer.
 *
 * Samplers never touch `Math.random`: the coordinator derives one stream per
 * (study seed, trial number) with {@link rngFor} and passes it in, so trial n's
 * suggestion is the same whether it is drawn first, last or again after a restart.
 */

/** A stream of pseudo-random numbers. Not cryptographically secure. */
export interface Rng {
  /** A float in [0, 1) with 53 bits of randomness. */
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
  const next = (): number => ((u32() >>> 5) * 67108864 + (u32() >>> 6)) / 9007199254740992;
  const int = (lo: number, hi: number): number => {
    if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hi) || lo > hi) {
      throw new RangeError(`Rng.int: need safe integers lo <= hi, got ${lo}, ${hi}`);
    }
    // With 53-bit floats the bias of floor(u * span) is below 2^-20 for any span we use.
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
